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
import type { Host } from '../host/host.js';
import { answerTo } from '../ipv4/icmp.js';
import { Skb, type Ipv6Skb } from '../netfilter/skb.js';
import type { Fib6 } from './route.js';
import { IPPROTO } from '../netfilter/constants.js';
import { ICMPV6, IPV6_HDR_LEN, IPV6_MIN_MTU, Ipv6Packet } from '../packet/ipv6.js';
import { msecsToJiffies } from '../netfilter/rules/jiffies.js';
import { writeU16 } from '../packet/ipv4.js';
import { writeIpv6Header } from '../packet/build.js';
import { ipv6AddrType, ipv6DevGetSaddr } from './addrconf.js';

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
  const quoted = offending.data.subarray(0, Math.min(offending.length, IPV6_MIN_MTU - IPV6_HDR_LEN - 8));
  return buildIcmpv6({ saddr, daddr: offending.saddr, type, code, word: info, body: quoted, flowLabel, hopLimit });
}

export interface Icmpv6Message {
  readonly saddr: number;
  readonly daddr: number;
  readonly type: number;
  readonly code: number;
  /** The header's second 32-bit word (an error's info, an echo's id << 16 | seq). */
  readonly word: number;
  readonly body: Uint8Array;
  readonly flowLabel: number;
  readonly hopLimit: number;
}

/** An ICMPv6 message in its own IPv6 packet, checksum over the pseudo-header computed. */
export function buildIcmpv6(m: Icmpv6Message): Ipv6Packet {
  const bytes = new Uint8Array(IPV6_HDR_LEN + 8 + m.body.length);
  writeIpv6Header(bytes, IPPROTO.ICMPV6, m.saddr, m.daddr, m.hopLimit, 0, m.flowLabel);
  bytes[40] = m.type;
  bytes[41] = m.code;
  writeU16(bytes, 44, m.word >>> 16);
  writeU16(bytes, 46, m.word & 0xffff);
  bytes.set(m.body, 48);
  const pkt = Ipv6Packet.adopt(bytes) as Ipv6Packet;
  pkt.refreshIcmpChecksum();
  return pkt;
}

/**
 * icmpv6_echo_reply: the kernel answers an echo request for this host itself, from the address
 * it was sent to (a unicast one; for a multicast request the source selection toward the
 * sender), with the request's identifier, sequence and data, hop limit 64, flow label 0 (see icmpv6Send).
 */
export function icmpv6Echo(host: Host, request: Ipv6Skb): void {
  const p = request.pkt;
  if (p.proto !== IPPROTO.ICMPV6 || p.icmpType !== ICMPV6.ECHO_REQUEST || p.l4off + 8 > p.length) return;
  const saddr = ipv6AddrType(p.daddr).multicast ? ipv6DevGetSaddr(host.devices, request.indev, p.saddr) : p.daddr;
  if (saddr === null) return;
  const word = ((p.data[p.l4off + 4]! << 24) | (p.data[p.l4off + 5]! << 16) | (p.data[p.l4off + 6]! << 8) | p.data[p.l4off + 7]!) >>> 0;
  const reply = buildIcmpv6({ saddr, daddr: p.saddr, type: ICMPV6.ECHO_REPLY, code: 0, word, body: p.data.subarray(p.l4off + 8), flowLabel: 0, hopLimit: DEFAULT_HOP_LIMIT });
  host.localOut(new Skb(host.nextSkbId(), reply, request.time, request.cpu, null));
}

/** net.ipv6.icmp.ratemask's default, 0-1,3-127: every error but packet too big is rate-limited (informational types never are). */
function rateLimited(type: number): boolean {
  return type < 128 && type !== ICMPV6_PKT_TOOBIG;
}
const ICMPV6_PKT_TOOBIG = 2;

/**
 * icmp6_send: the kernel's ICMPv6 error about `offending`, sent through ip6_local_out (IPv6
 * output's LOCAL_OUT, where conntrack finds the connection it is RELATED to). Not for a packet
 * from the unspecified or a multicast source, nor about an ICMPv6 error; without a route back
 * nothing is sent; icmpv6_xrlim_allow limits errors per peer to one per net.ipv6.icmp.ratelimit
 * ms, the interval shifted right by (128 − the route's prefix length) / 32 (a /64 route back:
 * a quarter), never toward loopback. The error carries the offending packet's entry
 * (icmpv6_getfrag's nf_ct_attach), so conntrack does not look it up. True when the error was sent. The flow label is 0: the
 * kernel's (ip6_make_flowlabel) hashes the flow with a per-boot secret.
 */
export function icmpv6Send(host: Host, offending: Ipv6Skb, type: number, code: number, now = offending.time, info = 0): boolean {
  const p = offending.pkt;
  // an error only about a packet to one node (packet too big aside), from one, and not an error itself
  if (ipv6AddrType(p.daddr).multicast && type !== ICMPV6_PKT_TOOBIG) return false;
  const src = ipv6AddrType(p.saddr);
  if (src.any || src.multicast || p.isIcmpv6Error()) return false;
  // icmpv6_global_allow: IPv4's global limit, the same credit and counter (none for a packet on
  // lo: the device it came in on, or a host's own packet's out device; natsim does not tell a
  // REJECT in OUTPUT, which nf_send_unreach6 gives loopback_dev, from the rest)
  const limited = rateLimited(type) && (offending.indev ?? offending.outdev)?.type !== 'loopback';
  if (limited && !host.icmpGlobal.allow(now)) {
    host.nf.mib.inc('IcmpOutRateLimitGlobal');
    return false;
  }
  const saddr = icmpv6ErrorSource(host.fib6, host.devices, p);
  if (saddr === null) return false;
  const back = host.fib6.lookup(p.saddr)!;
  if (limited) {
    // icmpv6_xrlim_allow: none to a local address; icmpv6_time in jiffies, shifted right for a
    // wider prefix ("more bandwidth"); then the global credit spent
    const tmo = msecsToJiffies(host.sysctl.num('net.ipv6.icmp.ratelimit')) >> (back.prefixLen < 128 ? (128 - back.prefixLen) >> 5 : 0);
    if (back.type !== 'local' && !host.peers.xrlimAllow(p.saddr, now, false, tmo)) {
      host.nf.mib.inc('Icmp6OutRateLimitHost');
      return false;
    }
    host.icmpGlobal.consume();
  }
  const error = buildIcmpv6Error(type, code, info, saddr, p, 0);
  if (error === null) return false;
  host.localOut(answerTo(host, offending, error, now));
  return true;
}
