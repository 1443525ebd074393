/**
 * The IPv6 output path (net/ipv6/ip6_output.c, output_core.c): ip6_local_out →
 * NF_HOOK(LOCAL_OUT) → dst_output (ip6_route_me_harder when NAT changed the destination) →
 * ip6_output → NF_HOOK(POST_ROUTING) → ip6_finish_output2, which hands the packet to the
 * neighbour of the route's gateway (or of the destination when on-link). The twin of
 * ipv4/ip-output.ts. On the way, __ip6_finish_output sends a packet larger than the device's
 * MTU, or one conntrack reassembled that is larger than the largest fragment it arrived in, to
 * ip6_fragment (ipv6/ip6-fragment.ts).
 */
import { Hook } from '../netfilter/constants.js';
import type { Ipv6Skb } from '../netfilter/skb.js';
import type { Host } from '../host/host.js';
import type { Route6 } from './route.js';
import { ip6Fragment } from './ip6-fragment.js';

/**
 * ip6_local_out for a locally made skb (icmp6_send's, a socket's): routed by its destination.
 * False when it got no further than a route or a hook (NF_HOOK's error: ndisc_send_skb counts
 * only what passed).
 */
export function ip6LocalOut(host: Host, skb: Ipv6Skb): boolean {
  const route = ip6RouteOutput(host, skb.pkt.daddr);
  if (!route) {
    host.dropped(skb, null, 'no route to host (local output)', null, 'ip6_route_output');
    return false;
  }
  skb.route6 = route;
  skb.outdev = route.dev;
  const daddr = skb.pkt.daddr;
  if (!host.nfHook(Hook.LocalOut, skb, null, route.dev)) return false;
  if (skb.pkt.daddr !== daddr && !ip6RouteMeHarder(host, skb)) return false; // NAT OUTPUT changed the destination
  return ip6Output(host, skb);
}

/**
 * ip6_route_output: the route a locally made packet takes; one to an address of this host
 * leaves by loopback (the local route's device is lo, as addrconf adds it).
 */
export function ip6RouteOutput(host: Host, daddr: number): Route6 | null {
  const route = host.fib6.lookup(daddr);
  if (!route || route.type !== 'local' && (route.type !== 'unicast' || !route.dev)) return null;
  if (route.type !== 'local') return route;
  const lo = host.device('lo');
  return lo && route.dev !== lo ? { ...route, dev: lo } : route;
}

/** ip6_route_me_harder (net/ipv6/netfilter.c) after a destination change in LOCAL_OUT. */
function ip6RouteMeHarder(host: Host, skb: Ipv6Skb): boolean {
  const route = ip6RouteOutput(host, skb.pkt.daddr);
  if (!route) {
    host.routeDrop(skb, 'no route after NAT OUTPUT', 'ip6_route_me_harder');
    return false;
  }
  skb.route6 = route;
  skb.outdev = route.dev;
  return true;
}

/** ip6_output → NF_HOOK(POST_ROUTING) → ip6_finish_output → ip6_finish_output2, or ip6_fragment on the way; false when POST_ROUTING took it. */
export function ip6Output(host: Host, skb: Ipv6Skb): boolean {
  const out = skb.outdev!;
  if (!host.nfHook(Hook.PostRouting, skb, skb.indev, out)) return false;
  const nexthop = skb.route6?.gateway ?? skb.pkt.daddr;
  const len = skb.pkt.length;
  // __ip6_finish_output (ip6_skb_dst_mtu: the route's device's MTU for a packet without a socket)
  if (len > out.mtu || (skb.fragMaxSize !== 0 && len > skb.fragMaxSize)) ip6Fragment(host, skb, out, nexthop);
  else host.neighOutput(skb, out, nexthop);
  return true;
}
