/**
 * nf_nat_masquerade_ipv4 (net/netfilter/nf_nat_masquerade.c): source NAT to the address the
 * outgoing interface would use toward the route's next hop (inet_select_addr), remembering the
 * interface so the entry dies with it.
 */
import { Verdict } from '../constants.js';
import { Scope, type NetDevice } from '../../host/device.js';
import { inetSelectAddr } from '../../ipv4/devinet.js';
import { routeNexthop } from '../../host/fib.js';
import { formatIpv4 } from '../../packet/ipv4-addr.js';
import { Dir } from '../conntrack/tuple.js';
import { NatFlag, type NatRange } from '../rules/model.js';
import { isIpv6Skb, type Ipv6Skb, type Skb } from '../skb.js';
import { ipv6DevGetSaddr } from '../../ipv6/addrconf.js';
import { formatIpv6 } from '../../packet/ipv6-addr.js';
import type { HookState } from '../hooks.js';
import { natSetupInfo } from './setup.js';
import { ManipType, type NatSearch } from './unique-tuple.js';

/**
 * 1. A connection whose original source is 0.0.0.0 is left alone.
 * 2. next hop = the route's gateway, or the destination when on-link.
 * 3. source = inet_select_addr(out, next hop, RT_SCOPE_UNIVERSE); none → drop ("ate my IP address").
 * 4. Record masq_index, then nf_nat_setup_info with the rule's port range and that one address.
 */
export function masquerade(s: NatSearch, skb: Skb, rule: NatRange, devices: readonly NetDevice[], state: HookState): Verdict {
  if (isIpv6Skb(skb)) return masqueradeIpv6(s, skb, rule, devices, state);
  if (s.ct.src(Dir.Original) === 0) return Verdict.Accept;
  const out = state.out!;
  const nexthop = skb.route ? routeNexthop(skb.route, skb.pkt.daddr) : skb.pkt.daddr;
  const source = inetSelectAddr(devices, out, nexthop, Scope.Universe);
  if (source === 0) {
    skb.drop = { reason: `${out.name} ate my IP address (no usable IPv4 address for MASQUERADE)` };
    return Verdict.Drop;
  }
  state.notes?.push(`masquerade: out ${out.name}, next hop ${formatIpv4(nexthop)} -> source ${formatIpv4(source)}`);
  s.net.probe?.masqueraded(s.ct, { family: 'ipv4', out, toward: nexthop, gateway: skb.route?.gateway ?? 0, source });
  return masqueradeTo(s, rule, out, source);
}

/**
 * nf_nat_masquerade_ipv6: the source is what ipv6_dev_get_saddr picks out of the outgoing
 * device for the packet's destination (not the next hop); none → drop. No test of an
 * unspecified original source, unlike IPv4.
 */
function masqueradeIpv6(s: NatSearch, skb: Ipv6Skb, rule: NatRange, devices: readonly NetDevice[], state: HookState): Verdict {
  const out = state.out!;
  const source = ipv6DevGetSaddr(devices, out, skb.pkt.daddr);
  if (source === null) {
    skb.drop = { reason: `no IPv6 source address on ${out.name} for MASQUERADE (nat_ipv6_dev_get_saddr: -EADDRNOTAVAIL)` };
    return Verdict.Drop;
  }
  state.notes?.push(`masquerade: out ${out.name}, destination ${formatIpv6(skb.pkt.daddr)} -> source ${formatIpv6(source)} (ipv6_dev_get_saddr)`);
  s.net.probe?.masqueraded(s.ct, { family: 'ipv6', out, toward: skb.pkt.daddr, source });
  return masqueradeTo(s, rule, out, source);
}

/** Both families' end: masq_index, then nf_nat_setup_info with the rule's port range and that one address. */
function masqueradeTo(s: NatSearch, rule: NatRange, out: NetDevice, source: number): Verdict {
  s.ct.masqIndex = out.index;
  // written out, not spread from the rule's: the same object shape as every range the NAT core makes
  const range: NatRange = { flags: rule.flags | NatFlag.MapIps, minAddr: source, maxAddr: source, minProto: rule.minProto, maxProto: rule.maxProto, baseProto: rule.baseProto };
  return natSetupInfo(s, range, ManipType.Src);
}
