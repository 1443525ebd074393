/**
 * What netfilter reads of a packet whatever its family (the fields of skb the family-independent
 * code — conntrack, NAT, rule matches on ports and TCP flags, the trace — touches): the bytes,
 * the offset of the L4 header, the protocol, the addresses (an IPv4 u32 or an IPv6 handle,
 * packet/ipv6-addr.ts), the ports (or ICMP/ICMPv6 echo id), the L4 header fields and the NAT
 * setters that rewrite them with their checksums. Ipv4Packet and Ipv6Packet extend it;
 * `pkt instanceof Ipv6Packet` tells the family apart where it matters.
 */
import { IPPROTO } from '../netfilter/constants.js';
import type { Ipv4Packet } from './ipv4.js';
import type { Ipv6Packet } from './ipv6.js';

/** A packet of either family, as skb->data holds it (the union narrows by instanceof). */
export type L3Packet = Ipv4Packet | Ipv6Packet;

export abstract class L3PacketBase {
  abstract readonly data: Uint8Array;
  /** Offset of the L4 header (-1 for an IPv6 packet whose upper layer cannot be found). */
  abstract readonly l4off: number;
  abstract readonly proto: number;
  abstract saddr: number;
  abstract daddr: number;
  /** TCP/UDP ports; for an ICMP/ICMPv6 echo the id sits in `sport` and `dport` is 0. */
  abstract sport: number;
  abstract dport: number;
  /** skb->ip_summed == CHECKSUM_PARTIAL (see Ipv4Packet.csumPartial). */
  abstract readonly csumPartial: boolean;
  /** The fragment offset in bytes: non-zero for a later fragment, which has no L4 header to read (xt par->fragoff). */
  abstract readonly fragOffset: number;
  /** More fragments follow (IPv4's MF, the fragment header's M bit). */
  abstract readonly moreFragments: boolean;
  /** The TTL, or IPv6's hop limit: the count ip_forward and ip6_forward take one from. */
  abstract readonly ttl: number;
  /** The DS field (DSCP and ECN): IPv4's TOS byte, IPv6's traffic class (ipv4_get_dsfield, ipv6_get_dsfield). */
  abstract readonly dsfield: number;
  /**
   * The IPv4 identification; IPv6 has none in its fixed header, and its flow label stands in:
   * what tells a packet from its neighbours when a capture pairs what came in with what went out.
   */
  abstract readonly id: number;

  abstract setSaddr(addr: number): void;
  abstract setDaddr(addr: number): void;
  /** Source port, or the ICMP/ICMPv6 echo id. */
  abstract setSport(port: number): void;
  abstract setDport(port: number): void;
  /** The checksums verify (or, CHECKSUM_PARTIAL, hold the pseudo-header sum). */
  abstract checksumsValid(): boolean;
  /** nf_checksum's verdict on a packet no device vouched for: its L4 checksum does not verify (see Ipv4Packet.l4ChecksumBad). */
  abstract l4ChecksumBad(): boolean;
  /** Recomputes the ICMP/ICMPv6 checksum over the whole message (after NAT of a quoted packet). */
  abstract refreshIcmpChecksum(): void;
  /** The same packet with bytes of its own. */
  abstract copy(): L3PacketBase;

  hasPorts(): boolean {
    const p = this.proto;
    return p === IPPROTO.TCP || p === IPPROTO.UDP || p === IPPROTO.UDPLITE || p === IPPROTO.SCTP;
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
