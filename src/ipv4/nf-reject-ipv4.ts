/**
 * The answer REJECT sends for the packet it dropped (net/ipv4/netfilter/nf_reject_ipv4.c):
 * nf_send_unreach — an ICMP destination unreachable through icmp_send — or nf_send_reset, a
 * RST for a TCP segment that is not a RST itself, carrying the segment's conntrack entry.
 */
import type { RejectWith } from '../netfilter/rules/model.js';
import { IPPROTO } from '../netfilter/constants.js';
import type { Ipv4Skb } from '../netfilter/skb.js';
import { buildTcpReset } from '../packet/build.js';
import { TcpFlag } from '../packet/ipv4.js';
import type { Host } from '../host/host.js';
import { answerTo, icmpSend } from './icmp.js';
import { ICMP_DEST_UNREACH } from '../packet/icmp.js';

export function sendReject(host: Host, skb: Ipv4Skb, answer: RejectWith): void {
  if (answer !== 'tcp-reset') {
    icmpSend(host, skb, ICMP_DEST_UNREACH, answer.icmpCode);
    return;
  }
  const p = skb.pkt;
  if (p.proto !== IPPROTO.TCP || p.tcpFlags & TcpFlag.RST) return;
  host.localOut(answerTo(host, skb, buildTcpReset(p)));
}
