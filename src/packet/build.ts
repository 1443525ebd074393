/**
 * Building packets that hosts originate (echo requests and replies, UDP datagrams, TCP
 * segments, ICMP errors), with correct checksums.
 */
import { checksum, pseudoHeaderSum } from './checksum.js';
import { Ipv4Packet, TcpFlag, writeU16, writeU32 } from './ipv4.js';
import { IPPROTO } from '../netfilter/constants.js';
import { ICMP_ECHO } from './icmp.js';
import type { L3Packet } from './l3-packet.js';
import { IPV6_HDR_LEN, Ipv6Packet } from './ipv6.js';
import { ipv6Bytes, isIpv6 } from './ipv6-addr.js';

export interface EchoFields {
  readonly saddr: number;
  readonly daddr: number;
  readonly ipId: number;
  readonly ttl: number;
  /** ICMP_ECHO or ICMP_ECHOREPLY */
  readonly type: number;
  readonly echoId: number;
  readonly seq: number;
  readonly payload: Uint8Array;
}

export function buildIcmpEcho(f: EchoFields): Ipv4Packet {
  const total = 20 + 8 + f.payload.length;
  const d = new Uint8Array(total);
  // a ping socket sets DF; the kernel's echo reply goes out of its ICMP socket, which does not
  writeIpHeader(d, total, f.ipId, f.ttl, IPPROTO.ICMP, f.saddr, f.daddr, 0, f.type === ICMP_ECHO);
  d[20] = f.type;
  d[21] = 0;
  writeU16(d, 24, f.echoId);
  writeU16(d, 26, f.seq);
  d.set(f.payload, 28);
  writeU16(d, 22, checksum(d, 20, total));
  return Ipv4Packet.decode(d) as Ipv4Packet;
}

export interface UdpFields {
  readonly saddr: number;
  readonly daddr: number;
  readonly sport: number;
  readonly dport: number;
  readonly ipId: number;
  readonly ttl: number;
  readonly payload: Uint8Array;
  /** Don't-fragment (default: set, as path MTU discovery does). */
  readonly df?: boolean;
}

export function buildUdp(f: UdpFields): Ipv4Packet {
  const udpLength = 8 + f.payload.length;
  const total = 20 + udpLength;
  const d = new Uint8Array(total);
  writeIpHeader(d, total, f.ipId, f.ttl, IPPROTO.UDP, f.saddr, f.daddr, 0, f.df ?? true);
  writeUdpHeader(d, 20, f);
  const sum = checksum(d, 20, total, pseudoHeaderSum(f.saddr, f.daddr, IPPROTO.UDP, udpLength));
  writeU16(d, 26, sum === 0 ? 0xffff : sum);
  return Ipv4Packet.decode(d) as Ipv4Packet;
}

/**
 * A UDP datagram of an IPv6 socket (udpv6_sendmsg → ip6_make_skb): hop limit `ttl`, traffic
 * class 0, flow label 0 (the kernel's auto flow label hashes the flow under a per-boot secret,
 * which verify tolerates), the checksum over the IPv6 pseudo-header (a 0 sent as 0xffff).
 * ipId and df have no IPv6 meaning: a datagram over the MTU is ip6_append_data's to cut.
 */
export function buildUdp6(f: UdpFields): Ipv6Packet {
  const d = new Uint8Array(IPV6_HDR_LEN + 8 + f.payload.length);
  writeIpv6Header(d, IPPROTO.UDP, f.saddr, f.daddr, f.ttl);
  writeUdpHeader(d, IPV6_HDR_LEN, f);
  return withL4Checksum6(d);
}

/** The datagram in the family of its addresses. */
export function buildUdpInet(f: UdpFields): L3Packet {
  return isIpv6(f.saddr) ? buildUdp6(f) : buildUdp(f);
}

/** Ports, length and payload of a UDP header at `at`; the checksum is the family's to fill. */
function writeUdpHeader(d: Uint8Array, at: number, f: UdpFields): void {
  writeU16(d, at, f.sport);
  writeU16(d, at + 2, f.dport);
  writeU16(d, at + 4, 8 + f.payload.length);
  d.set(f.payload, at + 8);
}

/** The TCP options Linux puts in a SYN or SYN-ACK besides timestamps: MSS, SACK permitted, window scale. */
export interface SynOptions {
  readonly mss: number;
  readonly wscale: number;
}

/** A timestamp option's values (TSval, TSecr). */
export interface TsOption {
  readonly val: number;
  readonly ecr: number;
}

