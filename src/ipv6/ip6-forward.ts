/**
 * ip6_forward (net/ipv6/ip6_output.c): forwarding on (net.ipv6.conf.all.forwarding), the hop
 * limit (time exceeded at 1, icmpv6_send's rate limit applies), a link-local source refused
 * with "beyond scope of source address", the path MTU (ip6_pkt_too_big: Packet Too Big, as
 * IPv6 routers never fragment what they forward — but a datagram conntrack reassembled is
 * judged by the largest fragment it came in, and is refragmented on output), the hop limit decrement, NF_HOOK(FORWARD), then ip6_output. The twin of
 * ipv4/ip-forward.ts. A packet leaving by the device it came in by gets its sender a redirect
 * (ipv6/ndisc-redirect.ts) before the MTU check, and skips the source checks (they are the
 * other branch of the kernel's test).
 */
import { Hook } from '../netfilter/constants.js';
import type { Ipv6Skb } from '../netfilter/skb.js';
import type { Host } from '../host/host.js';
import type { Route6 } from './route.js';
import { ICMPV6, IPV6_MIN_MTU } from '../packet/ipv6.js';
import { ipv6AddrType, Ipv6Scope } from './addrconf.js';
import { icmpv6Send } from './icmp.js';
import { ip6Output } from './ip6-output.js';
import { ip6ForwardRedirect } from './ndisc-redirect.js';

/** ICMPV6_EXC_HOPLIMIT, ICMPV6_NOT_NEIGHBOUR (beyond scope of source address). */
const ICMPV6_EXC_HOPLIMIT = 0;
const ICMPV6_NOT_NEIGHBOUR = 2;

export function ip6Forward(host: Host, skb: Ipv6Skb, route: Route6): void {
  skb.route6 = route;
  skb.outdev = route.dev;
  if (host.sysctl.n['net.ipv6.conf.all.forwarding'] === 0) return host.routeDrop(skb, 'forwarding disabled (net.ipv6.conf.all.forwarding=0; IPSTATS_MIB_INADDRERRORS)', 'ip6_forward');
  if (skb.pkt.hopLimit <= 1) {
    icmpv6Send(host, skb, ICMPV6.TIME_EXCEED, ICMPV6_EXC_HOPLIMIT);
    return host.routeDrop(skb, 'hop limit exceeded (IPSTATS_MIB_INHDRERRORS)', 'ip6_forward');
  }
  if (skb.indev === route.dev) {
    ip6ForwardRedirect(host, skb, route);
  } else {
    const src = ipv6AddrType(skb.pkt.saddr);
    if (src.any || src.multicast || src.loopback) return host.routeDrop(skb, 'source address may not be forwarded (IPSTATS_MIB_INADDRERRORS)', 'ip6_forward');
    if (src.scope === Ipv6Scope.LinkLocal) {
      icmpv6Send(host, skb, ICMPV6.DEST_UNREACH, ICMPV6_NOT_NEIGHBOUR);
      return host.routeDrop(skb, 'link-local source may not be forwarded (IPSTATS_MIB_INADDRERRORS)', 'ip6_forward');
    }
  }
  const mtu = Math.max(route.dev!.mtu, IPV6_MIN_MTU);
  if (ip6PktTooBig(skb, mtu)) {
    icmpv6Send(host, skb, ICMPV6.PKT_TOOBIG, 0, skb.time, mtu);
    host.nf.mib.inc('Ip6InTooBigErrors');
    host.nf.mib.inc('Ip6FragFails');
    const what = skb.fragMaxSize !== 0 ? `reassembled packet whose largest fragment (${skb.fragMaxSize} bytes)` : `packet of ${skb.pkt.length} bytes`;
    return host.routeDrop(skb, `${what} does not fit the MTU ${mtu} of ${route.dev!.name} (ip6_pkt_too_big)`, 'ip6_forward');
  }
  host.sink?.emit({ kind: 'route', time: skb.time, host: host.name, skb: skb.id, result: 'forward', dev: route.dev!.name, nexthop: route.gateway ?? skb.pkt.daddr, reason: null });
  skb.pkt.decreaseHopLimit();
  if (!host.nfHook(Hook.Forward, skb, skb.indev, route.dev)) return;
  ip6Output(host, skb);
}

/**
 * ip6_pkt_too_big: whether ip6_forward must refuse a packet for the route's MTU. One conntrack
 * reassembled is judged by the largest fragment it came in (IP6CB frag_max_size), and
 * otherwise let through for its ignore_df.
 */
export function ip6PktTooBig(skb: Ipv6Skb, mtu: number): boolean {
  if (skb.pkt.length <= mtu) return false;
  if (skb.fragMaxSize !== 0 && skb.fragMaxSize > mtu) return true;
  return !skb.ignoreDf;
}
