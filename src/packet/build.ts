/**
 * Building packets that hosts originate (echo requests and replies, UDP datagrams), with
 * correct checksums.
 */
import { checksum, pseudoHeaderSum } from './checksum.js';
import { Ipv4Packet, writeU16, writeU32 } from './ipv4.js';
import { IPPROTO } from '../netfilter/constants.js';

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
  writeIpHeader(d, total, f.ipId, f.ttl, IPPROTO.ICMP, f.saddr, f.daddr);
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
}

export function buildUdp(f: UdpFields): Ipv4Packet {
  const udpLength = 8 + f.payload.length;
  const total = 20 + udpLength;
  const d = new Uint8Array(total);
  writeIpHeader(d, total, f.ipId, f.ttl, IPPROTO.UDP, f.saddr, f.daddr);
  writeU16(d, 20, f.sport);
  writeU16(d, 22, f.dport);
  writeU16(d, 24, udpLength);
  d.set(f.payload, 28);
  const sum = checksum(d, 20, total, pseudoHeaderSum(f.saddr, f.daddr, IPPROTO.UDP, udpLength));
  writeU16(d, 26, sum === 0 ? 0xffff : sum);
  return Ipv4Packet.decode(d) as Ipv4Packet;
}

/** A 20-byte IPv4 header, don't-fragment set as Linux sets it, checksum filled in. */
function writeIpHeader(d: Uint8Array, total: number, id: number, ttl: number, proto: number, saddr: number, daddr: number): void {
  d[0] = 0x45;
  writeU16(d, 2, total);
  writeU16(d, 4, id);
  writeU16(d, 6, 0x4000);
  d[8] = ttl;
  d[9] = proto;
  writeU32(d, 12, saddr);
  writeU32(d, 16, daddr);
  writeU16(d, 10, checksum(d, 0, 20));
}
