/**
 * A flow's fate, as `natsim diff` compares two runs: where its first packet went (forwarded,
 * delivered locally, or dropped and where), the tuple NAT gave it, and why it failed if it did.
 *
 * A run keeps its fates as columns of numbers, one row per flow (a 1M-packet capture has some
 * 80,000 flows, of which a what-if usually changes a handful): no object per flow for the
 * garbage collector to trace, and plain data that crosses to diff's worker thread without a
 * copy. Only the flows whose fate changed are turned into FlowFates.
 */
import { Tuple } from '../netfilter/conntrack/tuple.js';
import type { CauseKind, FlowTuple } from './finding.js';
import { flowTuple } from './flow-tuple.js';
import { TUPLE_FIELDS } from './flow-index.js';

export type FateKind = 'forwarded' | 'local' | 'dropped';
const FATE_KINDS: readonly FateKind[] = ['forwarded', 'local', 'dropped'];

export interface FlowFate {
  readonly fate: FateKind;
  /** The hook that confirmed its entry, or where it was dropped (hook and kernel function). */
  readonly where: string;
  /** Why it did not complete (explain's cause), or null when it did. */
  readonly reason: CauseKind | null;
  /** The tuple as the peer sees it after NAT (null when dropped before NAT decided). */
  readonly translated: FlowTuple | null;
  /** Packets of it that died. */
  readonly dropped: number;
}

/** A row's whole numbers: its flow (the run's tuple number and life), then its fate. */
const enum Col {
  Tuple,
  Life,
  Kind,
  /** `where`, as an index into the table's names. */
  Where,
  /** The cause's name index, or NONE. */
  Reason,
  Dropped,
  Count,
}
const NONE = -1;
const INITIAL_ROWS = 1024;

/** A fate table as plain data (typed arrays and strings), for postMessage. */
export interface FateColumns {
  readonly rows: number;
  readonly ints: Int32Array;
  /** The translated tuple's TUPLE_FIELDS numbers per row (src NaN: none). */
  readonly translated: Float64Array;
  readonly names: readonly string[];
}

export class FateTable {
  private ints: Int32Array;
  private translated: Float64Array;
  private readonly names: string[];
  private readonly nameIds = new Map<string, number>();
  rows: number;

  constructor(data: FateColumns = { rows: 0, ints: new Int32Array(INITIAL_ROWS * Col.Count), translated: new Float64Array(INITIAL_ROWS * TUPLE_FIELDS), names: [] }) {
    this.rows = data.rows;
    this.ints = data.ints;
    this.translated = data.translated;
    this.names = [...data.names];
    this.names.forEach((n, i) => this.nameIds.set(n, i));
  }

  /** A new row for the flow (tuple number, life); fill it with `set`. */
  add(tuple: number, life: number): number {
    if (this.rows * Col.Count === this.ints.length) this.grow();
    const row = this.rows++;
    this.ints[row * Col.Count + Col.Tuple] = tuple;
    this.ints[row * Col.Count + Col.Life] = life;
    return row;
  }

  /** The row's fate, from scratch: no reason yet. */
  set(row: number, fate: FateKind, where: string, translated: Tuple | null, dropped: number): void {
    const at = row * Col.Count;
    this.ints[at + Col.Kind] = FATE_KINDS.indexOf(fate);
    this.ints[at + Col.Where] = this.nameId(where);
    this.ints[at + Col.Reason] = NONE;
    this.ints[at + Col.Dropped] = dropped;
    const t = row * TUPLE_FIELDS;
    if (translated === null) {
      this.translated[t] = NaN;
      return;
    }
    this.translated[t] = translated.src;
    this.translated[t + 1] = translated.srcU;
    this.translated[t + 2] = translated.dst;
    this.translated[t + 3] = translated.dstU;
    this.translated[t + 4] = translated.proto;
  }

  /** Another packet of the row's flow died. */
  addDropped(row: number): void {
    this.ints[row * Col.Count + Col.Dropped]!++;
  }

  setReason(row: number, reason: CauseKind): void {
    this.ints[row * Col.Count + Col.Reason] = this.nameId(reason);
  }

  tuple(row: number): number {
    return this.ints[row * Col.Count + Col.Tuple]!;
  }

  life(row: number): number {
    return this.ints[row * Col.Count + Col.Life]!;
  }

  /** Whether this row's fate and `o`'s row of `other` are the same in every part a FlowFate has. */
  sameFate(row: number, other: FateTable, o: number): boolean {
    const a = row * Col.Count;
    const b = o * Col.Count;
    if (this.ints[a + Col.Kind] !== other.ints[b + Col.Kind] || this.ints[a + Col.Dropped] !== other.ints[b + Col.Dropped]) return false;
    if (this.name(this.ints[a + Col.Where]!) !== other.name(other.ints[b + Col.Where]!) || this.name(this.ints[a + Col.Reason]!) !== other.name(other.ints[b + Col.Reason]!)) return false;
    const t = row * TUPLE_FIELDS;
    const u = o * TUPLE_FIELDS;
    const none = Number.isNaN(this.translated[t]!);
    if (none || Number.isNaN(other.translated[u]!)) return none && Number.isNaN(other.translated[u]!);
    for (let i = 0; i < TUPLE_FIELDS; i++) if (this.translated[t + i] !== other.translated[u + i]) return false;
    return true;
  }

  fate(row: number): FlowFate {
    const at = row * Col.Count;
    const t = row * TUPLE_FIELDS;
    const tr = this.translated;
    return {
      fate: FATE_KINDS[this.ints[at + Col.Kind]!]!,
      where: this.name(this.ints[at + Col.Where]!)!,
      reason: this.name(this.ints[at + Col.Reason]!) as CauseKind | null,
      translated: Number.isNaN(tr[t]!) ? null : flowTuple(new Tuple(tr[t]!, tr[t + 1]!, tr[t + 2]!, tr[t + 3]!, tr[t + 4]!)),
      dropped: this.ints[at + Col.Dropped]!,
    };
  }

  /** The table as plain data, trimmed to its rows. */
  columns(): FateColumns {
    return { rows: this.rows, ints: this.ints.slice(0, this.rows * Col.Count), translated: this.translated.slice(0, this.rows * TUPLE_FIELDS), names: this.names };
  }

  private name(id: number): string | null {
    return id === NONE ? null : this.names[id]!;
  }

  private nameId(name: string): number {
    let id = this.nameIds.get(name);
    if (id === undefined) {
      id = this.names.push(name) - 1;
      this.nameIds.set(name, id);
    }
    return id;
  }

  private grow(): void {
    const rows = Math.max(INITIAL_ROWS, this.rows * 2);
    const ints = new Int32Array(rows * Col.Count);
    ints.set(this.ints);
    this.ints = ints;
    const translated = new Float64Array(rows * TUPLE_FIELDS);
    translated.set(this.translated);
    this.translated = translated;
  }
}
