/**
 * An IPv6 packet (struct ipv6hdr and what follows): the bytes plus a parsed view of the fields
 * conntrack and NAT look at (an InetPacket of family 6, packet/l3-packet.ts). The upper-layer
 * header is found as conntrack finds it (ipv6/exthdrs-core.ts ipv6SkipExthdr). Address setters
 * rewrite the bytes and fix the L4 checksum incrementally, as nf_nat_ipv6_manip_pkt and the L4
 * manip functions do: IPv6 has no header checksum, and the pseudo-header (RFC 8200 8.1) covers
 * the addresses for TCP, UDP and ICMPv6 alike. The functions below are the family-6 half of
 * InetPacket's methods.
 */
import { csumApply, csumApplyPartial, csumReplace16, fold16, onesSum, wordChange } from './checksum.js';
import { NEXTHDR } from '../ipv6/exthdrs-core.js';
import { ipv6Word } from './ipv6-addr.js';
import { InetPacket, type FamilyTyped, type Ipv4Only, type L3Packet, type PacketInternal, packetOf, readU16, writeU16, writeU32 } from './l3-packet.js';
import { IPPROTO } from '../netfilter/constants.js';
import { byteView } from '../byte-view.js';

/** The fixed header's length. */
export const IPV6_HDR_LEN = 40;

/** ICMPv6 types natsim knows by name (include/uapi/linux/icmpv6.h). */
export const ICMPV6 = {
  DEST_UNREACH: 1,
  PKT_TOOBIG: 2,
  TIME_EXCEED: 3,
  PARAMPROB: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  NDISC_ROUTER_SOLICITATION: 133,
  NDISC_ROUTER_ADVERTISEMENT: 134,
  NDISC_NEIGHBOUR_SOLICITATION: 135,
  NDISC_NEIGHBOUR_ADVERTISEMENT: 136,
  NDISC_REDIRECT: 137,
} as const;

/** IPV6_MIN_MTU (RFC 8200): the least MTU of an IPv6 link. */
export const IPV6_MIN_MTU = 1280;

/** Neighbour discovery option types (ND_OPT_*, include/net/ndisc.h). */
export const ND_OPT = { SOURCE_LL_ADDR: 1, TARGET_LL_ADDR: 2, REDIRECT_HDR: 4 } as const;

/** Why bytes could not be taken as an IPv6 packet. */
export type Ipv6NotHandled = 'not-ipv6' | 'truncated' | 'bad-payload-length';

/** An IPv6 packet: an InetPacket of family 6, without IPv4's members (nor addrSum, this file's own). */
export interface Ipv6Packet extends Omit<InetPacket, FamilyTyped | Ipv4Only | 'addrSum' | PacketInternal> {
  readonly family: 6;
  quotedPacket(): Ipv6Packet | Ipv6NotHandled;
  copy(): Ipv6Packet;
}

export const Ipv6Packet = {
  /**
   * Parses a copy of `bytes` as IPv6: version 6, the fixed header whole, and the payload length
   * within the bytes (bytes past it, link-layer padding, are cut off). A jumbogram (payload
   * length 0 with a hop-by-hop jumbo option) is not modelled and refused as a bad length.
   */
  decode(bytes: Uint8Array): Ipv6Packet | Ipv6NotHandled {
    return parse(bytes, true);
  },

  /** Parses `bytes` as decode() does, but takes them as its own, into `spare` if given (see Ipv4Packet.adopt). */
  adopt(bytes: Uint8Array, spare: L3Packet | null = null): Ipv6Packet | Ipv6NotHandled {
    return parse(bytes, false, spare);
  },
};

function parse(bytes: Uint8Array, copy: boolean, spare: L3Packet | null = null): Ipv6Packet | Ipv6NotHandled {
  if (bytes.length < 1 || bytes[0]! >> 4 !== 6) return bytes.length < 1 ? 'truncated' : 'not-ipv6';
  if (bytes.length < IPV6_HDR_LEN) return 'truncated';
  const total = IPV6_HDR_LEN + readU16(bytes, 4);
  if (total === IPV6_HDR_LEN && bytes.length > IPV6_HDR_LEN && bytes[6] === NEXTHDR.HOP) return 'bad-payload-length';
  if (bytes.length < total) return 'truncated';
  return packetOf(copy ? Uint8Array.prototype.slice.call(bytes, 0, total) : total === bytes.length ? bytes : byteView(bytes, 0, total), spare) as Ipv6Packet;
}

/** An echo request or reply: the types whose id is the tuple's key. */
export function ipv6IcmpIsEcho(p: InetPacket): boolean {
  const t = p.data[p.l4off]!;
  return t === ICMPV6.ECHO_REQUEST || t === ICMPV6.ECHO_REPLY;
}

/**
 * The IPv6 packet an ICMPv6 error quotes (after its 8-byte header), as a view sharing this
 * packet's bytes, so NAT of the quote rewrites the error in place. Needs the whole fixed
 * header; the payload length may claim more than was quoted.
 */
