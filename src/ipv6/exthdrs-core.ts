/**
 * ipv6_skip_exthdr (net/ipv6/exthdrs_core.c): walks the extension headers after the fixed
 * IPv6 header to the upper-layer protocol, as conntrack does (ipv6_get_l4proto) to find its
 * L4 header. Hop-by-hop, routing and destination options are skipped by their length
 * ((hdrlen + 1) × 8), AH by its own ((hdrlen + 2) × 4); a fragment header is 8 bytes, and a
 * non-first fragment stops the walk there (its offset is returned). ESP and unknown headers are
 * not extension headers to it: the walk ends on them as the protocol. No next header (59) or a
 * chain that runs past the packet gives -1.
 */

export const NEXTHDR = { HOP: 0, TCP: 6, UDP: 17, ROUTING: 43, FRAGMENT: 44, ESP: 50, AUTH: 51, ICMP: 58, NONE: 59, DEST: 60 } as const;

/** ipv6_ext_hdr: the header types the walk goes through. */
function isExtHdr(nexthdr: number): boolean {
  return nexthdr === NEXTHDR.HOP || nexthdr === NEXTHDR.ROUTING || nexthdr === NEXTHDR.FRAGMENT || nexthdr === NEXTHDR.AUTH || nexthdr === NEXTHDR.NONE || nexthdr === NEXTHDR.DEST;
}

export interface SkipResult {
  /** Offset of the upper-layer header (or of a non-first fragment's fragment header); -1 when the chain cannot be walked. */
  readonly offset: number;
  /** The protocol found there (NEXTHDR_FRAGMENT for a non-first fragment). */
  readonly nexthdr: number;
  /** The fragment header's frag_off field (offset << 3 | M), 0 when there is none. */
  readonly fragOff: number;
}

/**
 * The length of the extension header `nexthdr` at `start` as both walks step over it: a
 * fragment header 8 bytes, AH (hdrlen + 2) × 4, the others (hdrlen + 1) × 8; -1 when it runs
 * past the packet, or for a non-first fragment's header (nothing after it is ours to read).
 */
function extHdrLen(data: Uint8Array, start: number, nexthdr: number): number {
  if (start + 2 > data.length) return -1;
  if (nexthdr === NEXTHDR.FRAGMENT) {
    if (start + 4 > data.length) return -1;
    return fragOffAt(data, start) & ~0x7 ? -1 : 8;
  }
  return nexthdr === NEXTHDR.AUTH ? (data[start + 1]! + 2) << 2 : (data[start + 1]! + 1) << 3;
}

/** A fragment header's frag_off field (offset << 3 | M). */
function fragOffAt(data: Uint8Array, start: number): number {
  return (data[start + 2]! << 8) | data[start + 3]!;
}

/** ipv6_skip_exthdr(skb, start, &nexthdr, &frag_off) on `data` (the packet from its IPv6 header). */
export function ipv6SkipExthdr(data: Uint8Array, start: number, nexthdr: number): SkipResult {
  let fragOff = 0;
  while (isExtHdr(nexthdr)) {
    if (nexthdr === NEXTHDR.NONE) return { offset: -1, nexthdr, fragOff };
    if (nexthdr === NEXTHDR.FRAGMENT && start + 4 <= data.length) fragOff = fragOffAt(data, start);
    const hdrlen = extHdrLen(data, start, nexthdr);
    if (hdrlen < 0) {
      // a non-first fragment ends the walk at its fragment header
      if (nexthdr === NEXTHDR.FRAGMENT && start + 4 <= data.length) break;
      return { offset: -1, nexthdr, fragOff };
    }
    nexthdr = data[start]!;
    start += hdrlen;
  }
  return { offset: start, nexthdr, fragOff };
}

/**
 * ipv6_find_hdr(skb, &offset, target, NULL, NULL) (net/ipv6/exthdrs_core.c): the offset of the
 * first extension header of type `target` in the chain after the fixed header, or -1 when the
 * chain ends (an upper-layer protocol, no next header, a non-first fragment) or runs past the
 * packet before it.
 */
export function ipv6FindHdr(data: Uint8Array, target: number): number {
  let start = 40;
  let nexthdr = data[6]!;
  while (nexthdr !== target) {
    if (!isExtHdr(nexthdr) || nexthdr === NEXTHDR.NONE) return -1;
    const hdrlen = extHdrLen(data, start, nexthdr);
    if (hdrlen < 0) return -1;
    nexthdr = data[start]!;
    start += hdrlen;
  }
  return start + 2 > data.length ? -1 : start;
}

/**
 * ipv6_find_hdr(skb, &thoff, -1, &fragoff, &flags) with IP6_FH_F_AUTH and thoff 0, as
 * nft_set_pktinfo_ipv6 calls it (include/net/netfilter/nf_tables_ipv6.h): the transport header
 * nf_tables sees. The walk ends on the first header that is not an extension header, on "no
 * next header" and on AH (IP6_FH_F_AUTH), whose offset and type it gives. A non-first fragment
 * gives the protocol its fragment header names and leaves the offset at 0 (ipv6_find_hdr
 * returns before it writes *offset); null where nf_tables finds none (nft_set_pktinfo_unspec):
 * a chain that runs past the packet, or a non-first fragment of another extension header.
 */
export function ipv6FindTransport(data: Uint8Array): { readonly offset: number; readonly proto: number } | null {
  let start = 40;
  let nexthdr = data[6]!;
  while (isExtHdr(nexthdr) && nexthdr !== NEXTHDR.NONE && nexthdr !== NEXTHDR.AUTH) {
    if (start + 2 > data.length) return null;
    if (nexthdr === NEXTHDR.FRAGMENT) {
      if (start + 4 > data.length) return null;
      if (fragOffAt(data, start) & ~0x7) {
        const next = data[start]!;
        return !isExtHdr(next) || next === NEXTHDR.NONE ? { offset: 0, proto: next } : null;
      }
    }
    const hdrlen = nexthdr === NEXTHDR.FRAGMENT ? 8 : (data[start + 1]! + 1) << 3;
    nexthdr = data[start]!;
    start += hdrlen;
  }
  return { offset: start, proto: nexthdr };
}
