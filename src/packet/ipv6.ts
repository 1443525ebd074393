/**
 * An IPv6 packet (struct ipv6hdr and what follows): the bytes plus a parsed view of the fields
 * conntrack and NAT look at. The upper-layer header is found as conntrack finds it
 * (ipv6/exthdrs-core.ts ipv6SkipExthdr). Address setters rewrite the bytes and fix the L4
 * checksum incrementally, as nf_nat_ipv6_manip_pkt and the L4 manip functions do: IPv6 has no
 * header checksum, and the pseudo-header (RFC 8200 8.1) covers the addresses for TCP, UDP and
 * ICMPv6 alike.
 */
import { csumApply, csumApplyPartial, csumReplace16, fold16, onesSum, wordChange } from './checksum.js';
import { IPPROTO } from '../netfilter/constants.js';
import { ipv6SkipExthdr, NEXTHDR } from '../ipv6/exthdrs-core.js';
import { ipv6Handle, ipv6Word } from './ipv6-addr.js';
import { L3PacketBase, readU16, writeU16, writeU32 } from './l3-packet.js';
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

/** Why bytes could not be taken as an IPv6 packet. */
export type Ipv6NotHandled = 'not-ipv6' | 'truncated' | 'bad-payload-length';

export class Ipv6Packet extends L3PacketBase {
  /** The first next-header field (of the fixed header). */
  readonly nexthdr: number;
  /**
   * Offset of the upper-layer header as ipv6_skip_exthdr finds it; -1 when the extension
   * header chain cannot be walked (truncated, or "no next header"), or for a non-first
   * fragment (whose fragment header is all that can be read).
   */
  readonly l4off: number;
  /** The upper-layer protocol (the last next-header value the walk met); -1 when l4off is -1. */
  readonly proto: number;
  /** The fragment header's frag_off (offset in bytes | M bit), 0 without one. */
  readonly fragOff: number;
  saddr: number;
  daddr: number;
  /**
   * The ones-complement sum of both addresses' 16-bit groups, the part of csum_ipv6_magic's
   * pseudo-header sum that is not the length and protocol: summed once from the header, moved
   * with each address rewrite, where nf_checksum and the partial-checksum test each need it.
   */
  private addrSum: number;
  /** TCP/UDP ports; for ICMPv6 echo the id sits in `sport` and `dport` is 0. */
  sport = 0;
  dport = 0;
  /** skb->ip_summed == CHECKSUM_PARTIAL, as Ipv4Packet.csumPartial says. */
  readonly csumPartial: boolean = false;

  private constructor(
    readonly data: Uint8Array,
    /** The packet an ICMPv6 error quotes: a view into the error's bytes, usually cut short. */
    readonly embedded = false,
  ) {
    super();
    const d = data;
    this.nexthdr = d[6]!;
    this.saddr = ipv6Handle(d, 8);
    this.daddr = ipv6Handle(d, 24);
    this.addrSum = onesSum(d, 8, IPV6_HDR_LEN);
    const walk = ipv6SkipExthdr(d, IPV6_HDR_LEN, this.nexthdr);
    this.fragOff = walk.fragOff;
    // ipv6_get_l4proto: no protocol for a chain it cannot walk or a non-first fragment
    const usable = walk.offset >= 0 && (walk.fragOff & ~0x7) === 0;
    this.l4off = usable ? walk.offset : -1;
    this.proto = usable ? walk.nexthdr : -1;
    if (!usable) return;
    if (this.hasPorts() && this.l4off + 4 <= d.length) {
      this.sport = readU16(d, this.l4off);
      this.dport = readU16(d, this.l4off + 2);
    } else if (this.proto === IPPROTO.ICMPV6 && this.l4off + 8 <= d.length && this.icmpIsEcho()) {
      this.sport = readU16(d, this.l4off + 4);
    }
    // a first fragment's L4 checksum covers bytes it does not hold
    this.csumPartial = !embedded && walk.fragOff === 0 && this.looksPartial();
  }

