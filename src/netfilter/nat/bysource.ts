/**
 * The NAT "bysource" hash (nf_nat_bysource): source-NATed connections by their original
 * source (address, port or id, protocol), so that a source keeps its mapping across
 * destinations (find_appropriate_src). As in the kernel, each bucket is a list threaded through
 * the entries themselves (ct->nat_bysource, here Conn.bysourceNext), newest first
 * (hlist_add_head_rcu), and the table has as many buckets as conntrack's
 * (nf_nat_htable_size = nf_conntrack_htable_size). Entries leave it when their connection is
 * destroyed. The kernel hashes with a boot-time random key; natsim with a fixed mix.
 */
import type { Conn } from '../conntrack/conn.js';
import { Dir, type Tuple } from '../conntrack/tuple.js';
import { reciprocalScale } from './jhash.js';

export class BySource {
  private readonly heads: (Conn | null)[];

  constructor(size: number) {
    this.heads = new Array<Conn | null>(size).fill(null);
  }

  add(conn: Conn): void {
    const b = this.bucketOfConn(conn);
    conn.bysourceNext = this.heads[b]!;
    this.heads[b] = conn;
  }

  /** Unlinks `conn` if it is in the index (nf_nat_cleanup_conntrack); a no-op otherwise. */
  remove(conn: Conn): void {
    const b = this.bucketOfConn(conn);
    let prev: Conn | null = null;
    for (let c: Conn | null = this.heads[b]!; c !== null; prev = c, c = c.bysourceNext) {
      if (c !== conn) continue;
      if (prev === null) this.heads[b] = c.bysourceNext;
      else prev.bysourceNext = c.bysourceNext;
      conn.bysourceNext = null;
      return;
    }
  }

  /**
   * The newest connection whose original source matches `t`'s (same_src), or null; with
   * nextSameSource, the walk of find_appropriate_src's hlist_for_each_entry_rcu over the bucket.
   */
  firstSameSource(t: Tuple): Conn | null {
    return sameSourceFrom(this.heads[this.bucketOf(t.src, t.srcU, t.proto)]!, t);
  }

  /** The next connection after `c` in its bucket whose original source matches `t`'s, or null. */
  nextSameSource(c: Conn, t: Tuple): Conn | null {
    return sameSourceFrom(c.bysourceNext, t);
  }

  private bucketOfConn(conn: Conn): number {
    return this.bucketOf(conn.src(Dir.Original), conn.srcU(Dir.Original), conn.proto);
  }

  /** hash_by_src: the source address, port (or id) and protocol. */
  private bucketOf(src: number, srcU: number, proto: number): number {
    let h = Math.imul(src ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13) ^ srcU, 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 16) ^ proto, 0x27d4eb2f);
    return reciprocalScale((h ^ (h >>> 15)) >>> 0, this.heads.length);
  }
}

/** The first connection from `c` on along its bucket whose original source matches `t`'s (same_src). */
function sameSourceFrom(c: Conn | null, t: Tuple): Conn | null {
  for (; c !== null; c = c.bysourceNext) {
    if (c.proto === t.proto && c.src(Dir.Original) === t.src && c.srcU(Dir.Original) === t.srcU) return c;
  }
  return null;
}
