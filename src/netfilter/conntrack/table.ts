/**
 * The conntrack hash table (nf_conntrack_hash): one index holds both directions of every
 * confirmed entry, each as a (conn, dir) "tuplehash". Unconfirmed entries are not in it, so
 * they are never found (nf_conntrack_find_get). A tuple's bucket is reciprocal_scale(hash,
 * nf_conntrack_buckets) as in the kernel, so that early drop scans what the kernel would and a
 * dump lists in the kernel's order for the hash key (see hashTuple).
 */
import { Status, type Conn } from './conn.js';
import { Dir, hashTuple, hashTupleFields, packetDstU, type Tuple, type TupleHash } from './tuple.js';
import type { L3Packet } from '../../packet/l3-packet.js';
import { reciprocalScale } from '../nat/jhash.js';

export class ConntrackTable {
  private readonly heads: (TupleHash | null)[];
  /** Bit b set when bucket b is not empty: a dump visits the used buckets, not all 262144. */
  private readonly used: Uint32Array;
  private entries = 0;

  /** `size`: net.netfilter.nf_conntrack_buckets; `hashKey`: this boot's key (hashTuple). */
  constructor(
    readonly size: number,
    private readonly hashKey: number,
  ) {
    // packed (not holey), so that walking it stays fast
    this.heads = new Array<TupleHash | null>(size).fill(null);
    this.used = new Uint32Array((size + 31) >>> 5);
  }

  get count(): number {
    return this.entries;
  }

  /** hash_conntrack: the bucket number of a tuple. */
  bucketIndex(t: Tuple): number {
    return reciprocalScale(hashTuple(this.hashKey, t), this.size);
  }

  /** The nodes of the bucket a tuple hashes to, as a list (for confirm's and NAT's scans). */
  bucket(t: Tuple): TupleHash[] {
    return this.bucketAt(this.bucketIndex(t));
  }

  /** The nodes of bucket `index`, newest first, as a list the caller may change the table under. */
  bucketAt(index: number): TupleHash[] {
    const nodes: TupleHash[] = [];
    for (let h: TupleHash | null = this.heads[index]!; h !== null; h = h.next) nodes.push(h);
    return nodes;
  }

  /** ____nf_conntrack_find: the entry whose tuple of either direction equals `t`. */
  find(t: Tuple): TupleHash | null {
    return this.findFields(t.src, t.srcU, t.dst, t.dstU, t.proto);
  }

  /** find() of a packet's own tuple (tupleFromPacket) without building it: every packet's lookup. */
  findPacket(p: L3Packet): TupleHash | null {
    return this.findFields(p.saddr, p.sport, p.daddr, packetDstU(p), p.proto);
  }

  private findFields(src: number, srcU: number, dst: number, dstU: number, proto: number): TupleHash | null {
    const bucket = reciprocalScale(hashTupleFields(this.hashKey, src, srcU, dst, dstU, proto), this.size);
    for (let h: TupleHash | null = this.heads[bucket]!; h !== null; h = h.next) {
      if (h.equalsFields(src, srcU, dst, dstU, proto)) return h;
    }
    return null;
  }

  /** __nf_conntrack_hash_insert: both directions. */
  insert(conn: Conn): void {
    this.add(conn, Dir.Original);
    this.add(conn, Dir.Reply);
    this.entries++;
  }

  /** The reply-only insertion of a clash loser (nf_ct_resolve_clash_harder). */
  insertReplyOnly(conn: Conn): void {
    this.add(conn, Dir.Reply);
    this.entries++;
  }

  remove(conn: Conn): void {
    const original = this.drop(conn, Dir.Original);
    const reply = this.drop(conn, Dir.Reply);
    if (original || reply) this.entries--;
  }

  /**
   * Every confirmed connection once, in bucket order and newest first within a bucket — the
   * order ctnetlink_dump_table gives conntrack -L: by its original-direction node, or its reply
   * node for a reply-only entry (which a dump skips: the caller filters NAT_CLASH).
   */
  *connections(): IterableIterator<Conn> {
    const all: Conn[] = [];
    const used = this.used;
    for (let word = 0; word < used.length; word++) {
      // the word's buckets in ascending order, lowest set bit first
      for (let bits = used[word]!; bits !== 0; bits &= bits - 1) {
        const i = (word << 5) + 31 - Math.clz32(bits & -bits);
        for (let h: TupleHash | null = this.heads[i]!; h !== null; h = h.next) {
          if (h.dir === Dir.Original || h.conn.has(Status.NatClash)) all.push(h.conn);
        }
      }
    }
    yield* all;
  }

  /** hlist_nulls_add_head_rcu: a new node goes first in its bucket. */
  private add(conn: Conn, dir: Dir): void {
    const h = conn.tuple(dir);
    const key = this.bucketIndex(h);
    h.next = this.heads[key]!;
    this.heads[key] = h;
    this.used[key >>> 5] |= 1 << (key & 31);
  }

  private drop(conn: Conn, dir: Dir): boolean {
    const node = conn.tuple(dir);
    const key = this.bucketIndex(node);
    let prev: TupleHash | null = null;
    for (let h: TupleHash | null = this.heads[key]!; h !== null; prev = h, h = h.next) {
      if (h !== node) continue;
      if (prev === null) this.heads[key] = h.next;
      else prev.next = h.next;
      h.next = null;
      if (this.heads[key] === null) this.used[key >>> 5] &= ~(1 << (key & 31));
      return true;
    }
    return false;
  }
}
