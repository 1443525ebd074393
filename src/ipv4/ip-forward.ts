/**
 * ip_forward (net/ipv4/ip_forward.c): the TTL check and decrement, the route's MTU
 * (ip_exceeds_mtu), an ICMP redirect if routing asked for one (ipv4/rt-redirect.ts),
 * NF_HOOK(FORWARD), then ip_output on the routed device.
 */
import { Hook } from '../netfilter/constants.js';
import type { Ipv4Skb } from '../netfilter/skb.js';
import type { Route } from '../host/fib.js';
import type { Host } from '../host/host.js';
import { ICMP_DEST_UNREACH, ICMP_EXC_TTL, ICMP_FRAG_NEEDED, ICMP_TIME_EXCEEDED } from '../packet/icmp.js';
import { icmpSend } from './icmp.js';
import { ipOutput } from './ip-output.js';
import { ipRtSendRedirect } from './rt-redirect.js';

/** `redirect`: the input route marked the packet IPSKB_DOREDIRECT. */
export function ipForward(host: Host, skb: Ipv4Skb, route: Route, redirect: boolean): void {
  skb.route = route;
  skb.outdev = route.dev;
  if (skb.pkt.ttl <= 1) {
    host.routeDrop(skb, 'TTL exceeded', 'ip_forward');
    icmpSend(host, skb, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL);
    return;
  }
  // ip_exceeds_mtu: a DF packet (or a fragment it was reassembled from) larger than the
  // route's MTU is refused with fragmentation needed, before FORWARD
  const mtu = route.dev!.mtu;
  if (exceedsMtu(skb, mtu)) {
    host.nf.mib.inc('IpFragFails');
    host.routeDrop(skb, `packet of ${skb.pkt.length} bytes with DF set does not fit the MTU ${mtu} of ${route.dev!.name} (ip_exceeds_mtu)`, 'ip_forward');
    icmpSend(host, skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, skb.time, mtu);
    return;
  }
  host.routeEvent(skb, 'forward', route);
  skb.pkt.decreaseTtl();
  if (redirect) ipRtSendRedirect(host, skb, route);
  if (!host.nfHook(Hook.Forward, skb, skb.indev, route.dev)) return;
  ipOutput(host, skb);
}

/**
 * ip_exceeds_mtu: whether ip_forward must refuse a packet for the route's MTU. Only DF packets
 * are refused; one conntrack reassembled is judged by the largest fragment it came in (IPCB
 * frag_max_size), and otherwise let through if ignore_df.
 */
export function exceedsMtu(skb: Ipv4Skb, mtu: number): boolean {
  if (skb.pkt.length <= mtu) return false;
  if (!skb.pkt.dontFragment) return false;
  if (skb.fragMaxSize > mtu) return true;
  return !skb.ignoreDf;
}
