/**
 * ip_exceeds_mtu (net/ipv4/ip_forward.c): whether ip_forward must refuse a packet for the
 * route's MTU. Only DF packets are refused; one conntrack reassembled is judged by the largest
 * fragment it came in (IPCB frag_max_size), and otherwise let through if ignore_df.
 */
import type { Skb } from '../netfilter/skb.js';

export function exceedsMtu(skb: Skb, mtu: number): boolean {
  if (skb.pkt.length <= mtu) return false;
  if (!skb.pkt.dontFragment) return false;
  if (skb.fragMaxSize > mtu) return true;
  return !skb.ignoreDf;
}
