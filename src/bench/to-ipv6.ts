/**
 * The IPv6 twin of a workload packet, for the benchmark's IPv6 and mixed cases: the IPv4
 * packet the flow generators made, translated header for header as a stateless translator
 * would (RFC 7915, without its fragment and option cases, which the generators never make) —
 * the LAN's 10.0.0.0/16 under fd00::/96, the router's WAN address under 2001:db8:ffff::/96,
 * every other host under 64:ff9b::/96 (RFC 6052), TTL as hop limit, ICMP echo and port
 * unreachable as ICMPv6's (the quoted datagram translated too), the L4 checksum over the IPv6
 * pseudo-header. The flows keep their ports, ids and timing, so the cases compare families.
 */
import { IPPROTO } from '../netfilter/constants.js';
import { ipv6Bytes, parseIpv6 } from '../packet/ipv6-addr.js';
import { ICMPV6, Ipv6Packet } from '../packet/ipv6.js';
import { readU16, readU32, writeU16 } from '../packet/l3-packet.js';
import { WAN_ADDR } from './addresses.js';

const LAN_PREFIX = ipv6Bytes(parseIpv6('fd00::')!);
const WAN_PREFIX = ipv6Bytes(parseIpv6('2001:db8:ffff::')!);
const NAT64_PREFIX = ipv6Bytes(parseIpv6('64:ff9b::')!);

/** Whether the flow of this packet (by its remote host: not the LAN client, not the router) goes over IPv6 in the mixed case. */
export function remoteIsOdd(ipv4: Uint8Array, fromLan: boolean): boolean {
  return (readU32(ipv4, fromLan ? 16 : 12) & 1) === 1;
}

/** The IPv6 address an IPv4 address of the workload maps to, as 16 bytes. */
function mapAddr(v4: number): Uint8Array {
  const out = new Uint8Array(16);
  out.set(v4 >>> 16 === 0x0a00 ? LAN_PREFIX : v4 === WAN_ADDR ? WAN_PREFIX : NAT64_PREFIX);
  out[12] = v4 >>> 24;
  out[13] = (v4 >>> 16) & 255;
  out[14] = (v4 >>> 8) & 255;
  out[15] = v4 & 255;
  return out;
}

/** The IPv6 router's addresses and route, for the bench scenario (the IPv4 ones mapped). */
export const IPV6_ROUTER = {
  lan: 'fd00::a00:fffe/112',
  wan: '2001:db8:ffff::cb00:7101/120',
  gateway: '2001:db8:ffff::cb00:71fe',
} as const;

/** The translation of an IPv4 packet (whole, no options) of the workload; `quoted`: inside an ICMP error, L4 header cut short and left as it is. */
export function toIpv6(v4: Uint8Array, quoted = false): Uint8Array {
  const ihl = (v4[0]! & 0x0f) * 4;
  const proto = v4[9]!;
  const l4 = v4.subarray(ihl, quoted ? v4.length : readU16(v4, 2));
  const body = proto === IPPROTO.ICMP ? icmpToIcmpv6(l4) : l4.slice();
  const out = new Uint8Array(40 + body.length);
  out[0] = 0x60;
  out[1] = (v4[1]! & 0x0f) << 4;
  writeU16(out, 4, quoted ? readU16(v4, 2) - ihl + (body.length - l4.length) : body.length);
  out[6] = proto === IPPROTO.ICMP ? IPPROTO.ICMPV6 : proto;
  out[7] = v4[8]!;
  out.set(mapAddr(readU32(v4, 12)), 8);
  out.set(mapAddr(readU32(v4, 16)), 24);
  out.set(body, 40);
  if (quoted) return out;
  (Ipv6Packet.adopt(out) as Ipv6Packet).fillL4Checksum();
  return out;
}

/** ICMP echo request/reply and port unreachable as their ICMPv6 types; an error's quoted datagram translated. */
function icmpToIcmpv6(icmp: Uint8Array): Uint8Array {
  const type = icmp[0]!;
  if (type === 8 || type === 0) {
    const out = icmp.slice();
    out[0] = type === 8 ? ICMPV6.ECHO_REQUEST : ICMPV6.ECHO_REPLY;
    return out;
  }
  // destination unreachable, port unreachable → ICMPv6 1/4, the unused word zero
  const inner = toIpv6(icmp.subarray(8), true);
  const out = new Uint8Array(8 + inner.length);
  out[0] = ICMPV6.DEST_UNREACH;
  out[1] = 4;
  out.set(inner, 8);
  return out;
}
