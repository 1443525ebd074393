/**
 * IPVS transmitters (net/netfilter/ipvs/ip_vs_xmit.c): send a client's packet to its real
 * server from inside a hook op. NAT rewrites the destination to the real server (ip_vs_nat_xmit);
 * direct routing keeps the packet as it is and hands it to the real server as next hop
 * (ip_vs_dr_xmit). Either way, for a remote server IPVS routes the packet itself, decrements
 * its TTL, and sends it through NF_HOOK(LOCAL_OUT) → POST_ROUTING: the op returns NF_STOLEN, so
 * the hooks after it at LOCAL_IN — conntrack confirmation included — never run for it.
 * A local real server gets the packet back with NF_ACCEPT and it goes on to the local stack.
 */
import { Verdict } from '../constants.js';
import type { Host } from '../../host/host.js';
import type { Route } from '../../host/fib.js';
import { icmpSend } from '../../ipv4/icmp.js';
import type { Ipv4Skb } from '../skb.js';
import type { HookState } from '../hooks.js';
import type { IpvsConn } from './conn.js';
import { notrack, updateConntrack } from './nfct.js';
import { formatIpv4 } from '../../packet/ipv4-addr.js';
import { ICMP_DEST_UNREACH, ICMP_EXC_TTL, ICMP_HOST_UNREACH, ICMP_TIME_EXCEEDED } from '../../packet/icmp.js';

type OutRoute = { readonly kind: 'local' } | { readonly kind: 'remote'; readonly route: Route } | { readonly kind: 'error'; readonly why: string };

/**
 * __ip_vs_get_out_rt: the route to the real server; local addresses are delivered here, and a
 * remote one costs the packet a TTL (decrement_ttl, with time exceeded when it runs out).
 */
function outRoute(host: Host, skb: Ipv4Skb, daddr: number): OutRoute {
  const route = host.fib.lookup(daddr);
  if (!route || !route.dev) {
    // err_unreach: dst_link_failure → ipv4_link_failure answers host unreachable
    icmpSend(host, skb, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH);
    return { kind: 'error', why: `no route to real server ${formatIpv4(daddr)}` };
  }
  if (route.type === 'local') return { kind: 'local' };
  if (skb.pkt.ttl <= 1) {
    icmpSend(host, skb, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL);
    return { kind: 'error', why: 'TTL exceeded (decrement_ttl)' };
  }
  skb.pkt.decreaseTtl();
  return { kind: 'remote', route };
}

/** tx_error: the packet is freed, and the op still answers NF_STOLEN. */
function txError(host: Host, skb: Ipv4Skb, state: HookState, why: string): Verdict {
  state.notes?.push(`tx_error: ${why}`);
  skb.stolenTo = () => host.dropped(skb, state.hook, `IPVS: ${why}`);
  return Verdict.Stolen;
}

/** ip_vs_nat_xmit: destination → real server address and port, then ip_vs_nat_send_or_cont. */
export function natXmit(host: Host, skb: Ipv4Skb, cp: IpvsConn, state: HookState): Verdict {
  const out = outRoute(host, skb, cp.daddr);
  if (out.kind === 'error') return txError(host, skb, state, out.why);
  const pkt = skb.pkt;
  if (pkt.hasPorts() && pkt.dport !== cp.dport) pkt.setDport(cp.dport);
  pkt.setDaddr(cp.daddr);
  return sendOrCont(host, skb, cp, state, out, true);
}

/** ip_vs_dr_xmit: the packet stays addressed to the VIP; the real server is the next hop. */
export function drXmit(host: Host, skb: Ipv4Skb, cp: IpvsConn, state: HookState): Verdict {
  const out = outRoute(host, skb, cp.daddr);
  if (out.kind === 'error') return txError(host, skb, state, out.why);
  if (out.kind === 'remote') skb.knownNexthop = cp.daddr;
  return sendOrCont(host, skb, cp, state, out, false);
}

/**
 * ip_vs_nat_send_or_cont / ip_vs_send_or_cont: mark the packet as IPVS's, let its conntrack
 * entry go (conntrack=0) or, for NAT, point the reply at the real server (conntrack=1); then
 * send it through LOCAL_OUT and POST_ROUTING ourselves (STOLEN) or give a local one back.
 */
function sendOrCont(host: Host, skb: Ipv4Skb, cp: IpvsConn, state: HookState, out: OutRoute & { kind: 'local' | 'remote' }, nat: boolean): Verdict {
  skb.ipvsProperty = true;
  if (!cp.nfct) notrack(host.nf, skb, state.notes);
  else if (nat) updateConntrack(skb, cp, true, state.notes);
  if (out.kind === 'local') return Verdict.Accept;
  state.notes?.push(`${nat ? 'ip_vs_nat_xmit' : 'ip_vs_dr_xmit'}: sent on through NF_HOOK(LOCAL_OUT) by ${out.route.dev!.name}, NF_STOLEN`);
  skb.stolenTo = () => host.localOutRouted(skb, out.route);
  return Verdict.Stolen;
}
