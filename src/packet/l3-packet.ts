/**
 * What netfilter reads of a packet whatever its family (the fields of skb the family-independent
 * code — conntrack, NAT, rule matches on ports and TCP flags, the trace — touches): the bytes,
 * the offset of the L4 header, the protocol, the addresses (an IPv4 u32 or an IPv6 handle,
 * packet/ipv6-addr.ts), the ports (or ICMP/ICMPv6 echo id), the L4 header fields and the NAT
 * setters that rewrite them with their checksums.
 *
 * One class, InetPacket, holds a packet of either family; the rest of natsim sees it as
 * Ipv4Packet or Ipv6Packet (packet/ipv4.ts, ipv6.ts), types that show only their family's
 * members, and `pkt.family` tells them apart where it matters (the union narrows on it).
 */
import { IPPROTO } from '../netfilter/constants.js';
import { ipv6SkipExthdr } from '../ipv6/exthdrs-core.js';
import { onesSum } from './checksum.js';
import { ipv6Handle } from './ipv6-addr.js';
import {
  IP_OFFSET,
  ipv4ChecksumsValid,
  ipv4DecreaseTtl,
  ipv4L4ChecksumBad,
  ipv4LooksPartial,
  ipv4QuotedPacket,
  ipv4RefreshIcmpChecksum,
  ipv4RewriteAddr,
  ipv4RewriteL4Word,
  type Ipv4Packet,
  type NotHandled,
} from './ipv4.js';
import {
  IPV6_HDR_LEN,
  ipv6ChecksumsValid,
  ipv6FillL4Checksum,
  ipv6IcmpIsEcho,
  ipv6L4ChecksumBad,
  ipv6LooksPartial,
  ipv6QuotedPacket,
  ipv6RewriteAddr,
  ipv6RewriteL4Word,
  type Ipv6NotHandled,
  type Ipv6Packet,
} from './ipv6.js';

/** A packet of either family, as skb->data holds it (the union narrows on `family`). */
export type L3Packet = Ipv4Packet | Ipv6Packet;

/** The packet in `data` (checked for its family by decode/adopt): `spare` remade when given, else a new one. */
export function packetOf(data: Uint8Array, spare: L3Packet | null): InetPacket {
  if (spare === null) return new InetPacket(data);
  const p = spare as unknown as InetPacket;
  p.remake(data, false);
  return p;
}

/** The members only an IPv4 packet shows (Ipv4Packet); on an IPv6 one they would read its bytes wrong. */
export type Ipv4Only = 'dontFragment' | 'isFragment' | 'decreaseTtl';
/** The members only an IPv6 packet shows (Ipv6Packet); addrSum is ipv6.ts's own. */
export type Ipv6Only = 'nexthdr' | 'fragOff' | 'addrSum' | 'payloadLength' | 'hopLimit' | 'trafficClass' | 'flowLabel' | 'isIcmpv6Error' | 'decreaseHopLimit' | 'fillL4Checksum';
/** The members each family's type declares again, narrowed to itself. */
export type FamilyTyped = 'family' | 'copy' | 'quotedPacket';
/** The members only packet/ uses (remake, through adopt's spare): neither family's type shows them. */
export type PacketInternal = 'remake';

/**
 * A packet of either family. Why one class and not an Ipv4Packet and an Ipv6Packet class: V8
 * gives each class's objects their own hidden class (map), and every call site that reads a
 * packet — conntrack's lookup, the TCP tracker, NAT's setters, the hooks — saw two maps on a
 * mixed IPv4+IPv6 workload, polymorphic property loads and calls where one family's run has
 * monomorphic ones. Measured: splitting IPv4 packets alone over two maps (a trivial subclass for
 * half the flows) made an IPv4 replay cost 1.06× (median of 10 side-by-side CPU pairs). So every
 * field of both families is declared here, in one order, set by one constructor for both (the
 * IPv6-only ones 0 on IPv4), and what differs between the families branches on `family` to the
 * functions of packet/ipv4.ts and ipv6.ts. Nothing outside packet/ should construct one or name
 * this class: decode and adopt (Ipv4Packet, Ipv6Packet) do, and return the family's type.
 */
