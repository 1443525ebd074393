/**
 * An IPv4 datagram: the bytes plus a parsed view of the fields netfilter looks at. Setters
 * rewrite the bytes and fix the IP and L4 checksums incrementally, as the kernel's NAT
 * manipulation (nf_nat_ipv4_manip_pkt, nf_nat_{tcp,udp,icmp}_manip) does.
 */
import { checksum, csumReplace16, csumReplace32, csumReplacePartial32, pseudoHeaderSum, onesSum } from './checksum.js';
import { IPPROTO } from '../netfilter/constants.js';
import { L3PacketBase, readU16, readU32, writeU16, writeU32 } from './l3-packet.js';
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

export class Ipv4Packet extends L3PacketBase {
  /** Offset of the L4 header (IHL × 4). */
  readonly l4off: number;
  readonly proto: number;
  saddr: number;
  daddr: number;
  /** TCP/UDP ports; for ICMP the echo id sits in `sport` and `dport` is 0 (see icmpType). */
  sport: number;
  dport: number;
  /**
   * skb->ip_summed == CHECKSUM_PARTIAL: the TCP/UDP checksum field holds only the pseudo-header
   * sum, to be completed by the device (offload). Packets from a local socket over veth arrive
   * so, and tcpdump shows them with "bad" checksums; NAT then updates only the pseudo-header part.
   */
  readonly csumPartial: boolean;
  /**
   * The fragment offset in bytes ((frag_off & IP_OFFSET) << 3): 0 for a whole datagram and a
   * first fragment. A later fragment has no L4 header, so its ports (and ICMP fields) read 0.
   */
  readonly fragOffset: number;

  private constructor(
    readonly data: Uint8Array,
    l4off: number,
    /** The datagram an ICMP error quotes: a view into the error's bytes, usually cut short. */
    readonly embedded = false,
  ) {
    super();
    const d = data;
    this.l4off = l4off;
    this.proto = d[9]!;
    this.saddr = readU32(d, 12);
    this.daddr = readU32(d, 16);
    this.sport = 0;
    this.dport = 0;
    this.fragOffset = (readU16(d, 6) & IP_OFFSET) << 3;
    if (this.fragOffset !== 0) {
      this.csumPartial = false;
      return;
    }
    if (this.hasPorts()) {
      this.sport = readU16(d, l4off);
      this.dport = readU16(d, l4off + 2);
    } else if (this.proto === IPPROTO.ICMP) {
      this.sport = readU16(d, l4off + 4);
    }
    // a first fragment's L4 checksum covers bytes it does not hold
    this.csumPartial = !embedded && !this.moreFragments && this.looksPartial();
  }

  /** IP_MF: more fragments follow. */
  get moreFragments(): boolean {
    return (this.data[6]! & 0x20) !== 0;
  }

  /** IP_DF: don't fragment. */
  get dontFragment(): boolean {
    return (this.data[6]! & 0x40) !== 0;
  }

  /** ip_is_fragment: MF set or a non-zero offset. */
  isFragment(): boolean {
    return this.fragOffset !== 0 || this.moreFragments;
  }

  /**
   * The IPv4 datagram quoted by this ICMP error (nf_ct_get_tuplepr at the ICMP payload), as a
   * view sharing this packet's bytes, so NAT of the quote rewrites the error in place. Needs
   * the quoted IP header and 8 bytes of its L4 header; a quoted fragment is not usable.
   */
  quotedPacket(): Ipv4Packet | NotHandled {
    const bytes = this.data.subarray(this.l4off + 8);
    if (bytes.length < 20) return 'truncated';
    if (bytes[0]! >> 4 !== 4) return 'bad-version';
    const ihl = (bytes[0]! & 0x0f) * 4;
    if (ihl < 20) return 'bad-ihl';
    if ((readU16(bytes, 6) & 0x1fff) !== 0) return 'fragment';
    if (bytes.length < ihl + 8) return 'truncated-l4';
    return new Ipv4Packet(bytes, ihl, true);
  }

  /** Recomputes the ICMP checksum over the whole message (after NAT of a quoted datagram). */
  refreshIcmpChecksum(): void {
    const at = this.l4off + 2;
    writeU16(this.data, at, 0);
    writeU16(this.data, at, checksum(this.data, this.l4off, this.data.length));
  }

  /**
   * Parses a copy of `bytes` as IPv4. A fragment is a packet too (ipv4/nf-defrag-ipv4.ts
   * reassembles it for conntrack). The L4 header must be complete for TCP (20), UDP (8) and
   * ICMP (8) in a whole datagram or a first fragment.
   */
  static decode(bytes: Uint8Array): Ipv4Packet | NotHandled {
    return Ipv4Packet.parse(bytes, true);
  }

  /**
   * Parses `bytes` as decode() does, but in place: the packet takes them as its own (NAT
   * rewrites them), so the caller hands over bytes nothing else uses — the capture replay's
   * private copy of a frame — and saves a second copy of every packet.
   */
  static adopt(bytes: Uint8Array): Ipv4Packet | NotHandled {
    return Ipv4Packet.parse(bytes, false);
  }

  private static parse(bytes: Uint8Array, copy: boolean): Ipv4Packet | NotHandled {
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
    return new Ipv4Packet(copy ? Uint8Array.prototype.slice.call(bytes, 0, total) : total === bytes.length ? bytes : byteView(bytes, 0, total), ihl);
  }

  /** The same packet with bytes of its own (to keep it past the life of the bytes it was parsed in). */
  copy(): Ipv4Packet {
    return new Ipv4Packet(this.data.slice(), this.l4off, this.embedded);
  }

