/**
 * IPv6's redirect (net/ipv6/ip6_output.c ip6_forward, net/ipv6/ndisc.c ndisc_send_redirect): a
 * packet a router forwards out of the device it came in on gets its sender an ICMPv6 redirect
 * (type 137) naming a better first hop — the route's gateway, or the destination itself when
 * on-link. ip6_forward limits redirects by destination (its inet_peer, one a second, burst 6);
 * ndisc_send_redirect sends none without a link-local address on the device, for a gateway that
 * is not link-local, or to a source not on-link, and limits them by source as well. The message
 * goes from the device's link-local address with hop limit 255, and carries the target's
 * link-layer address once the neighbour is valid, and as much of the packet as keeps it within
 * IPV6_MIN_MTU (the redirected header option). Recording fixtures/kernel/ndisc-redirect.
 */
import type { NetDevice } from '../host/device.js';
import type { Host } from '../host/host.js';
import { Skb, type Ipv6Skb } from '../netfilter/skb.js';
import { ICMPV6, IPV6_HDR_LEN, IPV6_MIN_MTU, ND_OPT } from '../packet/ipv6.js';
import { HZ } from '../netfilter/rules/jiffies.js';
import { ipv6Bytes } from '../packet/ipv6-addr.js';
import { IFA_F, ipv6AddrType, Ipv6Scope } from './addrconf.js';
import { buildIcmpv6 } from './icmp.js';
import { ip6LocalOut } from './ip6-output.js';
import type { Route6 } from './route.js';

/** struct rd_msg (the ICMPv6 header, target and destination). */
const RD_MSG_LEN = 40;

/** ip6_forward's redirect, for a packet `route` sends back out of the device it came in on. */
export function ip6ForwardRedirect(host: Host, skb: Ipv6Skb, route: Route6): void {
  const target = route.gateway ?? skb.pkt.daddr;
  // "Limit redirects both by destination (here) and by source (inside ndisc_send_redirect)"
  if (!host.peers.xrlimAllow(skb.pkt.daddr, skb.time, false, HZ)) return;
  ndiscSendRedirect(host, skb, route.dev!, target);
}

/** ipv6_get_lladdr: the device's first link-local address that is not tentative. */
function linkLocalAddress(dev: NetDevice): number | null {
  return dev.addrs6.find((a) => ipv6AddrType(a.addr).scope === Ipv6Scope.LinkLocal && !(a.flags & IFA_F.TENTATIVE))?.addr ?? null;
}

function ndiscSendRedirect(host: Host, skb: Ipv6Skb, dev: NetDevice, target: number): void {
  const p = skb.pkt;
  const saddr = linkLocalAddress(dev);
  if (saddr === null) return; // "no link-local address"
  const t = ipv6AddrType(target);
  if (target !== p.daddr && (t.multicast || t.scope !== Ipv6Scope.LinkLocal)) return; // "target address is not link-local unicast"
  const back = host.fib6.lookup(p.saddr);
  // ip6_route_output: no route or a reject route (dst->error) ends it; then a gateway: "destination is not a neighbour"
  if (back === null || (back.type !== 'unicast' && back.type !== 'local') || back.gateway !== null) return;
  if (!host.peers.xrlimAllow(p.saddr, skb.time, false, HZ)) return;
  // the target's link-layer address when its entry is NUD_VALID (dst_neigh_lookup resolves nothing)
  const lladdr = host.validNeighbour(dev, target, skb.time);
  const optLen = lladdr === null ? 0 : 8;
  const rdLen = Math.min(IPV6_MIN_MTU - IPV6_HDR_LEN - RD_MSG_LEN - optLen, p.length + 8) & ~7;
  const body = new Uint8Array(32 + optLen + rdLen);
  body.set(ipv6Bytes(target), 0);
  body.set(ipv6Bytes(p.daddr), 16);
  if (lladdr !== null) {
    body[32] = ND_OPT.TARGET_LL_ADDR;
    body[33] = 1;
    body.set(lladdr, 34);
  }
  const hdr = 32 + optLen;
  body[hdr] = ND_OPT.REDIRECT_HDR;
  body[hdr + 1] = rdLen >> 3;
  body.set(p.data.subarray(0, rdLen - 8), hdr + 8);
  const redirect = buildIcmpv6({ saddr, daddr: p.saddr, type: ICMPV6.NDISC_REDIRECT, code: 0, word: 0, body, flowLabel: 0, hopLimit: 255 });
  // ndisc_send_skb counts (ICMP6MSGOUT_INC_STATS) only a redirect its hooks let out
  if (ip6LocalOut(host, new Skb(host.nextSkbId(), redirect, skb.time, skb.cpu, null))) host.nf.mib.inc('Icmp6OutRedirects');
}