export class InetPacket {
  /** The version nibble: which family's bytes these are, and whose code the methods run. */
  readonly family!: 4 | 6;
  readonly data!: Uint8Array;
  /** The datagram an ICMP or ICMPv6 error quotes: a view into the error's bytes, usually cut short. */
  readonly embedded!: boolean;
  /**
   * Offset of the L4 header: IPv4's IHL × 4; for IPv6 where ipv6_skip_exthdr finds the
   * upper-layer header, -1 when the extension header chain cannot be walked (truncated, or "no
   * next header"), or for a non-first fragment (whose fragment header is all that can be read).
   */
  readonly l4off!: number;
  /** The protocol; for IPv6 the upper-layer one (the last next-header value the walk met), -1 when l4off is -1. */
  readonly proto!: number;
  saddr!: number;
  daddr!: number;
  /** TCP/UDP ports; for an ICMP/ICMPv6 echo the id sits in `sport` and `dport` is 0 (see icmpType). */
  sport!: number;
  dport!: number;
  /**
   * skb->ip_summed == CHECKSUM_PARTIAL: the TCP/UDP checksum field holds only the pseudo-header
   * sum, to be completed by the device (offload). Packets from a local socket over veth arrive
   * so, and tcpdump shows them with "bad" checksums; NAT then updates only the pseudo-header part.
   */
  readonly csumPartial!: boolean;
  /**
   * The fragment offset in bytes: IPv4's (frag_off & IP_OFFSET) << 3, the IPv6 fragment
   * header's offset (its M bit masked off); 0 for a whole datagram and a first fragment. A later
   * fragment has no L4 header, so its ports (and ICMP fields) read 0 (xt par->fragoff).
   */
  readonly fragOffset!: number;
  /** IPv6: the first next-header field (of the fixed header). */
  readonly nexthdr!: number;
  /** IPv6: the fragment header's frag_off (offset in bytes | M bit), 0 without one. */
  readonly fragOff!: number;
  /**
   * IPv6: the ones-complement sum of both addresses' 16-bit groups, the part of
   * csum_ipv6_magic's pseudo-header sum that is not the length and protocol: summed once from
   * the header, moved with each address rewrite (ipv6RewriteAddr), where nf_checksum and the
   * partial-checksum test each need it.
   */
  addrSum!: number;

  /** Takes `data` as its bytes: a header decode/adopt or quotedPacket has checked for its family. */
  constructor(data: Uint8Array, embedded = false) {
    this.remake(data, embedded);
  }

  /**
   * Makes this packet the one in `data`, every field as the constructor sets it: adopt() into a
   * spare (Ipv4Packet.adopt, Ipv6Packet.adopt) remakes the packet of a capture's last record so,
   * as Host.rxSkb remakes its skb, instead of a new object and its boxed fields per record. Only
   * packet/ calls it, for a holder that knows nothing else refers to the packet.
   */
  remake(data: Uint8Array, embedded: boolean): void {
    // the one writer of the readonly fields besides the constructor, which calls it
    const self = this as { -readonly [K in keyof InetPacket]: InetPacket[K] };
    const d = data;
    self.family = d[0]! >> 4 === 4 ? 4 : 6;
    self.data = d;
    self.embedded = embedded;
    self.sport = 0;
    self.dport = 0;
    self.csumPartial = false;
    if (this.family === 4) {
      const l4off = (d[0]! & 0x0f) * 4;
      self.l4off = l4off;
      self.proto = d[9]!;
      self.saddr = readU32(d, 12);
      self.daddr = readU32(d, 16);
      self.fragOffset = (readU16(d, 6) & IP_OFFSET) << 3;
      self.nexthdr = 0;
      self.fragOff = 0;
      self.addrSum = 0;
      if (this.fragOffset !== 0) return;
      if (this.hasPorts()) {
        self.sport = readU16(d, l4off);
        self.dport = readU16(d, l4off + 2);
      } else if (this.proto === IPPROTO.ICMP) {
        self.sport = readU16(d, l4off + 4);
      }
      // a first fragment's L4 checksum covers bytes it does not hold
      self.csumPartial = !embedded && !this.moreFragments && ipv4LooksPartial(this);
      return;
    }
    const nexthdr = d[6]!;
    const walk = ipv6SkipExthdr(d, IPV6_HDR_LEN, nexthdr);
    // ipv6_get_l4proto: no protocol for a chain it cannot walk or a non-first fragment
    const usable = walk.offset >= 0 && (walk.fragOff & ~0x7) === 0;
    self.l4off = usable ? walk.offset : -1;
    self.proto = usable ? walk.nexthdr : -1;
    self.saddr = ipv6Handle(d, 8);
    self.daddr = ipv6Handle(d, 24);
    self.fragOffset = walk.fragOff & ~0x7;
    self.nexthdr = nexthdr;
    self.fragOff = walk.fragOff;
    self.addrSum = onesSum(d, 8, IPV6_HDR_LEN);
    if (!usable) return;
    if (this.hasPorts() && this.l4off + 4 <= d.length) {
      self.sport = readU16(d, this.l4off);
      self.dport = readU16(d, this.l4off + 2);
    } else if (this.proto === IPPROTO.ICMPV6 && this.l4off + 8 <= d.length && ipv6IcmpIsEcho(this)) {
      self.sport = readU16(d, this.l4off + 4);
    }
    // a first fragment's L4 checksum covers bytes it does not hold
    self.csumPartial = !embedded && walk.fragOff === 0 && ipv6LooksPartial(this);
  }

