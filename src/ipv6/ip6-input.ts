/**
 * The IPv6 receive path (net/ipv6/ip6_input.c): ipv6_rcv → ip6_rcv_core's checks →
 * NF_HOOK(PRE_ROUTING) → ip6_rcv_finish, where ip6_route_input decides → ip6_input
 * (NF_HOOK(LOCAL_IN), the socket) or ip6_forward (ipv6/ip6-forward.ts). The twin of ipv4/ip-input.ts.
 */
import { Hook } from '../netfilter/constants.js';
import type { Ipv6Skb } from '../netfilter/skb.js';
import type { NetDevice } from '../host/device.js';
import type { Host } from '../host/host.js';
import { ipv6AddrType } from './addrconf.js';
import { ip6Forward } from './ip6-forward.js';
import { icmpv6Send } from './icmp.js';
import { ICMPV6, IPV6_HDR_LEN } from '../packet/ipv6.js';
import { NEXTHDR } from './exthdrs-core.js';
import { formatIpv6, ipv6Word } from '../packet/ipv6-addr.js';

/** ICMPV6_NOROUTE and ICMPV6_ADM_PROHIBITED: ip6_pkt_discard's and ip6_pkt_prohibit's codes. */
const ICMPV6_NOROUTE = 0;
const ICMPV6_ADM_PROHIBITED = 1;

/** ipv6_rcv: a packet that arrived on `dev` (the host has counted and shown it). */
export function ipv6Rcv(host: Host, skb: Ipv6Skb, dev: NetDevice): void {
  const bad = ip6RcvCore(skb, dev);
  if (bad) return host.dropped(skb, null, bad, null, 'ip6_rcv_core');
  if (!host.nfHook(Hook.PreRouting, skb, dev, null)) return;
  ip6RcvFinish(host, skb, dev);
}

/**
 * ip6_rcv_core's checks on the fixed header (the lengths were checked when the packet was read)
 * and the hop-by-hop header it parses; the reason for a drop, or null. Other extension headers
 * are not read here: a chain truncated after them reaches conntrack, which finds no protocol.
 */
function ip6RcvCore(skb: Ipv6Skb, dev: NetDevice): string | null {
  if (skb.otherHost) return 'frame for another host (PACKET_OTHERHOST)';
  const src = ipv6AddrType(skb.pkt.saddr);
  const dst = ipv6AddrType(skb.pkt.daddr);
  // RFC 4291 2.7: a multicast source is never valid
  if (src.multicast) return 'multicast source address (IPSTATS_MIB_INHDRERRORS)';
  // RFC 4291 2.5.3: the loopback address never comes in on a real interface
  if (dev.type !== 'loopback' && (src.loopback || dst.loopback)) return 'loopback address on a non-loopback device (IPSTATS_MIB_INHDRERRORS)';
  // RFC 4291 2.7: interface-local multicast only on loopback
  if (dev.type !== 'loopback' && dst.multicast && dst.scope === 1) return 'interface-local multicast from outside (IPSTATS_MIB_INHDRERRORS)';
  // ipv6_parse_hopopts: a hop-by-hop header must be all there (its options are not modelled)
  const p = skb.pkt;
  if (p.nexthdr === NEXTHDR.HOP && (p.length < IPV6_HDR_LEN + 8 || p.length < IPV6_HDR_LEN + (p.data[IPV6_HDR_LEN + 1]! + 1) * 8)) return 'truncated hop-by-hop options header (ipv6_parse_hopopts; IPSTATS_MIB_INHDRERRORS)';
  return null;
}

/**
 * ip6_rcv_finish → ip6_route_input: a local address (or a multicast group the host is in:
 * all-nodes, and the solicited-node groups of its addresses) is delivered; a unicast route is
 * forwarded; no route, an unreachable or a prohibit route is answered with ICMPv6 destination
 * unreachable (ip6_pkt_discard / ip6_pkt_prohibit), a blackhole route drops silently.
 */
function ip6RcvFinish(host: Host, skb: Ipv6Skb, dev: NetDevice): void {
  const daddr = skb.pkt.daddr;
  if (ipv6AddrType(daddr).multicast) {
    if (!memberOf(dev, daddr, host.sysctl.n['net.ipv6.conf.all.forwarding'] === 1)) return host.routeDrop(skb, `multicast group ${formatIpv6(daddr)} not joined on ${dev.name} (ip6_mc_input: no multicast routing)`, 'ip6_mc_input');
    return ip6Input(host, skb, dev);
  }
  const route = host.fib6.lookup(daddr);
  if (route?.type === 'local') {
    skb.route6 = route;
    host.sink?.emit({ kind: 'route', time: skb.time, host: host.name, skb: skb.id, result: 'local', dev: route.dev?.name ?? null, nexthop: daddr, reason: null });
    return ip6Input(host, skb, dev);
  }
  if (!route || route.type === 'unreachable' || route.type === 'prohibit') {
    host.routeDrop(skb, route ? `route type ${route.type}` : 'no route to host (IPSTATS_MIB_INNOROUTES)', route ? 'ip6_pkt_prohibit' : 'ip6_pkt_discard');
    icmpv6Send(host, skb, ICMPV6.DEST_UNREACH, route?.type === 'prohibit' ? ICMPV6_ADM_PROHIBITED : ICMPV6_NOROUTE);
    return;
  }
  if (route.type === 'blackhole' || !route.dev) return host.routeDrop(skb, `route type ${route.type}`, 'dst_discard');
  ip6Forward(host, skb, route);
}

/** ip6_input: NF_HOOK(LOCAL_IN), then the socket layer. */
function ip6Input(host: Host, skb: Ipv6Skb, dev: NetDevice): void {
  if (!host.nfHook(Hook.LocalIn, skb, dev, null)) return;
  host.deliverLocal(skb);
}

/**
 * ipv6_chk_mcast_addr for the groups every IPv6 device joins: all-nodes ff02::1 and
 * ff02::1:ffXX:XXXX of each of its addresses; and while it forwards, all-routers ff02::2 and
 * ff05::2 (dev_forward_change, ipv6_add_dev).
 */
function memberOf(dev: NetDevice, group: number, forwarding: boolean): boolean {
  const g0 = ipv6Word(group, 0);
  const g1 = ipv6Word(group, 1);
  const g2 = ipv6Word(group, 2);
  const g3 = ipv6Word(group, 3);
  if (g0 === 0xff020000 && g1 === 0 && g2 === 0 && g3 === 1) return true;
  if (forwarding && (g0 === 0xff020000 || g0 === 0xff050000) && g1 === 0 && g2 === 0 && g3 === 2) return true;
  if (g0 !== 0xff020000 || g1 !== 0 || g2 !== 1 || g3 >>> 24 !== 0xff) return false;
  return dev.addrs6.some((a) => (ipv6Word(a.addr, 3) & 0xffffff) === (g3 & 0xffffff));
}
