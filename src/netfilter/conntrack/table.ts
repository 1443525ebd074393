/**
 * The conntrack hash table (nf_conntrack_hash): one index holds both directions of every
 * confirmed entry, each as a node (conntrack/tuplehash.ts: a direction of an entry's record in
 * the table's own tuple slab), the buckets as int32 heads and the chains threaded through the
 * records. Unconfirmed entries are not in it, so they are never found (nf_conntrack_find_get).
 * A tuple's bucket is reciprocal_scale(hash, nf_conntrack_buckets) as in the kernel, so that
 * early drop scans what the kernel would and a dump lists in the kernel's order for the hash
 * key (see hashTuple).
 */
import { Status, type Conn } from './conn.js';
import { Dir, hashTuple, hashTupleFields, packetDstU, tupleL3proto, type Tuple } from './tuple.js';
import { NO_NODE, ctNode, nodeDir, nodeRow, type CtNode } from './tuplehash.js';
import { ConnWord, connSlab, recordWord, tupleWord } from './conn-record.js';
import type { Slab } from './slab.js';
import type { L3Packet } from '../../packet/l3-packet.js';
import { reciprocalScale } from '../nat/jhash.js';

export class ConntrackTable {
  /** The records of this table's entries (conntrack/conn-record.ts): its nodes are in them. */
  readonly records: Slab = connSlab();
  private readonly heads: Int32Array;
  /** Bit b set when bucket b is not empty: a dump visits the used buckets, not all 262144. */
  private readonly used: Uint32Array;
  /** The entry of each record this table holds, by record number (null: none here). */
  private conns: (Conn | null)[] = [];
  private entries = 0;

  /** `size`: net.netfilter.nf_conntrack_buckets; `hashKey`: this boot's key (hashTuple). */
  constructor(
    readonly size: number,
    private readonly hashKey: number,
  ) {
    this.heads = new Int32Array(size); // all NO_NODE
    this.used = new Uint32Array((size + 31) >>> 5);
  }

  get count(): number {
    return this.entries;
  }

  /** The entry a node of this table belongs to (nf_ct_tuplehash_to_ctrack). */
  conn(node: CtNode): Conn {
    return this.conns[nodeRow(node)]!;
  }

  /** hash_conntrack: the bucket number of a tuple. */
  bucketIndex(t: Tuple): number {
    return reciprocalScale(hashTuple(this.hashKey, t), this.size);
  }

  /** The first node of bucket `index`, or NO_NODE. */
  head(index: number): CtNode {
    return this.heads[index]! as CtNode;
  }

  /** The node after `node` in its bucket, or NO_NODE. */
  next(node: CtNode): CtNode {
    return this.records.words[recordWord(nodeRow(node), ConnWord.Next + nodeDir(node))]! as CtNode;
  }

  /** The nodes of bucket `index`, newest first, as a list the caller may change the table under. */
  bucketAt(index: number): CtNode[] {
    const nodes: CtNode[] = [];
    for (let n = this.head(index); n !== NO_NODE; n = this.next(n)) nodes.push(n);
    return nodes;
  }

  /** ____nf_conntrack_find: the node whose tuple equals `t`, or NO_NODE. */
  find(t: Tuple): CtNode {
    return this.findFields(t.src, t.srcU, t.dst, t.dstU, t.proto);
  }

  /** The entry holding `t` in either direction, or null (nf_conntrack_find_get without the direction). */
  lookup(t: Tuple): Conn | null {
    const node = this.find(t);
    return node ? this.conn(node) : null;
  }

  /** find() of a packet's own tuple (tupleFromPacket) without building it: every packet's lookup. */
  findPacket(p: L3Packet): CtNode {
    return this.findFields(p.saddr, p.sport, p.daddr, packetDstU(p), p.proto);
  }

  private findFields(src: number, srcU: number, dst: number, dstU: number, proto: number): CtNode {
    const bucket = reciprocalScale(hashTupleFields(this.hashKey, src, srcU, dst, dstU, proto), this.size);
    // the record's words for these fields (no array: every packet's lookup comes here)
    const s = src | 0;
    const d = dst | 0;
    const ports = (srcU << 16) | dstU;
    const l3 = tupleL3proto(src, proto);
    const w = this.records.words;
    for (let n = this.heads[bucket]!; n !== NO_NODE; ) {
      const row = nodeRow(n as CtNode);
      const dir = nodeDir(n as CtNode);
      const at = tupleWord(row, dir, 0);
      if (w[at] === s && w[at + ConnWord.Dst] === d && w[at + ConnWord.Ports] === ports && w[recordWord(row, ConnWord.L3Proto)] === l3) return n as CtNode;
      n = w[recordWord(row, ConnWord.Next + dir)]!;
    }
    return NO_NODE;
  }

  /** __nf_conntrack_hash_insert: both directions. */
  insert(conn: Conn): void {
    this.hold(conn);
    this.add(conn, Dir.Original);
    this.add(conn, Dir.Reply);
  }

  /** The reply-only insertion of a clash loser (nf_ct_resolve_clash_harder). */
  insertReplyOnly(conn: Conn): void {
    this.hold(conn);
    this.add(conn, Dir.Reply);
  }

  /** Out of the table, if it is in it (both directions, or the reply only). */
  remove(conn: Conn): void {
    const row = conn.row;
    if (row < 0 || this.conns[row] !== conn) return;
    this.drop(conn, Dir.Original);
    this.drop(conn, Dir.Reply);
    this.conns[row] = null;
    this.entries--;
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
        for (let n = this.head(i); n !== NO_NODE; n = this.next(n)) {
          const conn = this.conn(n);
          if (nodeDir(n) === Dir.Original || conn.has(Status.NatClash)) all.push(conn);
        }
      }
    }
    yield* all;
  }

  /** Registers the entry of a record; the registry grows with the slab. */
  private hold(conn: Conn): void {
    const row = conn.row;
    if (row < 0) throw new Error(`bug: conntrack entry ${conn.id} inserted after it was freed`);
    if (!conn.isIn(this.records)) throw new Error(`bug: conntrack entry ${conn.id} inserted into another namespace's table`);
    while (this.conns.length <= row) this.conns.push(null);
    this.conns[row] = conn;
    this.entries++;
  }

  /** hlist_nulls_add_head_rcu: a new node goes first in its bucket. */
  private add(conn: Conn, dir: Dir): void {
    const key = this.bucketIndex(conn.tuple(dir));
    const node = ctNode(conn.row, dir);
    this.records.words[recordWord(conn.row, ConnWord.Next + dir)] = this.heads[key]!;
    this.heads[key] = node;
    this.used[key >>> 5] |= 1 << (key & 31);
  }

  private drop(conn: Conn, dir: Dir): void {
    const node = ctNode(conn.row, dir);
    const key = this.bucketIndex(conn.tuple(dir));
    let prev: CtNode = NO_NODE;
    for (let n = this.head(key); n !== NO_NODE; prev = n, n = this.next(n)) {
      if (n !== node) continue;
      const after = this.next(n);
      if (prev === NO_NODE) this.heads[key] = after;
      else this.records.words[recordWord(nodeRow(prev), ConnWord.Next + nodeDir(prev))] = after;
      if (this.heads[key] === NO_NODE) this.used[key >>> 5] &= ~(1 << (key & 31));
      return;
    }
  }
}