  /**
   * Parses a copy of `bytes` as IPv6: version 6, the fixed header whole, and the payload length
   * within the bytes (bytes past it, link-layer padding, are cut off). A jumbogram (payload
   * length 0 with a hop-by-hop jumbo option) is not modelled and refused as a bad length.
   */
  static decode(bytes: Uint8Array): Ipv6Packet | Ipv6NotHandled {
    return Ipv6Packet.parse(bytes, true);
  }

  /** Parses `bytes` as decode() does, but takes them as its own (see Ipv4Packet.adopt). */
  static adopt(bytes: Uint8Array): Ipv6Packet | Ipv6NotHandled {
    return Ipv6Packet.parse(bytes, false);
  }

  private static parse(bytes: Uint8Array, copy: boolean): Ipv6Packet | Ipv6NotHandled {
    if (bytes.length < 1 || bytes[0]! >> 4 !== 6) return bytes.length < 1 ? 'truncated' : 'not-ipv6';
    if (bytes.length < IPV6_HDR_LEN) return 'truncated';
    const total = IPV6_HDR_LEN + readU16(bytes, 4);
    if (total === IPV6_HDR_LEN && bytes.length > IPV6_HDR_LEN && bytes[6] === NEXTHDR.HOP) return 'bad-payload-length';
    if (bytes.length < total) return 'truncated';
    return new Ipv6Packet(copy ? Uint8Array.prototype.slice.call(bytes, 0, total) : total === bytes.length ? bytes : byteView(bytes, 0, total));
  }

  copy(): Ipv6Packet {
    return new Ipv6Packet(this.data.slice(), this.embedded);
  }

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
  /** An echo request or reply: the types whose id is the tuple's key. */
  private icmpIsEcho(): boolean {
    const t = this.data[this.l4off]!;
    return t === ICMPV6.ECHO_REQUEST || t === ICMPV6.ECHO_REPLY;
  }

  /** ICMPv6 error messages are the types below 128 (RFC 4443 2.1). */
  isIcmpv6Error(): boolean {
    return this.proto === IPPROTO.ICMPV6 && this.l4off + 8 <= this.data.length && this.icmpType < 128;
  }

  /** ip6_forward: hop limit minus one (no header checksum to fix). */
  decreaseHopLimit(): void {
    this.data[7] = this.data[7]! - 1;
  }

  /**
   * The IPv6 packet an ICMPv6 error quotes (after its 8-byte header), as a view sharing this
   * packet's bytes, so NAT of the quote rewrites the error in place. Needs the whole fixed
   * header; the payload length may claim more than was quoted.
   */
  quotedPacket(): Ipv6Packet | Ipv6NotHandled {
    const bytes = this.data.subarray(this.l4off + 8);
    if (bytes.length < 1 || bytes[0]! >> 4 !== 6) return bytes.length < 1 ? 'truncated' : 'not-ipv6';
    if (bytes.length < IPV6_HDR_LEN) return 'truncated';
    return new Ipv6Packet(bytes, true);
  }

  setSaddr(addr: number): void {
    this.rewriteAddr(8, this.saddr, addr);
    this.saddr = addr;
  }

  setDaddr(addr: number): void {
    this.rewriteAddr(24, this.daddr, addr);
    this.daddr = addr;
  }

  setSport(port: number): void {
    this.rewriteL4Word(this.proto === IPPROTO.ICMPV6 ? 4 : 0, this.sport, port);
    this.sport = port;
  }

  /** The destination port; for ICMPv6 echo natsim changes the id through setSport. */
  setDport(port: number): void {
    this.rewriteL4Word(2, this.dport, port);
    this.dport = port;
  }

  /**
   * True when the L4 checksum verifies over the pseudo-header (UDP's 0 is not allowed over IPv6,
   * RFC 8200 8.1) — or, for a CHECKSUM_PARTIAL packet, equals the pseudo-header sum.
   */
  checksumsValid(): boolean {
    const check = this.checksumOffset();
    if (check < 0) return true;
    if (this.csumPartial) return readU16(this.data, check) === this.pseudoSum();
    return onesSum(this.data, this.l4off, this.data.length, this.pseudoSum()) === 0xffff;
  }

