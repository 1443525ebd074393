/**
 * nf_defrag_ipv6 (net/ipv6/netfilter/nf_defrag_ipv6_hooks.c ipv6_defrag, at PRE_ROUTING and
 * LOCAL_OUT −400, before conntrack): a packet with a fragment header goes to nf_ct_frag6_gather
 * (ipv6/nf-conntrack-reasm.ts) and is stolen until its datagram is whole; the fragment that
 * completes it goes on through the hook as the whole datagram, the fragment header taken out,
 * with ignore_df set and IP6CB(skb)->frag_max_size recorded, so that output refragments it no
 * larger than it came (ip6_fragment). What nf_ct_frag6_gather does not queue passes as it is.
 *
 * A queue's timer (nf_ct_frag6_expire, armed through the host's ports) kills it when it runs
 * out: one whose first fragment had come earns its source an ICMPv6 "fragment reassembly time
 * exceeded".
 */
import { Hook, Verdict } from '../netfilter/constants.js';
import type { HookState } from '../netfilter/hooks.js';
import type { NetfilterNet } from '../netfilter/net.js';
import { Skb, type Ipv6Skb } from '../netfilter/skb.js';
import type { Host } from '../host/host.js';
import { ICMPV6 } from '../packet/ipv6.js';
import { continueReassembled } from '../netfilter/inet-fragment.js';
import { Frag6User } from './nf-conntrack-reasm.js';
import { icmpv6Send } from './icmp.js';

/** ICMPV6_EXC_FRAGTIME: fragment reassembly time exceeded. */
const ICMPV6_EXC_FRAGTIME = 1;

export function ipv6Defrag(net: NetfilterNet, skb: Ipv6Skb, state: HookState): Verdict {
  // "previously seen (loopback)": a looped-back packet keeps its entry and is left alone
  if (skb.ct || skb.untracked) return Verdict.Accept;
  // nf_ct6_defrag_user; the key's iif is skb->dev's, none for a locally made packet
  const user = state.hook === Hook.LocalOut ? Frag6User.ConntrackOut : Frag6User.ConntrackIn;
  const result = net.frag6.gather(skb.pkt, user, skb.indev?.index ?? 0, skb.time);
  switch (result.kind) {
    case 'pass':
      return Verdict.Accept;
    case 'queued':
      state.notes?.push(result.duplicate ? 'duplicate fragment dropped as if queued (nf_ct_frag6_queue: IPFRAG_DUP)' : `fragment at offset ${skb.pkt.fragOffset} held for reassembly (nf_ct_frag6_gather)`);
      return Verdict.Stolen;
    case 'dropped':
      skb.drop = { reason: `${result.reason} (nf_ct_frag6_gather)` };
      return Verdict.Drop;
    case 'whole':
      return continueReassembled(skb, state, result, 'nf_ct_frag6_reasm');
  }
}

/**
 * nf_ct_frag6_expire → ip6frag_expire_frag_queue for the queues whose timer ran by `now`: the
 * first fragment, with the device it came in by, is quoted in icmpv6_send's time exceeded.
 */
export function nfCtFrag6Expire(host: Host, now: number): void {
  for (const q of host.nf.frag6.expire(now)) {
    const dev = host.deviceByIndex(q.iif);
    if (!q.head || !dev) continue;
    icmpv6Send(host, new Skb(host.nextSkbId(), q.head, q.time, host.cpu.next(), dev), ICMPV6.TIME_EXCEED, ICMPV6_EXC_FRAGTIME, q.time);
  }
}
