/**
 * `-m addrtype` on IPv6 (net/netfilter/xt_addrtype.c, match_type6 and match_lookup_rt6): the
 * types are not the route's one type as for IPv4 but conditions, all of which must hold —
 * MULTICAST and UNICAST by ipv6_addr_type, and LOCAL, ANYCAST and UNREACHABLE (any of them) by
 * the route to the address: an unreachable or reject route is UNREACHABLE, a local one LOCAL,
 * one whose destination is the address itself on-link (ipv6_anycast_destination's subnet-router
 * anycast) ANYCAST. addrtype_mt_checkentry refuses BROADCAST, BLACKHOLE and PROHIBIT for IPv6.
 * natsim reads no --limit-iface-in/out, so the lookup is never bound to a device. nft's
 * `fib … type` loads one type instead (__nft_fib6_eval_type): fibType6.
 */
import type { Route6 } from '../../ipv6/route.js';
import { ipv6AddrType } from '../../ipv6/addrconf.js';
import { AddrType } from './model.js';

/** The types addrtype_mt_checkentry refuses in an ip6tables rule. */
export const ADDRTYPE6_REFUSED = AddrType.Broadcast | AddrType.Blackhole | AddrType.Prohibit;

/** match_type6: whether `addr` has every type of `mask` (the route ones: any of them). */
export function matchType6(addr: number, mask: number, route: Route6 | null): boolean {
  const t = ipv6AddrType(addr);
  if (mask & AddrType.Multicast && !t.multicast) return false;
  // IPV6_ADDR_UNICAST: neither multicast nor the unspecified address
  if (mask & AddrType.Unicast && (t.multicast || t.any)) return false;
  const routed = AddrType.Local | AddrType.Anycast | AddrType.Unreachable;
  return (mask & routed) === 0 || (mask & lookupRt6(addr, route)) !== 0;
}

/** match_lookup_rt6 without a device: what the route toward `addr` says of it. */
function lookupRt6(addr: number, route: Route6 | null): number {
  // nf_ip6_route fails on no route and on a reject route (its dst carries the error)
  if (route === null || route.type === 'unreachable' || route.type === 'blackhole' || route.type === 'prohibit') return AddrType.Unreachable;
  let ret = route.type === 'local' ? AddrType.Local : 0;
  if (route.type === 'unicast' && route.prefixLen < 127 && route.gateway === null && route.dst === addr) ret |= AddrType.Anycast;
  return ret;
}

/**
 * __nft_fib6_eval_type without a device: a failed lookup by its error (blackhole, prohibit,
 * else unreachable), then anycast or local by the route, then multicast or unicast by the
 * address (RTN_UNSPEC, no type, for ::).
 */
export function fibType6(addr: number, route: Route6 | null): number {
  const t = ipv6AddrType(addr);
  // the kernel's local table routes ff00::/8, which natsim's FIB leaves out: no lookup error for it
  if (t.multicast) return AddrType.Multicast;
  if (route === null || route.type === 'unreachable') return AddrType.Unreachable;
  if (route.type === 'blackhole') return AddrType.Blackhole;
  if (route.type === 'prohibit') return AddrType.Prohibit;
  const looked = lookupRt6(addr, route);
  if (looked & AddrType.Anycast) return AddrType.Anycast;
  if (looked & AddrType.Local) return AddrType.Local;
  return t.any ? 0 : AddrType.Unicast;
}