  hasPorts(): boolean {
    const p = this.proto;
    return p === IPPROTO.TCP || p === IPPROTO.UDP || p === IPPROTO.UDPLITE || p === IPPROTO.SCTP;
  }

  /** More fragments follow: IPv4's IP_MF, the fragment header's M bit. */
  get moreFragments(): boolean {
    return this.family === 4 ? (this.data[6]! & 0x20) !== 0 : (this.fragOff & 1) !== 0;
  }
  /** The TTL, or IPv6's hop limit: the count ip_forward and ip6_forward take one from. */
  get ttl(): number {
    return this.data[this.family === 4 ? 8 : 7]!;
  }
  /** The DS field (DSCP and ECN): IPv4's TOS byte, IPv6's traffic class (ipv4_get_dsfield, ipv6_get_dsfield). */
  get dsfield(): number {
    return this.family === 4 ? this.data[1]! : this.trafficClass;
  }
  /**
   * The IPv4 identification; IPv6 has none in its fixed header, and its flow label stands in:
   * what tells a packet from its neighbours when a capture pairs what came in with what went out.
   */
  get id(): number {
    return this.family === 4 ? readU16(this.data, 4) : this.flowLabel;
  }

  setSaddr(addr: number): void {
    if (this.family === 4) ipv4RewriteAddr(this, 12, this.saddr, addr);
    else ipv6RewriteAddr(this, 8, this.saddr, addr);
    this.saddr = addr;
  }

  setDaddr(addr: number): void {
    if (this.family === 4) ipv4RewriteAddr(this, 16, this.daddr, addr);
    else ipv6RewriteAddr(this, 24, this.daddr, addr);
    this.daddr = addr;
  }

  /** Source port, or the ICMP/ICMPv6 echo id (nf_nat_icmp_manip rewrites the id for either manip). */
  setSport(port: number): void {
    if (this.family === 4) ipv4RewriteL4Word(this, this.proto === IPPROTO.ICMP ? 4 : 0, this.sport, port);
    else ipv6RewriteL4Word(this, this.proto === IPPROTO.ICMPV6 ? 4 : 0, this.sport, port);
    this.sport = port;
  }

  /** The destination port; for an ICMP/ICMPv6 echo natsim changes the id through setSport. */
  setDport(port: number): void {
    if (this.family === 4) ipv4RewriteL4Word(this, 2, this.dport, port);
    else ipv6RewriteL4Word(this, 2, this.dport, port);
    this.dport = port;
  }

  /** The checksums verify (or, CHECKSUM_PARTIAL, hold the pseudo-header sum): ipv4ChecksumsValid, ipv6ChecksumsValid. */
  checksumsValid(): boolean {
    return this.family === 4 ? ipv4ChecksumsValid(this) : ipv6ChecksumsValid(this);
  }

  /** nf_checksum's verdict on a packet no device vouched for: its L4 checksum does not verify (ipv4L4ChecksumBad, ipv6L4ChecksumBad). */
  l4ChecksumBad(): boolean {
    return this.family === 4 ? ipv4L4ChecksumBad(this) : ipv6L4ChecksumBad(this);
  }

  /** Recomputes the ICMP/ICMPv6 checksum over the whole message (after NAT of a quoted packet). */
  refreshIcmpChecksum(): void {
    if (this.family === 4) ipv4RefreshIcmpChecksum(this);
    else ipv6FillL4Checksum(this);
  }

