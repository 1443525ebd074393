/**
 * The conntrack hash table (nf_conntrack_hash): one index holds both directions of every
 * confirmed entry, each as a (conn, dir) "tuplehash". Unconfirmed entries are not in it, so
 * they are never found (nf_conntrack_find_get). A tuple's bucket is reciprocal_scale(hash,
 * nf_conntrack_buckets) as in the kernel, so that early drop scans what the kernel would: the
 * kernel's hash is siphash with a boot-time random key, natsim's a fixed mix.
 */
import { Status, type Conn } from './conn.js';
import { Dir, hashTuple, type Tuple } from './tuple.js';
import { reciprocalScale } from '../nat/jhash.js';

export interface TupleHash {
  readonly conn: Conn;
  readonly dir: Dir;
}

export class ConntrackTable {
  private readonly buckets: (TupleHash[] | undefined)[];
  private entries = 0;

  /** `size`: net.netfilter.nf_conntrack_buckets. */
  constructor(readonly size: number) {
    // packed (not holey), so that walking it stays fast
    this.buckets = new Array<TupleHash[] | undefined>(size).fill(undefined);
  }

  get count(): number {
    return this.entries;
  }

  /** hash_conntrack: the bucket number of a tuple. */
  bucketIndex(t: Tuple): number {
    return reciprocalScale(hashTuple(t), this.size);
  }

  /** The bucket a tuple hashes to (empty when none): for lookups and for confirm's clash scan. */
  bucket(t: Tuple): readonly TupleHash[] {
    return this.bucketAt(this.bucketIndex(t));
  }

  bucketAt(index: number): readonly TupleHash[] {
    return this.buckets[index] ?? EMPTY;
  }

  /** ____nf_conntrack_find: the entry whose tuple of either direction equals `t`. */
  find(t: Tuple): TupleHash | null {
    for (const h of this.bucket(t)) {
      if (h.conn.tuple[h.dir].equals(t)) return h;
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
    let removed = false;
    for (const dir of [Dir.Original, Dir.Reply]) removed = this.drop(conn, dir) || removed;
    if (removed) this.entries--;
  }

  /**
   * Every confirmed connection once, in bucket order (the kernel's dump order differs: its hash
   * is keyed at boot): by its original-direction node, or its reply node for a reply-only entry.
   */
  *connections(): IterableIterator<Conn> {
    const all: Conn[] = [];
    this.forEachConn((ct) => void all.push(ct));
    yield* all;
  }

  /** The same walk as a plain loop, for the expiry scan's hot path. */
  forEachConn(visit: (ct: Conn) => void): void {
    const buckets = this.buckets;
    for (let i = 0; i < buckets.length; i++) {
      const bucket = buckets[i];
      if (bucket === undefined) continue;
      for (let j = 0; j < bucket.length; j++) {
        const h = bucket[j]!;
        if (h.dir === Dir.Original || h.conn.has(Status.NatClash)) visit(h.conn);
      }
    }
  }

  private add(conn: Conn, dir: Dir): void {
    const key = this.bucketIndex(conn.tuple[dir]);
    const bucket = this.buckets[key];
    const h: TupleHash = { conn, dir };
    if (bucket) bucket.push(h);
    else this.buckets[key] = [h];
  }

  private drop(conn: Conn, dir: Dir): boolean {
    const key = this.bucketIndex(conn.tuple[dir]);
    const bucket = this.buckets[key];
    if (!bucket) return false;
    const i = bucket.findIndex((h) => h.conn === conn && h.dir === dir);
    if (i < 0) return false;
    bucket.splice(i, 1);
    if (bucket.length === 0) this.buckets[key] = undefined;
    return true;
  }
}

const EMPTY: readonly TupleHash[] = [];
