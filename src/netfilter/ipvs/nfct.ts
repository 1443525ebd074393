/**
 * How IPVS treats the conntrack entry of a packet it handles (net/netfilter/ipvs/ip_vs_nfct.c
 * and ip_vs_notrack in include/net/ip_vs.h). With net.ipv4.vs.conntrack=0 the entry is let go
 * and the packet goes on untracked: it is never confirmed, and NAT rules further on (an
 * iptables MASQUERADE in POSTROUTING) never see it. With 1 the entry stays, and for NAT
 * connections its reply tuple is pointed at the real server before it is confirmed.
 */
import { CtInfo, ctinfoDir } from '../conntrack/conn.js';
import { Dir } from '../conntrack/tuple.js';
import { IPPROTO } from '../constants.js';
import type { NetfilterNet } from '../net.js';
import type { Skb } from '../skb.js';
import type { IpvsConn } from './conn.js';
import { tupleText } from '../../trace/format-common.js';

/**
 * ip_vs_notrack: drop the packet's reference to its entry (an unconfirmed one dies with it) and
 * mark it untracked. A packet conntrack found invalid has no entry and stays as it is.
 */
export function notrack(net: NetfilterNet, skb: Skb, notes: string[] | null): void {
  const ct = skb.ct;
  if (!ct) return;
  if (!ct.confirmed) net.putUnconfirmed(ct);
  notes?.push(`ip_vs_notrack: conntrack entry ${ct.confirmed ? 'released' : 'freed unconfirmed'}, packet untracked (net.ipv4.vs.conntrack=0)`);
  skb.ct = null;
  skb.ctinfo = CtInfo.Untracked;
  skb.untracked = true;
}

/**
 * ip_vs_update_conntrack: for a NAT connection's first packet in the original direction, the
 * still unconfirmed entry's reply tuple gets the real server as its source (`outin`, client →
 * server) or the virtual service as its destination (server → client), as
 * nf_conntrack_alter_reply does; the original tuple stays client → VIP.
 */
export function updateConntrack(skb: Skb, cp: IpvsConn, outin: boolean, notes: string[] | null): void {
  const ct = skb.ct;
  if (!ct || ct.confirmed) return;
  if (cp.dest.method !== 'masq' || cp.onePacket) return;
  if (ctinfoDir(skb.ctinfo) !== Dir.Original) return;
  const reply = ct.tuple(Dir.Reply).clone();
  const ports = reply.proto !== IPPROTO.ICMP;
  if (outin) {
    reply.src = cp.daddr;
    if (ports) reply.srcU = cp.dport;
  } else {
    reply.dst = cp.vaddr;
    if (ports) reply.dstU = cp.vport;
  }
  ct.setReply(reply);
  notes?.push(`ip_vs_update_conntrack: reply tuple now ${tupleText(reply)}`);
}