  get ttl(): number {
    return this.data[8]!;
  }
  get dsfield(): number {
    return this.data[1]!;
  }
  get id(): number {
    return readU16(this.data, 4);
  }

  /** ip_decrease_ttl: TTL - 1 with the incremental header checksum update. */
  decreaseTtl(): void {
    const d = this.data;
    const oldWord = readU16(d, 8);
    d[8] = d[8]! - 1;
    writeU16(d, 10, csumReplace16(readU16(d, 10), oldWord, readU16(d, 8)));
  }

  setSaddr(addr: number): void {
    this.rewriteAddr(12, this.saddr, addr);
    this.saddr = addr;
  }

  setDaddr(addr: number): void {
    this.rewriteAddr(16, this.daddr, addr);
    this.daddr = addr;
  }

  /** Source port, or the ICMP echo id (nf_nat_icmp_manip rewrites the id for either manip). */
  setSport(port: number): void {
    this.rewriteL4Word(this.proto === IPPROTO.ICMP ? 4 : 0, this.sport, port);
    this.sport = port;
  }

  setDport(port: number): void {
    this.rewriteL4Word(2, this.dport, port);
    this.dport = port;
  }

  /**
   * True when the IP header checksum verifies and the L4 checksum (if any, and not UDP's 0)
   * verifies — or, for a CHECKSUM_PARTIAL packet, equals the current pseudo-header sum.
   */
  checksumsValid(): boolean {
    if (checksum(this.data, 0, this.l4off) !== 0) return false;
    const check = this.l4ChecksumOffset();
    if (check < 0) return true;
    if (this.csumPartial) return readU16(this.data, check) === this.pseudoSum();
    return this.l4ChecksumVerifies(check);
  }

  /**
   * nf_checksum's verdict on a whole packet whose checksum no device vouched for
   * (CHECKSUM_NONE): the TCP, UDP or ICMP checksum does not verify. A CHECKSUM_PARTIAL packet
   * (csumPartial) has nothing to verify yet and is never bad.
   */
  l4ChecksumBad(): boolean {
    const check = this.l4ChecksumOffset();
    return check >= 0 && !this.csumPartial && !this.embedded && !this.isFragment() && !this.l4ChecksumVerifies(check);
  }

  private l4ChecksumVerifies(check: number): boolean {
    const d = this.data;
    if (this.proto === IPPROTO.UDP && readU16(d, check) === 0) return true;
    const initial = this.proto === IPPROTO.ICMP ? 0 : this.pseudoSum();
    return onesSum(d, this.l4off, d.length, initial) === 0xffff;
  }

  private pseudoSum(): number {
    return pseudoHeaderSum(this.saddr, this.daddr, this.proto, this.data.length - this.l4off);
  }

  /** A TCP/UDP checksum that does not verify but equals the pseudo-header sum is a partial one. */
  private looksPartial(): boolean {
    if (this.proto !== IPPROTO.TCP && this.proto !== IPPROTO.UDP) return false;
    const check = this.l4ChecksumOffset();
    return readU16(this.data, check) === this.pseudoSum() && !this.l4ChecksumVerifies(check);
  }

  /**
   * A quoted datagram may hold only the first 8 bytes of its TCP header: then, as
   * tcp_manip_pkt does, the ports change but there is no checksum to update.
   */
  private l4HeaderComplete(): boolean {
    return !this.embedded || this.data.length - this.l4off >= (this.proto === IPPROTO.TCP ? 20 : 8);
  }

  /** Offset of the L4 checksum field, or -1 when natsim does not maintain one. */
  private l4ChecksumOffset(): number {
    switch (this.proto) {
      case IPPROTO.TCP:
        return this.l4off + 16;
      case IPPROTO.UDP:
        return this.l4off + 6;
      case IPPROTO.ICMP:
        return this.l4off + 2;
      default:
        return -1;
    }
  }

  /** Address change: the IP header checksum, and for TCP/UDP the pseudo-header in the L4 checksum. */
  private rewriteAddr(at: number, from: number, to: number): void {
    const d = this.data;
    writeU32(d, at, to);
    writeU16(d, 10, csumReplace32(readU16(d, 10), from, to));
    if (this.proto === IPPROTO.TCP || this.proto === IPPROTO.UDP) this.fixL4Checksum(from, to, true);
  }

  private rewriteL4Word(rel: number, from: number, to: number): void {
    writeU16(this.data, this.l4off + rel, to);
    this.fixL4Checksum(from, to, false);
  }

  /**
   * inet_proto_csum_replace{4,2} on the L4 checksum. UDP with checksum 0 (none) stays 0, and a
   * result of 0 becomes CSUM_MANGLED_0 (0xffff), as nf_nat_udp_manip / __udp_manip_pkt do.
   * A CHECKSUM_PARTIAL field takes only the address (pseudo-header) change: the device sums
   * the ports itself.
   */
  private fixL4Checksum(from: number, to: number, wide: boolean): void {
    const at = this.l4ChecksumOffset();
    if (at < 0 || !this.l4HeaderComplete()) return;
    const d = this.data;
    const old = readU16(d, at);
    if (this.csumPartial) {
      if (wide) writeU16(d, at, csumReplacePartial32(old, from, to));
      return;
    }
    if (this.proto === IPPROTO.UDP && old === 0) return;
    let next = wide ? csumReplace32(old, from, to) : csumReplace16(old, from, to);
    if (this.proto === IPPROTO.UDP && next === 0) next = 0xffff;
    writeU16(d, at, next);
  }
}