export interface TcpFields {
  readonly saddr: number;
  readonly daddr: number;
  readonly sport: number;
  readonly dport: number;
  readonly seq: number;
  readonly ack: number;
  /** The flags byte (TcpFlag bits). */
  readonly flags: number;
  readonly window: number;
  readonly ipId: number;
  readonly ttl: number;
  readonly syn?: SynOptions;
  /** The timestamp option, on any segment of a connection that uses it. */
  readonly ts?: TsOption;
  readonly payloadLength: number;
}

/** A TCP segment; the payload is zero bytes (only its length matters to netfilter). */
export function buildTcp(f: TcpFields): Ipv4Packet {
  const tcpLength = tcpHeaderLength(f) + f.payloadLength;
  const total = 20 + tcpLength;
  const d = new Uint8Array(total);
  writeIpHeader(d, total, f.ipId, f.ttl, IPPROTO.TCP, f.saddr, f.daddr);
  writeTcpHeader(d, 20, f);
  writeU16(d, 36, checksum(d, 20, total, pseudoHeaderSum(f.saddr, f.daddr, IPPROTO.TCP, tcpLength)));
  return Ipv4Packet.decode(d) as Ipv4Packet;
}

/**
 * A TCP segment of an IPv6 socket (tcp_v6_send_synack, inet6_csk_xmit → ip6_xmit): hop limit
 * `ttl`, traffic class 0, flow label 0 (see buildUdp6), the checksum over the IPv6 pseudo-header.
 */
export function buildTcp6(f: TcpFields): Ipv6Packet {
  const d = new Uint8Array(IPV6_HDR_LEN + tcpHeaderLength(f) + f.payloadLength);
  writeIpv6Header(d, IPPROTO.TCP, f.saddr, f.daddr, f.ttl);
  writeTcpHeader(d, IPV6_HDR_LEN, f);
  return withL4Checksum6(d);
}

/** The segment in the family of its addresses. */
export function buildTcpInet(f: TcpFields): L3Packet {
  return isIpv6(f.saddr) ? buildTcp6(f) : buildTcp(f);
}

const TCPOPT_NOP = 1;
const TCPOPT_MSS = 2;
const TCPOPT_WINDOW = 3;
const TCPOPT_SACK_PERM = 4;
const TCPOPT_TIMESTAMP = 8;

/**
 * The options in tcp_options_write's order (net/ipv4/tcp_output.c). A SYN or SYN-ACK: mss(4),
 * then with timestamps SACK_PERM and TIMESTAMP in one run, sackOK(2) TS(10), else nop nop
 * sackOK(2); then nop wscale(3): 20 bytes with timestamps, 12 without. Any other segment:
 * nop nop TS(10) with timestamps, nothing without.
 */
function tcpOptions(f: TcpFields): number[] {
  const ts = f.ts ? [TCPOPT_TIMESTAMP, 10, ...u32Bytes(f.ts.val), ...u32Bytes(f.ts.ecr)] : [];
  if (!f.syn) return ts.length ? [TCPOPT_NOP, TCPOPT_NOP, ...ts] : [];
  const sackTs = ts.length ? [TCPOPT_SACK_PERM, 2, ...ts] : [TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK_PERM, 2];
  return [TCPOPT_MSS, 4, f.syn.mss >> 8, f.syn.mss & 255, ...sackTs, TCPOPT_NOP, TCPOPT_WINDOW, 3, f.syn.wscale];
}

