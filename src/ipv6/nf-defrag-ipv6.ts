/**
 * nf_defrag_ipv6 (net/ipv6/netfilter/nf_defrag_ipv6_hooks.c ipv6_defrag, at PRE_ROUTING and
 * LOCAL_OUT −400): a packet with a fragment header goes to nf_ct_frag6_gather, which natsim
 * does not model — the fragment is refused by name (dropped with that reason) rather than
 * tracked as if it were whole. A whole packet passes.
 */
import { Verdict } from '../netfilter/constants.js';
import type { HookState } from '../netfilter/hooks.js';
import type { Ipv6Skb } from '../netfilter/skb.js';

export function ipv6Defrag(skb: Ipv6Skb, state: HookState): Verdict {
  // "previously seen (loopback)": a looped-back packet keeps its entry and is left alone
  if (skb.ct || (skb.pkt.fragOffset === 0 && !skb.pkt.moreFragments)) return Verdict.Accept;
  state.notes?.push('IPv6 fragment: reassembly for conntrack (nf_ct_frag6_gather) is not modelled');
  skb.drop = { reason: 'IPv6 fragment: nf_ct_frag6_gather not modelled by natsim' };
  return Verdict.Drop;
}
