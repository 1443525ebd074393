/**
 * ICMP redirects of a router (net/ipv4/route.c). __mkroute_input marks a packet it forwards out
 * of the device it came in on (IPSKB_DOREDIRECT) when that device sends redirects
 * (IN_DEV_TX_REDIRECTS), fib_validate_source found the source on-link through it, and the
 * medium is shared or the source and the next hop share one of the device's subnets; ip_forward
 * then calls ip_rt_send_redirect, after the TTL is taken down and before NF_HOOK(FORWARD), so a
 * packet the FORWARD chain drops is redirected all the same. The redirect, "redirect host DST to
 * NEXTHOP" (type 5 code 1, the next hop in the gateway field), goes out through LOCAL_OUT with
 * the packet's conntrack entry: nf_nat_icmp_reply_translation drops it where NAT hooks run and
 * the entry is NATed or its NAT not yet done (a flow's first packet) — a hairpin NAT redirects
 * nobody. The backoff is the source's inet_peer's (ipv4/inetpeer.ts). Recordings
 * fixtures/kernel/icmp-redirect and icmp-redirect-nat.
 */
import { ifaMatch, type NetDevice } from '../host/device.js';
import type { Route } from '../host/fib.js';
import type { Host } from '../host/host.js';
import type { Ipv4Skb } from '../netfilter/skb.js';
import { ICMP_REDIR_HOST, ICMP_REDIRECT } from '../packet/icmp.js';
import { inDevSharedMedia, inDevTxRedirects } from './devconf.js';
import { icmpSend } from './icmp.js';

/** __mkroute_input's IPSKB_DOREDIRECT for a packet `dev` received and `route` forwards. */
export function marksRedirect(host: Host, skb: Ipv4Skb, dev: NetDevice, route: Route): boolean {
  if (route.dev !== dev || !inDevTxRedirects(host.sysctl, dev.name)) return false;
  const saddr = skb.pkt.saddr;
  if (!sourceOnLink(host, saddr, dev)) return false;
  return inDevSharedMedia(host.sysctl, dev.name) || dev.addrs.some((ifa) => ifaMatch(saddr, ifa) && (route.gateway === 0 || ifaMatch(route.gateway, ifa)));
}

/**
 * __fib_validate_source's return value, which __mkroute_input asks for (the full check it makes
 * when the device sends redirects and the packet leaves by it): 1 when the route back to the
 * source leaves by `dev` with no gateway (a next hop of scope host); a route back by another
 * device is looked up again bound to `dev`.
 */
function sourceOnLink(host: Host, saddr: number, dev: NetDevice): boolean {
  const back = host.fib.lookup(saddr);
  const via = back?.dev === dev ? back : host.fib.lookupOif(saddr, dev);
  return via !== null && via.type === 'unicast' && via.gateway === 0;
}

/** ip_rt_send_redirect: the redirect for a packet ip_forward is forwarding by `route`, if the peer's backoff allows one now. */
export function ipRtSendRedirect(host: Host, skb: Ipv4Skb, route: Route): void {
  if (!inDevTxRedirects(host.sysctl, route.dev!.name)) return;
  if (!host.peers.redirect(skb.pkt.saddr, skb.time)) return;
  // rt_nexthop: the route's gateway, or the destination itself on-link
  if (icmpSend(host, skb, ICMP_REDIRECT, ICMP_REDIR_HOST, skb.time, route.gateway || skb.pkt.daddr)) host.nf.mib.inc('IcmpOutRedirects');
}
