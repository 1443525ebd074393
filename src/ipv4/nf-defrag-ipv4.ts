/**
 * nf_defrag_ipv4 (net/ipv4/netfilter/nf_defrag_ipv4.c ipv4_conntrack_defrag): at PRE_ROUTING
 * and LOCAL_OUT −400, before conntrack, a fragment is handed to ip_defrag (ipv4/ip-fragment.ts)
 * and stolen until its datagram is whole; the fragment that completes it goes on through the
 * hook as the whole datagram (nf_ct_ipv4_gather_frags), with ignore_df set so that output may
 * fragment it again, no larger than it came (IPCB frag_max_size).
 */
import { DefragUser } from './ip-fragment.js';
import { continueReassembled } from '../netfilter/inet-fragment.js';
import { Hook, Verdict } from '../netfilter/constants.js';
import type { HookState } from '../netfilter/hooks.js';
import type { NetfilterNet } from '../netfilter/net.js';
import type { Ipv4Skb } from '../netfilter/skb.js';

export function ipv4ConntrackDefrag(net: NetfilterNet, skb: Ipv4Skb, state: HookState): Verdict {
  // "previously seen (loopback)": a looped-back packet keeps its entry and is left alone
  if (skb.ct || !skb.pkt.isFragment()) return Verdict.Accept;
  const user = state.hook === Hook.LocalOut ? DefragUser.ConntrackOut : DefragUser.ConntrackIn;
  const result = net.defrag.defrag(skb.pkt, user, skb.time);
  switch (result.kind) {
    case 'queued':
      state.notes?.push(`fragment at offset ${skb.pkt.fragOffset} held for reassembly (ip_defrag)`);
      return Verdict.Stolen;
    case 'dropped':
      skb.drop = { reason: `${result.reason} (ip_defrag)` };
      return Verdict.Drop;
    case 'whole':
      return continueReassembled(skb, state, result, 'ip_frag_reasm');
  }
}
