/**
 * Building packets that hosts originate (echo requests and replies, UDP datagrams, TCP
 * segments, ICMP errors), with correct checksums.
 */
import { checksum, pseudoHeaderSum } from './checksum.js';
import { Ipv4Packet, TcpFlag, writeU16, writeU32 } from './ipv4.js';
import { IPPROTO } from '../netfilter/constants.js';
import { ICMP_ECHO } from './icmp.js';
import type { L3Packet } from './l3-packet.js';

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
  writeU16(d, 20, f.sport);
  writeU16(d, 22, f.dport);
  writeU16(d, 24, udpLength);
  d.set(f.payload, 28);
  const sum = checksum(d, 20, total, pseudoHeaderSum(f.saddr, f.daddr, IPPROTO.UDP, udpLength));
  writeU16(d, 26, sum === 0 ? 0xffff : sum);
  return Ipv4Packet.decode(d) as Ipv4Packet;
}

/** The TCP options Linux puts in a SYN, without timestamps: MSS, SACK permitted, window scale. */
export interface SynOptions {
  readonly mss: number;
  readonly wscale: number;
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
  readonly payloadLength: number;
}

/** A TCP segment; the payload is zero bytes (only its length matters to netfilter). */
export function buildTcp(f: TcpFields): Ipv4Packet {
  // mss(4) nop nop sackperm(2) nop wscale(3): 12 bytes, as Linux orders them without timestamps
  const options = f.syn ? [2, 4, f.syn.mss >> 8, f.syn.mss & 255, 1, 1, 4, 2, 1, 3, 3, f.syn.wscale] : [];
  const tcpLength = 20 + options.length + f.payloadLength;
  const total = 20 + tcpLength;
  const d = new Uint8Array(total);
  writeIpHeader(d, total, f.ipId, f.ttl, IPPROTO.TCP, f.saddr, f.daddr);
  writeU16(d, 20, f.sport);
  writeU16(d, 22, f.dport);
  writeU32(d, 24, f.seq >>> 0);
  writeU32(d, 28, f.ack >>> 0);
  d[32] = ((20 + options.length) / 4) << 4;
  d[33] = f.flags;
  writeU16(d, 34, f.window);
  d.set(options, 40);
  writeU16(d, 36, checksum(d, 20, total, pseudoHeaderSum(f.saddr, f.daddr, IPPROTO.TCP, tcpLength)));
  return Ipv4Packet.decode(d) as Ipv4Packet;
}

/**
 * The RST that answers a TCP segment (tcp_v4_send_reset, nf_reject_ip_tcphdr_put): with the
 * segment's ACK number as sequence, or else acknowledging what it carried; IP id 0, window 0.
 */
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

export function buildTcpReset(p: Ipv4Packet): Ipv4Packet {
  const { seq, ack, flags } = resetSequence(p);
  return buildTcp({
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
