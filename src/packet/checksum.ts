/**
 * Internet checksums (RFC 1071) and the incremental updates the kernel's NAT uses
 * (RFC 1624, include/net/checksum.h csum_replace4 / inet_proto_csum_replace4), so that a
 * rewritten packet carries the same checksum Linux would compute.
 */

/**
 * Ones-complement sum of bytes [start, end) folded to 16 bits, plus an initial sum. The high
 * and low bytes of the 16-bit words are summed apart, eight bytes a turn, and joined at the
 * end (the sum of words is hi·256 + lo): every received packet's payload is summed once
 * (nf_checksum), so this is the replay's longest loop.
 */
export function onesSum(data: Uint8Array, start: number, end: number, initial = 0): number {
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
  let sum = initial + hi * 256 + lo;
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
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

/** New checksum after a 32-bit word changed (csum_replace4): two 16-bit replacements. */
export function csumReplace32(check: number, from: number, to: number): number {
  return csumReplace16(csumReplace16(check, from >>> 16, to >>> 16), from & 0xffff, to & 0xffff);
}

/**
 * The same replacement on a CHECKSUM_PARTIAL field, which holds the uncomplemented
 * pseudo-header sum the device completes later: inet_proto_csum_replace4 with pseudohdr
 * set computes ~csum_fold(csum_unfold(sum) - from + to), i.e. no complement on either side.
 */
export function csumReplacePartial32(sum: number, from: number, to: number): number {
  let s = sum + (~from >>> 16 & 0xffff) + (~from & 0xffff) + (to >>> 16) + (to & 0xffff);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}