  /** The packet an ICMP or ICMPv6 error quotes, as a view sharing this packet's bytes (ipv4QuotedPacket, ipv6QuotedPacket). */
  quotedPacket(): Ipv4Packet | NotHandled | Ipv6Packet | Ipv6NotHandled {
    return this.family === 4 ? ipv4QuotedPacket(this) : ipv6QuotedPacket(this);
  }

  /** The same packet with bytes of its own (to keep it past the life of the bytes it was parsed in). */
  copy(): L3Packet {
    return new InetPacket(this.data.slice(), this.embedded) as L3Packet;
  }

  get length(): number {
    return this.data.length;
  }
  get icmpType(): number {
    return this.data[this.l4off]!;
  }
  get icmpCode(): number {
    return this.data[this.l4off + 1]!;
  }
  get tcpFlags(): number {
    return this.data[this.l4off + 13]!;
  }
  /** TCP sequence number (tcphdr->seq). */
  get tcpSeq(): number {
    return readU32(this.data, this.l4off + 4);
  }
  /** TCP acknowledgement number (tcphdr->ack_seq). */
  get tcpAckSeq(): number {
    return readU32(this.data, this.l4off + 8);
  }
  /** TCP window field, unscaled (tcphdr->window). */
  get tcpWindow(): number {
    return readU16(this.data, this.l4off + 14);
  }
  /** TCP header length in bytes (tcphdr->doff × 4). */
  get tcpHeaderLength(): number {
    return (this.data[this.l4off + 12]! >> 4) * 4;
  }
  /** TCP payload bytes: the packet length less the IP headers and the TCP header (skb->len − dataoff − doff × 4). */
  get tcpPayloadLength(): number {
    return this.data.length - this.l4off - this.tcpHeaderLength;
  }
  /** Where the TCP option bytes start in `data` (after the 20-byte header). */
  get tcpOptionsOffset(): number {
    return this.l4off + 20;
  }
  /** How many TCP option bytes there are (up to doff × 4), clipped to the packet. */
  get tcpOptionsLength(): number {
    const start = this.l4off + 20;
    return Math.max(0, Math.min(this.l4off + this.tcpHeaderLength, this.data.length) - start);
  }

  // IPv4's own (Ipv4Only)

  /** IP_DF: don't fragment. */
  get dontFragment(): boolean {
    return (this.data[6]! & 0x40) !== 0;
  }
  /** ip_is_fragment: MF set or a non-zero offset. */
  isFragment(): boolean {
    return this.fragOffset !== 0 || this.moreFragments;
  }
  /** ip_decrease_ttl: TTL - 1 with the incremental header checksum update. */
  decreaseTtl(): void {
    ipv4DecreaseTtl(this);
  }

  // IPv6's own (Ipv6Only)

  get payloadLength(): number {
    return readU16(this.data, 4);
  }
  get hopLimit(): number {
    return this.data[7]!;
  }
  /** The traffic class (DSCP and ECN), as LOG prints it (TC=). */
  get trafficClass(): number {
    return ((this.data[0]! & 0x0f) << 4) | (this.data[1]! >> 4);
  }
  get flowLabel(): number {
    return ((this.data[1]! & 0x0f) << 16) | readU16(this.data, 2);
  }
  /** ICMPv6 error messages are the types below 128 (RFC 4443 2.1). */
  isIcmpv6Error(): boolean {
    return this.proto === IPPROTO.ICMPV6 && this.l4off + 8 <= this.data.length && this.icmpType < 128;
  }
  /** ip6_forward: hop limit minus one (no header checksum to fix). */
  decreaseHopLimit(): void {
    this.data[7] = this.data[7]! - 1;
  }
  /** Computes the TCP, UDP or ICMPv6 checksum afresh over the pseudo-header (a UDP 0 sent as 0xffff). */
  fillL4Checksum(): void {
    ipv6FillL4Checksum(this);
  }
}

export function readU16(d: Uint8Array, at: number): number {
  return (d[at]! << 8) | d[at + 1]!;
}

export function readU32(d: Uint8Array, at: number): number {
  return ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) >>> 0;
}

export function writeU16(d: Uint8Array, at: number, v: number): void {
  d[at] = (v >>> 8) & 255;
  d[at + 1] = v & 255;
}

export function writeU32(d: Uint8Array, at: number, v: number): void {
  d[at] = v >>> 24;
  d[at + 1] = (v >>> 16) & 255;
  d[at + 2] = (v >>> 8) & 255;
  d[at + 3] = v & 255;
}