function u32Bytes(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

function tcpHeaderLength(f: TcpFields): number {
  return 20 + tcpOptions(f).length;
}

/** A TCP header (options included) at `at`, checksum 0: the family's pseudo-header fills it. */
function writeTcpHeader(d: Uint8Array, at: number, f: TcpFields): void {
  const options = tcpOptions(f);
  writeU16(d, at, f.sport);
  writeU16(d, at + 2, f.dport);
  writeU32(d, at + 4, f.seq >>> 0);
  writeU32(d, at + 8, f.ack >>> 0);
  d[at + 12] = ((20 + options.length) / 4) << 4;
  d[at + 13] = f.flags;
  writeU16(d, at + 14, f.window);
  d.set(options, at + 20);
}

/**
 * A fixed 40-byte IPv6 header with no extension headers (ip6_xmit, ip6_make_skb): version 6,
 * `tclass`, `flowLabel`, the payload length from the buffer's size.
 */
export function writeIpv6Header(d: Uint8Array, nexthdr: number, saddr: number, daddr: number, hopLimit: number, tclass = 0, flowLabel = 0): void {
  d[0] = 0x60 | (tclass >> 4);
  d[1] = ((tclass & 0x0f) << 4) | ((flowLabel >>> 16) & 0x0f);
  writeU16(d, 2, flowLabel & 0xffff);
  writeU16(d, 4, d.length - IPV6_HDR_LEN);
  d[6] = nexthdr;
  d[7] = hopLimit;
  d.set(ipv6Bytes(saddr), 8);
  d.set(ipv6Bytes(daddr), 24);
}

/** The packet of `d`, its TCP, UDP or ICMPv6 checksum computed over the IPv6 pseudo-header. */
function withL4Checksum6(d: Uint8Array): Ipv6Packet {
  const pkt = Ipv6Packet.adopt(d) as Ipv6Packet;
  pkt.fillL4Checksum();
  return pkt;
}

/**
 * The sequence numbers and flags of the RST answering segment `p`, alike in both families
 * (nf_reject_ip_tcphdr_put, nf_reject_ip6_tcphdr_put): an ACK's acknowledgement becomes the
 * sequence; otherwise the RST acknowledges what the segment consumed.
 */
export function resetSequence(p: L3Packet): { readonly seq: number; readonly ack: number; readonly flags: number } {
  const hasAck = (p.tcpFlags & TcpFlag.ACK) !== 0;
  const consumed = p.tcpPayloadLength + (p.tcpFlags & TcpFlag.SYN ? 1 : 0) + (p.tcpFlags & TcpFlag.FIN ? 1 : 0);
  return { seq: hasAck ? p.tcpAckSeq : 0, ack: hasAck ? 0 : (p.tcpSeq + consumed) >>> 0, flags: hasAck ? TcpFlag.RST : TcpFlag.RST | TcpFlag.ACK };
}

/**
 * The RST a host's TCP answers segment `p` with (tcp_v4_send_reset, tcp_v6_send_reset): the
 * segment's ACK number as sequence, or else acknowledging what it carried; IP id 0, window 0,
 * hop limit 64; over IPv6 traffic class 0 and flow label 0 (no flowlabel_reflect, the default).
 */
export function buildTcpReset(p: Ipv4Packet): Ipv4Packet;
export function buildTcpReset(p: L3Packet): L3Packet;
export function buildTcpReset(p: L3Packet): L3Packet {
  const { seq, ack, flags } = resetSequence(p);
  return buildTcpInet({
    saddr: p.daddr,
    daddr: p.saddr,
    sport: p.dport,
    dport: p.sport,
    seq,
    ack,
    flags,
    window: 0,
    ipId: 0,
    ttl: 64,
    payloadLength: 0,
  });
}

const IPTOS_PREC_INTERNETCONTROL = 0xc0;
const IPTOS_TOS_MASK = 0x1e;

/** icmp_send's size limit: the error, quote included, fits in 576 bytes. */
const ICMP_ERROR_MAX = 576;

/** An ICMP error about `quoted` (icmp_send): the quoted datagram's start, as much as fits. */
export function buildIcmpError(type: number, code: number, saddr: number, quoted: Ipv4Packet, ipId: number, info = 0): Ipv4Packet {
  const quote = quoted.data.subarray(0, Math.min(quoted.data.length, ICMP_ERROR_MAX - 28));
  const total = 28 + quote.length;
  const d = new Uint8Array(total);
  // icmp_send: precedence "internet control" over the quoted packet's TOS bits; no DF
  writeIpHeader(d, total, ipId, 64, IPPROTO.ICMP, saddr, quoted.saddr, IPTOS_PREC_INTERNETCONTROL | (quoted.data[1]! & IPTOS_TOS_MASK), false);
  d[20] = type;
  d[21] = code;
  writeU32(d, 24, info);
  d.set(quote, 28);
  writeU16(d, 22, checksum(d, 20, total));
  return Ipv4Packet.decode(d) as Ipv4Packet;
}

/**
 * A 20-byte IPv4 header with its checksum. Socket traffic carries don't-fragment, as Linux sets
 * it (path MTU discovery); the kernel's own ICMP socket does not (IP_PMTUDISC_DONT).
 */
function writeIpHeader(d: Uint8Array, total: number, id: number, ttl: number, proto: number, saddr: number, daddr: number, tos = 0, df = true): void {
  d[0] = 0x45;
  d[1] = tos;
  writeU16(d, 2, total);
  writeU16(d, 4, id);
  writeU16(d, 6, df ? 0x4000 : 0);
  d[8] = ttl;
  d[9] = proto;
  writeU32(d, 12, saddr);
  writeU32(d, 16, daddr);
  writeU16(d, 10, checksum(d, 0, 20));
}
