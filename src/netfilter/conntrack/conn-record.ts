/**
 * struct nf_conn's fixed part in flat storage: one 80-byte record per entry in its conntrack
 * table's Slab (ConntrackTable.records) instead of an object's fields (issue 22: a JavaScript
 * object costs 8 bytes a field and a heap number per non-small timeout, so an entry's scalars
 * cost three times what they do here). The record holds both tuple hashes (ct->tuplehash[2],
 * whose table nodes are conntrack/tuplehash.ts) and the entry's status, use count, timeout,
 * mark, masq_index and id; the Conn object keeps only what points at other objects.
 *
 * Layout: bytes 0-7 the timeout and 8-15 the UDP stream timestamp as float64 (virtual ns, past
 * 2^32); then int32 words: for each direction d, at 4 + 3·d the source address, the destination
 * address, and the two 16-bit "manipulable" parts as srcU << 16 | dstU; at 10 the protocol and
 * family (tuple.ts tupleL3proto); at 11 + d the next node in direction d's bucket, or NO_NODE;
 * 13 status, 14 use, 15 expiry slot, 16 mark, 17 masq_index, 18 id, 19 the place in the expiry
 * slot's list (conntrack/expiry.ts).
 * Addresses are the u32 (or an IPv6 handle's low 32 bits: packet/ipv6-addr.ts) kept as int32.
 */
import { Slab } from './slab.js';
import type { Dir } from './tuple.js';

export const CONN_RECORD_BYTES = 80;
const STRIDE = CONN_RECORD_BYTES / 4;
const DOUBLES = CONN_RECORD_BYTES / 8;

/** Int32 word offsets in a record; a direction's tuple words are at Tuple + 3·dir + one of Src, Dst, Ports. */
export const enum ConnWord {
  Tuple = 4,
  Src = 0,
  Dst = 1,
  Ports = 2,
  L3Proto = 10,
  Next = 11,
  Status = 13,
  Use = 14,
  ExpirySlot = 15,
  Mark = 16,
  MasqIndex = 17,
  Id = 18,
  ExpiryIndex = 19,
}

/** Float64 offsets in a record. */
export const enum ConnDouble {
  Timeout = 0,
  UdpStreamTs = 1,
}

/** A slab of entry records: a conntrack table's (where its entries live until released), or a test's. */
export function connSlab(records = 1024): Slab {
  return new Slab(CONN_RECORD_BYTES, records);
}

/** The word index of direction `dir`'s tuple word `word` (Src, Dst, Ports) of record `row`. */
export function tupleWord(row: number, dir: Dir, word: number): number {
  return row * STRIDE + ConnWord.Tuple + 3 * dir + word;
}

/** The word index of a record's own word (L3Proto, Next + dir, Status, …). */
export function recordWord(row: number, word: number): number {
  return row * STRIDE + word;
}

/** The float64 index of a record's double. */
export function recordDouble(row: number, field: ConnDouble): number {
  return row * DOUBLES + field;
}
