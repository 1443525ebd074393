/**
 * An IPv4 datagram: the bytes plus a parsed view of the fields netfilter looks at (an
 * InetPacket of family 4, packet/l3-packet.ts). Setters rewrite the bytes and fix the IP and L4
 * checksums incrementally, as the kernel's NAT manipulation (nf_nat_ipv4_manip_pkt,
 * nf_nat_{tcp,udp,icmp}_manip) does: the functions below are the family-4 half of InetPacket's
 * methods.
 */
import { checksum, csumReplace16, csumReplace32, csumReplacePartial32, pseudoHeaderSum, onesSum } from './checksum.js';
import { IPPROTO } from '../netfilter/constants.js';
import { InetPacket, type FamilyTyped, type Ipv6Only, type L3Packet, type PacketInternal, packetOf, readU16, readU32, writeU16, writeU32 } from './l3-packet.js';
import { byteView } from '../byte-view.js';

export { readU16, readU32, writeU16, writeU32 };


/** The fragment offset bits of frag_off (in 8-byte units). */
export const IP_OFFSET = 0x1fff;

/** TCP flag bits as in the header's 13th byte. */
export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;

/** Why a frame could not be taken as an IPv4 packet natsim handles. */
export type NotHandled =
  | 'ipv6'
  | 'not-ip'
  | 'truncated'
  | 'bad-version'
  | 'bad-ihl'
  | 'bad-total-length'
  | 'fragment'
  | 'truncated-l4';

/** An IPv4 packet: an InetPacket of family 4, without IPv6's members. */
export interface Ipv4Packet extends Omit<InetPacket, FamilyTyped | Ipv6Only | PacketInternal> {
  readonly family: 4;
  quotedPacket(): Ipv4Packet | NotHandled;
  copy(): Ipv4Packet;
}

export const Ipv4Packet = {
  /**
   * Parses a copy of `bytes` as IPv4. A fragment is a packet too (ipv4/nf-defrag-ipv4.ts
   * reassembles it for conntrack). The L4 header must be complete for TCP (20), UDP (8) and
   * ICMP (8) in a whole datagram or a first fragment.
   */
  decode(bytes: Uint8Array): Ipv4Packet | NotHandled {
    return parse(bytes, true);
  },

  /**
   * Parses `bytes` as decode() does, but in place: the packet takes them as its own (NAT
   * rewrites them), so the caller hands over bytes nothing else uses — the capture replay's
   * private copy of a frame — and saves a second copy of every packet. Given a `spare` (a
   * packet of either family its holder is done with, which nothing else refers to), the
   * packet is that one remade (InetPacket.remake) when the bytes are IPv4 natsim handles.
   */
  adopt(bytes: Uint8Array, spare: L3Packet | null = null): Ipv4Packet | NotHandled {
    return parse(bytes, false, spare);
  },
};

function parse(bytes: Uint8Array, copy: boolean, spare: L3Packet | null = null): Ipv4Packet | NotHandled {
  if (bytes.length < 1) return 'truncated';
  const version = bytes[0]! >> 4;
  if (version === 6) return 'ipv6';
  if (version !== 4) return 'bad-version';
  if (bytes.length < 20) return 'truncated';
  const ihl = (bytes[0]! & 0x0f) * 4;
  if (ihl < 20) return 'bad-ihl';
  const total = readU16(bytes, 2);
  if (total < ihl) return 'bad-total-length';
  if (bytes.length < total) return 'truncated';
  const proto = bytes[9]!;
  const l4min = proto === IPPROTO.TCP ? 20 : proto === IPPROTO.UDP || proto === IPPROTO.ICMP ? 8 : 0;
  if ((readU16(bytes, 6) & IP_OFFSET) === 0 && total - ihl < l4min) return 'truncated-l4';
  // a copy of its own (on a Node Buffer, slice() would be a view into the reader's chunk)
  return packetOf(copy ? Uint8Array.prototype.slice.call(bytes, 0, total) : total === bytes.length ? bytes : byteView(bytes, 0, total), spare) as Ipv4Packet;
}

/**
 * The IPv4 datagram quoted by this ICMP error (nf_ct_get_tuplepr at the ICMP payload), as a
 * view sharing this packet's bytes, so NAT of the quote rewrites the error in place. Needs
 * the quoted IP header and 8 bytes of its L4 header; a quoted fragment is not usable.
 */
export function ipv4QuotedPacket(p: InetPacket): Ipv4Packet | NotHandled {
  const bytes = p.data.subarray(p.l4off + 8);
  if (bytes.length < 20) return 'truncated';
  if (bytes[0]! >> 4 !== 4) return 'bad-version';
  const ihl = (bytes[0]! & 0x0f) * 4;
  if (ihl < 20) return 'bad-ihl';
  if ((readU16(bytes, 6) & 0x1fff) !== 0) return 'fragment';
  if (bytes.length < ihl + 8) return 'truncated-l4';
  return new InetPacket(bytes, true) as Ipv4Packet;
}