export function ipv6QuotedPacket(p: InetPacket): Ipv6Packet | Ipv6NotHandled {
  const bytes = p.data.subarray(p.l4off + 8);
  if (bytes.length < 1 || bytes[0]! >> 4 !== 6) return bytes.length < 1 ? 'truncated' : 'not-ipv6';
  if (bytes.length < IPV6_HDR_LEN) return 'truncated';
  return new InetPacket(bytes, true) as Ipv6Packet;
}

/**
 * True when the L4 checksum verifies over the pseudo-header (UDP's 0 is not allowed over IPv6,
 * RFC 8200 8.1) — or, for a CHECKSUM_PARTIAL packet, equals the pseudo-header sum.
 */
export function ipv6ChecksumsValid(p: InetPacket): boolean {
  const check = checksumOffset(p);
  if (check < 0) return true;
  if (p.csumPartial) return readU16(p.data, check) === pseudoSum(p);
  return onesSum(p.data, p.l4off, p.data.length, pseudoSum(p)) === 0xffff;
}

/**
 * nf_ip6_checksum on a packet with CHECKSUM_NONE: a TCP, UDP or ICMPv6 checksum that does not
 * verify over the pseudo-header. A partial checksum, a quoted packet and a fragment are not checked.
 */
export function ipv6L4ChecksumBad(p: InetPacket): boolean {
  return checksumOffset(p) >= 0 && !p.csumPartial && !p.embedded && p.fragOff === 0 && !ipv6ChecksumsValid(p);
}

/**
 * Computes the TCP, UDP or ICMPv6 checksum afresh over the pseudo-header (a UDP 0 sent as
 * 0xffff): fillL4Checksum, and refreshIcmpChecksum after NAT of a quoted packet.
 */
export function ipv6FillL4Checksum(p: InetPacket): void {
  const at = checksumOffset(p);
  if (at < 0) return;
  writeU16(p.data, at, 0);
  writeU16(p.data, at, mangled(p, ~onesSum(p.data, p.l4off, p.data.length, pseudoSum(p)) & 0xffff));
}

/** csum_ipv6_magic's sum: both addresses (addrSum), the upper-layer length and the protocol. */
function pseudoSum(p: InetPacket): number {
  return fold16(p.addrSum + p.data.length - p.l4off + p.proto);
}

/** Offset of the L4 checksum, or -1 when there is none natsim keeps (or the header is not all there). */
function checksumOffset(p: InetPacket): number {
  let rel: number;
  switch (p.proto) {
    case IPPROTO.TCP:
      rel = 16;
      break;
    case IPPROTO.UDP:
      rel = 6;
      break;
    case IPPROTO.ICMPV6:
      rel = 2;
      break;
    default:
      return -1;
  }
  const at = p.l4off + rel;
  return at + 2 <= p.data.length ? at : -1;
}

/** A TCP/UDP checksum that does not verify but equals the pseudo-header sum is a partial one (see InetPacket.csumPartial). */
export function ipv6LooksPartial(p: InetPacket): boolean {
  if (p.proto !== IPPROTO.TCP && p.proto !== IPPROTO.UDP) return false;
  const check = checksumOffset(p);
  return check >= 0 && readU16(p.data, check) === pseudoSum(p) && !ipv6ChecksumsValid(p);
}

/**
 * inet_proto_csum_replace16: the address's four words replaced in the L4 checksum, their
 * changes summed and folded once (in a CHECKSUM_PARTIAL one, uncomplemented, as
 * csumReplacePartial32 says).
 */
export function ipv6RewriteAddr(p: InetPacket, at: number, from: number, to: number): void {
  const d = p.data;
  let change = 0;
  for (let i = 0; i < 4; i++) {
    const b = ipv6Word(to, i);
    change += wordChange(ipv6Word(from, i), b);
    writeU32(d, at + 4 * i, b);
  }
  // the pseudo-header's part moves as an uncomplemented sum does (csumReplacePartial32)
  p.addrSum = csumApplyPartial(p.addrSum, change);
  const check = checksumOffset(p);
  if (check < 0) return;
  const sum = readU16(d, check);
  writeU16(d, check, mangled(p, p.csumPartial ? csumApplyPartial(sum, change) : csumApply(sum, change)));
}

/** A port (or for ICMPv6 the echo id) at `rel` in the L4 header; a partial checksum does not cover it. */
export function ipv6RewriteL4Word(p: InetPacket, rel: number, from: number, to: number): void {
  const d = p.data;
  writeU16(d, p.l4off + rel, to);
  const check = checksumOffset(p);
  if (check < 0 || p.csumPartial) return;
  writeU16(d, check, mangled(p, csumReplace16(readU16(d, check), from, to)));
}

/** CSUM_MANGLED_0: a UDP checksum that comes out 0 is sent as 0xffff (0 would mean none). */
function mangled(p: InetPacket, sum: number): number {
  return p.proto === IPPROTO.UDP && sum === 0 ? 0xffff : sum;
}
