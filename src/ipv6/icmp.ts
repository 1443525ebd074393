/**
 * icmp6_send (net/ipv6/icmp.c): the kernel's own ICMPv6 errors. The source is the offending
 * packet's destination when that is an address of the host, else the source selection toward
 * the offending packet's source out of the device the route back uses (ip6_route_output, then
 * ipv6_dev_get_saddr, or the route's preferred source); the hop limit is the device's hop_limit
 * (64); the message quotes as much of the offending packet as fits in the minimum MTU, 1280 bytes
 * (IPV6_MIN_MTU) with both headers. The flow label the kernel sets (ip6_make_flowlabel, a hash
 * of the flow under a per-boot secret) cannot be computed: the caller gives it. No error answers
 * an ICMPv6 error (icmpv6_err_convert's is_ineligible).
 */
import type { NetDevice } from '../host/device.js';
import type { Fib6 } from './route.js';
import { IPPROTO } from '../netfilter/constants.js';
import { ipv6Bytes } from '../packet/ipv6-addr.js';
import { IPV6_HDR_LEN, Ipv6Packet } from '../packet/ipv6.js';
import { writeU16 } from '../packet/ipv4.js';
import { ipv6DevGetSaddr } from './addrconf.js';

/** IPV6_MIN_MTU */
const MIN_MTU = 1280;
/** net.ipv6.conf.*.hop_limit's default (IPV6_DEFAULT_HOPLIMIT). */
export const DEFAULT_HOP_LIMIT = 64;

/** The source icmp6_send takes for an error about `offending`; null when it has no route back. */
export function icmpv6ErrorSource(fib6: Fib6, devices: readonly NetDevice[], offending: Ipv6Packet): number | null {
  if (fib6.lookup(offending.daddr)?.type === 'local') return offending.daddr;
  const back = fib6.lookup(offending.saddr);
  if (!back?.dev) return null;
  return back.prefsrc ?? ipv6DevGetSaddr(devices, back.dev, offending.saddr);
}

/** The error message: type, code and the 32-bit `info` (the MTU of packet too big, the pointer of a parameter problem). */
export function buildIcmpv6Error(type: number, code: number, info: number, saddr: number, offending: Ipv6Packet, flowLabel: number, hopLimit = DEFAULT_HOP_LIMIT): Ipv6Packet | null {
  if (offending.isIcmpv6Error()) return null;
  const quoted = offending.data.subarray(0, Math.min(offending.length, MIN_MTU - IPV6_HDR_LEN - 8));
  const bytes = new Uint8Array(IPV6_HDR_LEN + 8 + quoted.length);
  bytes[0] = 0x60;
  bytes[1] = (flowLabel >>> 16) & 0x0f;
  writeU16(bytes, 2, flowLabel & 0xffff);
  writeU16(bytes, 4, 8 + quoted.length);
  bytes[6] = IPPROTO.ICMPV6;
  bytes[7] = hopLimit;
  bytes.set(ipv6Bytes(saddr), 8);
  bytes.set(ipv6Bytes(offending.saddr), 24);
  bytes[40] = type;
  bytes[41] = code;
  writeU16(bytes, 44, info >>> 16);
  writeU16(bytes, 46, info & 0xffff);
  bytes.set(quoted, 48);
  const pkt = Ipv6Packet.decode(bytes) as Ipv6Packet;
  pkt.refreshIcmpChecksum();
  return pkt;
}