  get moreFragments(): boolean {
    return (this.fragOff & 1) !== 0;
  }
  /** The hop limit under the name the family-independent code reads (L3PacketBase.ttl). */
  get ttl(): number {
    return this.data[7]!;
  }
  /** The traffic class under the name the family-independent code reads (L3PacketBase.dsfield). */
  get dsfield(): number {
    return this.trafficClass;
  }
  /** The flow label, as L3PacketBase.id says. */
  get id(): number {
    return this.flowLabel;
  }

  /** The fragment header's offset in bytes (its M bit masked off). */
  get fragOffset(): number {
    return this.fragOff & ~0x7;
  }

  /**
   * nf_ip6_checksum on a packet with CHECKSUM_NONE: a TCP, UDP or ICMPv6 checksum that does not
   * verify over the pseudo-header. A partial checksum, a quoted packet and a fragment are not checked.
   */
  l4ChecksumBad(): boolean {
    return this.checksumOffset() >= 0 && !this.csumPartial && !this.embedded && this.fragOff === 0 && !this.checksumsValid();
  }

  /** Recomputes the ICMPv6 checksum over the whole message (after NAT of a quoted packet). */
  refreshIcmpChecksum(): void {
    this.fillL4Checksum();
  }

  /** Computes the TCP, UDP or ICMPv6 checksum afresh over the pseudo-header (a UDP 0 sent as 0xffff). */
  fillL4Checksum(): void {
    const at = this.checksumOffset();
    if (at < 0) return;
    writeU16(this.data, at, 0);
    writeU16(this.data, at, this.mangled(~onesSum(this.data, this.l4off, this.data.length, this.pseudoSum()) & 0xffff));
  }

  /** csum_ipv6_magic's sum: both addresses (addrSum), the upper-layer length and the protocol. */
  private pseudoSum(): number {
    return fold16(this.addrSum + this.data.length - this.l4off + this.proto);
  }

  /** Offset of the L4 checksum, or -1 when there is none natsim keeps (or the header is not all there). */
  private checksumOffset(): number {
    let rel: number;
    switch (this.proto) {
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
    const at = this.l4off + rel;
    return at + 2 <= this.data.length ? at : -1;
  }

  /** A TCP/UDP checksum that does not verify but equals the pseudo-header sum is a partial one (see Ipv4Packet.csumPartial). */
  private looksPartial(): boolean {
    if (this.proto !== IPPROTO.TCP && this.proto !== IPPROTO.UDP) return false;
    const check = this.checksumOffset();
    return check >= 0 && readU16(this.data, check) === this.pseudoSum() && !this.checksumsValid();
  }

  /**
   * inet_proto_csum_replace16: the address's four words replaced in the L4 checksum, their
   * changes summed and folded once (in a CHECKSUM_PARTIAL one, uncomplemented, as
   * csumReplacePartial32 says).
   */
  private rewriteAddr(at: number, from: number, to: number): void {
    const d = this.data;
    let change = 0;
    for (let i = 0; i < 4; i++) {
      const b = ipv6Word(to, i);
      change += wordChange(ipv6Word(from, i), b);
      writeU32(d, at + 4 * i, b);
    }
    // the pseudo-header's part moves as an uncomplemented sum does (csumReplacePartial32)
    this.addrSum = csumApplyPartial(this.addrSum, change);
    const check = this.checksumOffset();
    if (check < 0) return;
    const sum = readU16(d, check);
    writeU16(d, check, this.mangled(this.csumPartial ? csumApplyPartial(sum, change) : csumApply(sum, change)));
  }

  /** A port (or for ICMPv6 the echo id) at `rel` in the L4 header; a partial checksum does not cover it. */
  private rewriteL4Word(rel: number, from: number, to: number): void {
    const d = this.data;
    writeU16(d, this.l4off + rel, to);
    const check = this.checksumOffset();
    if (check < 0 || this.csumPartial) return;
    writeU16(d, check, this.mangled(csumReplace16(readU16(d, check), from, to)));
  }

  /** CSUM_MANGLED_0: a UDP checksum that comes out 0 is sent as 0xffff (0 would mean none). */
  private mangled(sum: number): number {
    return this.proto === IPPROTO.UDP && sum === 0 ? 0xffff : sum;
  }
}
