/**
 * REDIRECT (nf_nat_redirect_ipv4, net/netfilter/nf_nat_redirect.c): destination NAT to this
 * host — 127.0.0.1 for locally generated packets, else the first (primary) address of the
 * interface the packet came in on; no address there drops the packet.
 */
import { Hook, Verdict } from '../constants.js';
import { NatFlag, type NatRange } from '../rules/model.js';
import type { HookState } from '../hooks.js';
import type { Skb } from '../skb.js';
import { natSetupInfo } from './setup.js';
import { ManipType, type NatSearch } from './unique-tuple.js';

const INADDR_LOOPBACK = 0x7f000001;

export function redirect(s: NatSearch, skb: Skb, rule: NatRange, state: HookState): Verdict {
  const newDst = state.hook === Hook.LocalOut ? INADDR_LOOPBACK : (state.in?.addrs[0]?.local ?? 0);
  if (newDst === 0) {
    skb.drop = { reason: `REDIRECT: ${state.in?.name ?? 'the input interface'} has no IPv4 address` };
    return Verdict.Drop;
  }
  const range: NatRange = { ...rule, flags: rule.flags | NatFlag.MapIps, minAddr: newDst, maxAddr: newDst };
  return natSetupInfo(s, range, ManipType.Dst);
}
