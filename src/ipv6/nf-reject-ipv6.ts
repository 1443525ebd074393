/**
 * The answer REJECT sends for an IPv6 packet it dropped (net/ipv6/netfilter/nf_reject_ipv6.c):
 * nf_send_unreach6 — an ICMPv6 destination unreachable through icmpv6_send — or
 * nf_send_reset6, a RST for a TCP segment, carrying the segment's conntrack entry
 * (nf_ct_attach). Neither answers a packet whose upper-layer header cannot be read (a non-first
 * fragment) or whose checksum is bad (reject6_csum_ok, nf_reject_ip6_tcphdr_get).
 */
import type { Host } from '../host/host.js';
import { answerTo } from '../ipv4/icmp.js';
import { IPPROTO } from '../netfilter/constants.js';
import type { RejectWith } from '../netfilter/rules/model.js';
import type { Ipv6Skb } from '../netfilter/skb.js';
import { resetSequence, writeIpv6Header } from '../packet/build.js';
import { TcpFlag } from '../packet/ipv4.js';
import { IPV6_HDR_LEN, Ipv6Packet } from '../packet/ipv6.js';
import { writeU16, writeU32 } from '../packet/l3-packet.js';
import { ipv6AddrType } from './addrconf.js';
import { DEFAULT_HOP_LIMIT, icmpv6Send } from './icmp.js';

/** ICMPV6_DEST_UNREACH */
const DEST_UNREACH = 1;
const TCP_HDR_LEN = 20;

export function sendReject6(host: Host, skb: Ipv6Skb, answer: RejectWith): void {
  const p = skb.pkt;
  if (p.l4off < 0 || p.l4ChecksumBad()) return;
  if (answer !== 'tcp-reset') {
    icmpv6Send(host, skb, DEST_UNREACH, answer.icmpv6Code);
    return;
  }
  if (!isUnicast(p.saddr) || !isUnicast(p.daddr)) return;
  if (p.proto !== IPPROTO.TCP || p.data.length - p.l4off < TCP_HDR_LEN || p.tcpFlags & TcpFlag.RST) return;
  host.localOut(answerTo(host, skb, buildReset6(p)));
}

/** ipv6_addr_type(...) & IPV6_ADDR_UNICAST: neither ::, nor multicast, nor v4-mapped. */
function isUnicast(addr: number): boolean {
  const t = ipv6AddrType(addr);
  return !t.any && !t.multicast && !t.v4;
}

/**
 * nf_reject_ip6hdr_put + nf_reject_ip6_tcphdr_put: addresses and ports swapped, the old
 * packet's traffic class, flow label 0, the route's hop limit (the device's hop_limit, 64), a
 * bare 20-byte header with window 0.
 */
function buildReset6(p: Ipv6Packet): Ipv6Packet {
  const { seq, ack, flags } = resetSequence(p);
  const d = new Uint8Array(IPV6_HDR_LEN + TCP_HDR_LEN);
  writeIpv6Header(d, IPPROTO.TCP, p.daddr, p.saddr, DEFAULT_HOP_LIMIT, p.trafficClass);
  const t = IPV6_HDR_LEN;
  writeU16(d, t, p.dport);
  writeU16(d, t + 2, p.sport);
  writeU32(d, t + 4, seq);
  writeU32(d, t + 8, ack);
  d[t + 12] = (TCP_HDR_LEN / 4) << 4;
  d[t + 13] = flags;
  const reset = Ipv6Packet.adopt(d) as Ipv6Packet;
  reset.fillL4Checksum();
  return reset;
}
