/**
 * struct nf_conntrack_tuple_hash as a node of the conntrack table: one direction of one entry's
 * record (conntrack/conn-record.ts), whose bucket chains are threaded through the records
 * (hnnode), as the kernel threads its hlist_nulls through the entries.
 */
import type { Dir } from './tuple.js';

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
