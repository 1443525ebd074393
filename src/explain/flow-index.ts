/**
 * The original tuples a run met, numbered in the order met, and how many entries each had that
 * are gone: a flow is a tuple's number and its `life` (a port reused after its entry died is a
 * new flow). `natsim diff` tells some 80,000 flows apart per run; numbering them here, in typed
 * arrays found by the tuple's fields, builds no key text per flow and leaves the garbage
 * collector nothing to trace however many flows a run has.
 */
import { hashTupleFields, Tuple } from '../netfilter/conntrack/tuple.js';
import { handleFrom } from '../packet/ipv6-addr.js';

/** Numbers a tuple is stored as: src, srcU, dst, dstU, proto (the address an IPv4 number or an IPv6 handle). */
export const TUPLE_FIELDS = 5;
const FIELDS = TUPLE_FIELDS;
const INITIAL_TUPLES = 1024;

/** A flow as one number: its tuple's and its life (below 2^21, as no tuple is used two million times). */
export function flowKey(tuple: number, life: number): number {
  return tuple + life * 2 ** 32;
}

/** The tuple numbered `id` in a run's TupleIndex.columns(). */
export function columnsTuple(columns: Float64Array, id: number): Tuple {
  const at = id * FIELDS;
  return new Tuple(columns[at]!, columns[at + 1]!, columns[at + 2]!, columns[at + 3]!, columns[at + 4]!);
}

/**
 * Tuples stored as TUPLE_FIELDS numbers, made in the thread whose interned IPv6 addresses are
 * `table`, renumbered in place to this thread's handles (diff's changed run is replayed in a
 * worker, which meets the addresses in its own order: a changed ruleset may name one more).
 */
export function rehandleColumns(columns: Float64Array, table: Uint32Array): void {
  for (let at = 0; at < columns.length; at += FIELDS) {
    columns[at] = handleFrom(table, columns[at]!);
    columns[at + 2] = handleFrom(table, columns[at + 2]!);
  }
}

export class TupleIndex {
  /** Each tuple's FIELDS numbers, by its number. */
  private fields = new Float64Array(INITIAL_TUPLES * FIELDS);
  /** Entries of each tuple that are gone. */
  private deaths = new Int32Array(INITIAL_TUPLES);
  /** Open addressing: a tuple's number + 1 in the slot its hash leads to, or 0. */
  private slots = new Int32Array(INITIAL_TUPLES * 2);
  size = 0;

  /** The tuple's number, given it if it is new. */
  idOf(t: Tuple): number {
    return this.idOfFields(t.src, t.srcU, t.dst, t.dstU, t.proto);
  }

  idOfFields(src: number, srcU: number, dst: number, dstU: number, proto: number): number {
    const mask = this.slots.length - 1;
    for (let s = hashTupleFields(0, src, srcU, dst, dstU, proto) & mask; ; s = (s + 1) & mask) {
      const held = this.slots[s]! - 1;
      if (held < 0) return this.add(s, src, srcU, dst, dstU, proto);
      if (this.holds(held, src, srcU, dst, dstU, proto)) return held;
    }
  }

  /** The flow the tuple's live entry (or its next) is: the tuple and the entries it had before. */
  life(id: number): number {
    return this.deaths[id]!;
  }

  /** The tuple's entry is gone: its next is a new flow. */
  died(id: number): void {
    this.deaths[id]!++;
  }

  /** The tuples' numbers, FIELDS a tuple, as plain data (diff's worker sends them). */
  columns(): Float64Array {
    return this.fields.slice(0, this.size * FIELDS);
  }

  /** The numbers another run's tuples (its columns()) have here; those new here are given one. */
  numbering(columns: Float64Array): Int32Array {
    const ids = new Int32Array(columns.length / FIELDS);
    for (let id = 0; id < ids.length; id++) {
      const at = id * FIELDS;
      ids[id] = this.idOfFields(columns[at]!, columns[at + 1]!, columns[at + 2]!, columns[at + 3]!, columns[at + 4]!);
    }
    return ids;
  }

  private holds(id: number, src: number, srcU: number, dst: number, dstU: number, proto: number): boolean {
    const f = this.fields;
    const at = id * FIELDS;
    return f[at] === src && f[at + 1] === srcU && f[at + 2] === dst && f[at + 3] === dstU && f[at + 4] === proto;
  }

  private add(slot: number, src: number, srcU: number, dst: number, dstU: number, proto: number): number {
    const id = this.size++;
    if (id * FIELDS === this.fields.length) this.growColumns();
    const f = this.fields;
    const at = id * FIELDS;
    f[at] = src;
    f[at + 1] = srcU;
    f[at + 2] = dst;
    f[at + 3] = dstU;
    f[at + 4] = proto;
    this.slots[slot] = id + 1;
    // at half full the probes stay short: rehash into twice the slots
    if (this.size * 2 > this.slots.length) this.rehash();
    return id;
  }

  private growColumns(): void {
    const fields = new Float64Array(this.fields.length * 2);
    fields.set(this.fields);
    this.fields = fields;
    const deaths = new Int32Array(this.deaths.length * 2);
    deaths.set(this.deaths);
    this.deaths = deaths;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    const mask = this.slots.length - 1;
    const f = this.fields;
    for (let id = 0; id < this.size; id++) {
      const at = id * FIELDS;
      let s = hashTupleFields(0, f[at]!, f[at + 1]!, f[at + 2]!, f[at + 3]!, f[at + 4]!) & mask;
      while (this.slots[s] !== 0) s = (s + 1) & mask;
      this.slots[s] = id + 1;
    }
  }
}
