/**
 * Internet checksums (RFC 1071) and the incremental updates the kernel's NAT uses
 * (RFC 1624, include/net/checksum.h csum_replace4 / inet_proto_csum_replace4), so that a
 * rewritten packet carries the same checksum Linux would compute.
 */

import { simdOnesSum } from './ones-sum.js';

/**
 * Ones-complement sum of bytes [start, end) folded to 16 bits, plus an initial sum. Every
 * received packet's payload is summed once (nf_checksum), so this is the replay's longest loop:
 * a payload is summed in WebAssembly SIMD (simdOnesSum), a header's few bytes byte by byte
 * (byteSum), as the copy into the module's memory and the call cost about what summing a
 * 20-byte header does (and every region without WebAssembly).
 */
export function onesSum(data: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial + (end - start < SIMD_FROM || simdOnesSum === null ? byteSum(data, start, end) : simdOnesSum(data, start, end));
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** The region length from which onesSum sums in WebAssembly rather than bytes. */
const SIMD_FROM = 64;

/**
 * The 16-bit words' sum, unfolded: the high and low bytes summed apart, eight bytes a turn, and
 * joined at the end (the sum of words is hi·256 + lo).
 */
function byteSum(data: Uint8Array, start: number, end: number): number {
  let hi = 0;
  let lo = 0;
  let i = start;
  for (; i + 7 < end; i += 8) {
    hi += data[i]! + data[i + 2]! + data[i + 4]! + data[i + 6]!;
    lo += data[i + 1]! + data[i + 3]! + data[i + 5]! + data[i + 7]!;
  }
  for (; i + 1 < end; i += 2) {
    hi += data[i]!;
    lo += data[i + 1]!;
  }
  if (i < end) hi += data[i]!;
  return hi * 256 + lo;
}

/** The checksum field value for a region: the complement of its ones-complement sum. */
export function checksum(data: Uint8Array, start: number, end: number, initial = 0): number {
  return ~onesSum(data, start, end, initial) & 0xffff;
}

/** Ones-complement sum of the IPv4 pseudo-header (saddr, daddr, protocol, L4 length). */
export function pseudoHeaderSum(saddr: number, daddr: number, proto: number, l4len: number): number {
  let sum = (saddr >>> 16) + (saddr & 0xffff) + (daddr >>> 16) + (daddr & 0xffff) + proto + l4len;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * New checksum after a 16-bit word changed from `from` to `to` (RFC 1624 eqn. 3:
 * HC' = ~(~HC + ~m + m')), as csum_replace2 does.
 */
export function csumReplace16(check: number, from: number, to: number): number {
  let sum = (~check & 0xffff) + (~from & 0xffff) + (to & 0xffff);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * New checksum after a 32-bit word changed (csum_replace4: ~csum_fold(~check - from + to)):
 * the word's two halves in one sum and one fold. That is what two 16-bit replacements give,
 * as an end-around-carry sum folds to the same value however its terms are grouped.
 */
export function csumReplace32(check: number, from: number, to: number): number {
  return csumApply(check, wordChange(from, to));
}

/**
 * A 32-bit word's change from `from` to `to` as csum_partial adds it into a checksum (the
 * `diff[] = { ~from, to }` of csum_replace4), unfolded: changes of several words add up and
 * are folded once, as inet_proto_csum_replace16 sums its eight words in one csum_partial.
 */
export function wordChange(from: number, to: number): number {
  return ((~from >>> 16) & 0xffff) + (~from & 0xffff) + (to >>> 16) + (to & 0xffff);
}

/** A checksum field after an unfolded change (wordChange, or their sum): ~csum_fold(~check + change). */
export function csumApply(check: number, change: number): number {
  return ~fold16((~check & 0xffff) + change) & 0xffff;
}

/** The same on a CHECKSUM_PARTIAL field (csumReplacePartial32): no complement on either side. */
export function csumApplyPartial(sum: number, change: number): number {
  return fold16(sum + change);
}

/** An unfolded sum (below 2^32) folded end-around to 16 bits, uncomplemented (never 0 for a sum above 0). */
export function fold16(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * The same replacement on a CHECKSUM_PARTIAL field, which holds the uncomplemented
 * pseudo-header sum the device completes later: inet_proto_csum_replace4 with pseudohdr
 * set computes ~csum_fold(csum_unfold(sum) - from + to), i.e. no complement on either side.
 */
export function csumReplacePartial32(sum: number, from: number, to: number): number {
  return csumApplyPartial(sum, wordChange(from, to));
}
