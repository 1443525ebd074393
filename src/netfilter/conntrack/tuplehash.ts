/**
 * struct nf_conntrack_tuple_hash, both of an entry's (ct->tuplehash[2]), in flat storage: one
 * 36-byte record per entry in its table's Slab instead of two objects (issue 22). The record is
 * also the entry's two nodes in the conntrack table, whose bucket chains are threaded through
 * the records (hnnode), as the kernel threads its hlist_nulls through the entries.
 *
 * Record layout (int32 words): for each direction d, at 3·d: the source address, the destination
 * address, and the two 16-bit "manipulable" parts as srcU << 16 | dstU; at 6 the protocol and
 * family (tuple.ts tupleL3proto); at 7 + d the next node in direction d's bucket, or NO_NODE.
 * Addresses are the u32 (or an IPv6 handle's low 32 bits: packet/ipv6-addr.ts) kept as int32.
 */
import { Slab } from './slab.js';
import type { Dir } from './tuple.js';

export const TUPLE_RECORD_BYTES = 36;
const STRIDE = TUPLE_RECORD_BYTES / 4;

/** Word offsets in a record; a direction's words are at 3·dir + one of Src, Dst, Ports. */
export const enum TupleWord {
  Src = 0,
  Dst = 1,
  Ports = 2,
  L3Proto = 6,
  Next = 7,
}

/** A slab of tuple records: a conntrack table's (where its entries' tuples live until released), or a test's. */
export function tupleSlab(records = 1024): Slab {
  return new Slab(TUPLE_RECORD_BYTES, records);
}

/**
 * A node of the conntrack table: one direction of one entry, numbered 2·(record + 1) + dir, so
 * that a bucket chain is a list of int32s. NO_NODE, 0, ends a chain and means "not found": a
 * zeroed record or bucket is empty, and `if (found)` reads as it did when nodes were objects.
 */
export type CtNode = number & { readonly __ctNode: unique symbol };
export const NO_NODE = 0 as CtNode;

export function ctNode(row: number, dir: Dir): CtNode {
  return (((row + 1) << 1) | dir) as CtNode;
}

/** The direction of the tuple a node is (ct->tuplehash[dir]: NF_CT_DIRECTION). */
export function nodeDir(node: CtNode): Dir {
  return (node & 1) as Dir;
}

/** The record a node is in. */
export function nodeRow(node: CtNode): number {
  return (node >> 1) - 1;
}

/** The word index of direction `dir`'s word `word` (Src, Dst, Ports) of record `row`. */
export function tupleWord(row: number, dir: Dir, word: number): number {
  return row * STRIDE + 3 * dir + word;
}

/** The word index of a record's own word (L3Proto, or Next + dir). */
export function recordWord(row: number, word: number): number {
  return row * STRIDE + word;
}