/** Recomputes the ICMP checksum over the whole message (after NAT of a quoted datagram). */
export function ipv4RefreshIcmpChecksum(p: InetPacket): void {
  const at = p.l4off + 2;
  writeU16(p.data, at, 0);
  writeU16(p.data, at, checksum(p.data, p.l4off, p.data.length));
}

/** ip_decrease_ttl: TTL - 1 with the incremental header checksum update. */
export function ipv4DecreaseTtl(p: InetPacket): void {
  const d = p.data;
  const oldWord = readU16(d, 8);
  d[8] = d[8]! - 1;
  writeU16(d, 10, csumReplace16(readU16(d, 10), oldWord, readU16(d, 8)));
}

/**
 * True when the IP header checksum verifies and the L4 checksum (if any, and not UDP's 0)
 * verifies — or, for a CHECKSUM_PARTIAL packet, equals the current pseudo-header sum.
 */
export function ipv4ChecksumsValid(p: InetPacket): boolean {
  if (checksum(p.data, 0, p.l4off) !== 0) return false;
  const check = l4ChecksumOffset(p);
  if (check < 0) return true;
  if (p.csumPartial) return readU16(p.data, check) === pseudoSum(p);
  return l4ChecksumVerifies(p, check);
}

/**
 * nf_checksum's verdict on a whole packet whose checksum no device vouched for
 * (CHECKSUM_NONE): the TCP, UDP or ICMP checksum does not verify. A CHECKSUM_PARTIAL packet
 * (csumPartial) has nothing to verify yet and is never bad.
 */
export function ipv4L4ChecksumBad(p: InetPacket): boolean {
  const check = l4ChecksumOffset(p);
  return check >= 0 && !p.csumPartial && !p.embedded && !p.isFragment() && !l4ChecksumVerifies(p, check);
}

function l4ChecksumVerifies(p: InetPacket, check: number): boolean {
  const d = p.data;
  if (p.proto === IPPROTO.UDP && readU16(d, check) === 0) return true;
  const initial = p.proto === IPPROTO.ICMP ? 0 : pseudoSum(p);
  return onesSum(d, p.l4off, d.length, initial) === 0xffff;
}

function pseudoSum(p: InetPacket): number {
  return pseudoHeaderSum(p.saddr, p.daddr, p.proto, p.data.length - p.l4off);
}

/** A TCP/UDP checksum that does not verify but equals the pseudo-header sum is a partial one. */
export function ipv4LooksPartial(p: InetPacket): boolean {
  if (p.proto !== IPPROTO.TCP && p.proto !== IPPROTO.UDP) return false;
  const check = l4ChecksumOffset(p);
  return readU16(p.data, check) === pseudoSum(p) && !l4ChecksumVerifies(p, check);
}

/**
 * A quoted datagram may hold only the first 8 bytes of its TCP header: then, as
 * tcp_manip_pkt does, the ports change but there is no checksum to update.
 */
function l4HeaderComplete(p: InetPacket): boolean {
  return !p.embedded || p.data.length - p.l4off >= (p.proto === IPPROTO.TCP ? 20 : 8);
}

/** Offset of the L4 checksum field, or -1 when natsim does not maintain one. */
function l4ChecksumOffset(p: InetPacket): number {
  switch (p.proto) {
    case IPPROTO.TCP:
      return p.l4off + 16;
    case IPPROTO.UDP:
      return p.l4off + 6;
    case IPPROTO.ICMP:
      return p.l4off + 2;
    default:
      return -1;
  }
}

/** Address change: the IP header checksum, and for TCP/UDP the pseudo-header in the L4 checksum. */
export function ipv4RewriteAddr(p: InetPacket, at: number, from: number, to: number): void {
  const d = p.data;
  writeU32(d, at, to);
  writeU16(d, 10, csumReplace32(readU16(d, 10), from, to));
  if (p.proto === IPPROTO.TCP || p.proto === IPPROTO.UDP) fixL4Checksum(p, from, to, true);
}

export function ipv4RewriteL4Word(p: InetPacket, rel: number, from: number, to: number): void {
  writeU16(p.data, p.l4off + rel, to);
  fixL4Checksum(p, from, to, false);
}

/**
 * inet_proto_csum_replace{4,2} on the L4 checksum. UDP with checksum 0 (none) stays 0, and a
 * result of 0 becomes CSUM_MANGLED_0 (0xffff), as nf_nat_udp_manip / __udp_manip_pkt do.
 * A CHECKSUM_PARTIAL field takes only the address (pseudo-header) change: the device sums
 * the ports itself.
 */
function fixL4Checksum(p: InetPacket, from: number, to: number, wide: boolean): void {
  const at = l4ChecksumOffset(p);
  if (at < 0 || !l4HeaderComplete(p)) return;
  const d = p.data;
  const old = readU16(d, at);
  if (p.csumPartial) {
    if (wide) writeU16(d, at, csumReplacePartial32(old, from, to));
    return;
  }
  if (p.proto === IPPROTO.UDP && old === 0) return;
  let next = wide ? csumReplace32(old, from, to) : csumReplace16(old, from, to);
  if (p.proto === IPPROTO.UDP && next === 0) next = 0xffff;
  writeU16(d, at, next);
}
