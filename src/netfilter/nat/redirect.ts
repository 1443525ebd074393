/**
 * REDIRECT (net/netfilter/nf_nat_redirect.c): destination NAT to this host. IPv4
 * (nf_nat_redirect_ipv4): 127.0.0.1 for locally generated packets, else the first (primary)
 * address of the interface the packet came in on; no address there drops the packet. IPv6
 * (nf_nat_redirect_ipv6): ::1 for locally generated packets, else the first address of the
 * input device's list (globals first, the newest first: ipv6_link_dev_addr's order) that
 * nf_nat_redirect_ipv6_usable takes for the destination's scope; none drops the packet.
 */
import { Hook, Verdict } from '../constants.js';
import { NatFlag, type NatRange } from '../rules/model.js';
import type { HookState } from '../hooks.js';
import { isIpv6Skb, type Skb } from '../skb.js';
import { IFA_F, ipv6AddrType, Ipv6Scope, type Inet6Ifaddr } from '../../ipv6/addrconf.js';
import { ipv6Words, parseIpv6 } from '../../packet/ipv6-addr.js';
import { natSetupInfo } from './setup.js';
import { ManipType, type NatSearch } from './unique-tuple.js';

const INADDR_LOOPBACK = 0x7f000001;
const IN6ADDR_LOOPBACK = parseIpv6('::1')!;

export function redirect(s: NatSearch, skb: Skb, rule: NatRange, state: HookState): Verdict {
  const v6 = isIpv6Skb(skb);
  const newDst = state.hook === Hook.LocalOut ? (v6 ? IN6ADDR_LOOPBACK : INADDR_LOOPBACK) : v6 ? ipv6InputAddr(state, skb.pkt.daddr) : (state.in?.addrs[0]?.local ?? 0);
  if (newDst === 0) {
    skb.drop = { reason: `REDIRECT: ${state.in?.name ?? 'the input interface'} has no ${v6 ? 'usable IPv6 address for the destination\'s scope' : 'IPv4 address'}` };
    return Verdict.Drop;
  }
  const range: NatRange = { ...rule, flags: rule.flags | NatFlag.MapIps, minAddr: newDst, maxAddr: newDst };
  return natSetupInfo(s, range, ManipType.Dst);
}

/** nf_nat_redirect_ipv6 past LOCAL_OUT: the input device's first usable address, or 0 for none. */
function ipv6InputAddr(state: HookState, daddr: number): number {
  const scope = scopeBits(daddr);
  return state.in?.addrs6.find((ifa) => usable(ifa, scope))?.addr ?? 0;
}

/**
 * ipv6_addr_scope: the IPV6_ADDR_SCOPE_MASK bits of __ipv6_addr_type — loopback (and
 * interface-local multicast) 0x10, link-local 0x20, site-local 0x40, global (and the rest) 0.
 */
function scopeBits(addr: number): number {
  const t = ipv6AddrType(addr);
  if (t.loopback || (t.multicast && t.scope === Ipv6Scope.NodeLocal)) return 0x10;
  if (t.scope === Ipv6Scope.LinkLocal) return 0x20;
  return t.scope === Ipv6Scope.SiteLocal ? 0x40 : 0;
}

/** nf_nat_redirect_ipv6_usable: not IPv4-mapped, not tentative (unless optimistic), of the scope when it has one. */
function usable(ifa: Inet6Ifaddr, scope: number): boolean {
  const w = ipv6Words(ifa.addr);
  if (w[0] === 0 && w[1] === 0 && w[2] === 0x0000ffff) return false;
  if (ifa.flags & IFA_F.TENTATIVE && !(ifa.flags & IFA_F.OPTIMISTIC)) return false;
  return scope === 0 || (scopeBits(ifa.addr) & scope) !== 0;
}
