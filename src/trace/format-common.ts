/** Pieces every trace style shares: dmesg timestamps, packet and tuple text. */
import { IPPROTO, L4PROTO_NAME } from '../netfilter/constants.js';
import { CtInfo } from '../netfilter/conntrack/conn.js';
import { icmpIsQuery } from '../netfilter/conntrack/tuple.js';
import { formatInetAddr } from '../packet/inet-addr.js';
import { isIpv6 } from '../packet/ipv6-addr.js';
import { ICMPV6 } from '../packet/ipv6.js';
import type { PacketView, TupleView } from './events.js';
import { TextCache } from './text-cache.js';

/**
 * What starts each line: dmesg's "[%5lu.%06lu] " from a time in nanoseconds, then "HOST: " when
 * the trace has several hosts (`host` null otherwise). A packet's many lines share one.
 */
export function dmesgPrefix(ns: number, host: string | null): string {
  if (ns !== lastPrefix.ns || host !== lastPrefix.host) lastPrefix = { ns, host, text: formatDmesgTime(ns) + (host === null ? ' ' : ` ${host}: `) };
  return lastPrefix.text;
}
let lastPrefix: { ns: number; host: string | null; text: string } = { ns: -1, host: null, text: '' };

function formatDmesgTime(ns: number): string {
  const micros = Math.floor(ns / 1000);
  const sec = Math.floor(micros / 1e6);
  const frac = String(micros % 1e6).padStart(6, '0');
  return `[${String(sec).padStart(5, ' ')}.${frac}]`;
}

/**
 * The seed's packet line: "10.0.3.1 -> 192.168.206.1 protocol 1 id 16310 … ttl 64" (id: the IP
 * id). An IPv6 packet has no id and a hop limit for a TTL: "fd00:3::1 -> fd00:206::1 protocol
 * 58 icmp type 128 echo-id 7 hoplimit 64" (`protocol` the upper layer ipv6_skip_exthdr found).
 */
export function packetLine(p: PacketView): string {
  const addrs = packetHeads.of(p.saddr, p.daddr, p.proto, packetHead);
  if (isIpv6(p.saddr)) return `${addrs}${l4Text(p)}${fragText(p)} hoplimit ${p.ttl}`;
  return `${addrs} id ${p.ipId}${l4Text(p)}${fragText(p)} ttl ${p.ttl}`;
}

/** A packet line's addresses and protocol, the same on all a flow's packets one way (TextCache). */
const packetHeads = new TextCache(12);
function packetHead(saddr: number, daddr: number, proto: number): string {
  return `${formatInetAddr(saddr)} -> ${formatInetAddr(daddr)} protocol ${proto}`;
}

/** Ports or ICMP fields; none for a fragment after the first, which has no L4 header. */
function l4Text(p: PacketView): string {
  if (p.fragOffset !== 0) return '';
  if (p.proto === IPPROTO.TCP || p.proto === IPPROTO.UDP) return portTexts.of(p.sport, p.dport, 0, portsText);
  if (p.proto === IPPROTO.ICMP) return icmpText(p, icmpIsQuery(p.icmpType));
  return p.proto === IPPROTO.ICMPV6 ? icmpText(p, p.icmpType === ICMPV6.ECHO_REQUEST || p.icmpType === ICMPV6.ECHO_REPLY) : '';
}

/** A TCP or UDP packet line's ports, kept as its head is. */
const portTexts = new TextCache(12);
function portsText(sport: number, dport: number): string {
  return ` sport ${sport} dport ${dport}`;
}

/** A fragment: its offset and length, MF as tcpdump writes it ("+"). */
function fragText(p: PacketView): string {
  return p.fragOffset !== 0 || p.moreFragments ? ` frag ${p.fragOffset}:${p.length}${p.moreFragments ? '+' : ''}` : '';
}

/** ICMP (and ICMPv6) queries show their id; errors their code (the quoted packet is in the conntrack line). */
function icmpText(p: PacketView, query: boolean): string {
  return query ? ` icmp type ${p.icmpType} echo-id ${p.sport}` : ` icmp type ${p.icmpType} code ${p.icmpCode}`;
}

/**
 * "src=… dst=…" plus ports, or ICMP type/code/id, as conntrack names them; `sep` is "," in the
 * seed's debug traces and " " in conntrack-tools' output.
 */
export function tupleText(t: TupleView, sep = ','): string {
  const addrs = `src=${formatInetAddr(t.src)}${sep}dst=${formatInetAddr(t.dst)}`;
  // nf_conntrack_icmpv6's tuple has the ICMP layout: the id, and type << 8 | code
  if (t.proto === IPPROTO.ICMP || t.proto === IPPROTO.ICMPV6) return `${addrs}${sep}type=${t.dstU >>> 8}${sep}code=${t.dstU & 0xff}${sep}id=${t.srcU}`;
  if (t.proto === IPPROTO.TCP || t.proto === IPPROTO.UDP || t.proto === IPPROTO.UDPLITE || t.proto === IPPROTO.SCTP) return `${addrs}${sep}sport=${t.srcU}${sep}dport=${t.dstU}`;
  return addrs;
}

/**
 * The family as nf_ct_l3num prints it in the seed's conntrack line (L3:ipv4[2], L3:ipv6[10]:
 * the NFPROTO number) and NF-CORE's pf (AF_INET, AF_INET6), by an address of the tuple or packet.
 */
export function l3Text(addr: number): string {
  return isIpv6(addr) ? 'ipv6[10]' : 'ipv4[2]';
}
export function pfName(addr: number): string {
  return isIpv6(addr) ? 'AF_INET6' : 'AF_INET';
}

export function protoName(proto: number): string {
  return L4PROTO_NAME[proto] ?? 'unknown';
}

/** ctinfo as the seed's debug module printed it (value 3 is "REPLY"). */
export function ctinfoName(ctinfo: CtInfo): string {
  switch (ctinfo) {
    case CtInfo.Established:
      return 'ESTABLISHED';
    case CtInfo.Related:
      return 'RELATED';
    case CtInfo.New:
      return 'NEW';
    case CtInfo.EstablishedReply:
      return 'REPLY';
    case CtInfo.RelatedReply:
      return 'RELATED_REPLY';
    default:
      return 'UNTRACKED';
  }
}

/** A stable fake skb address per packet, shaped like the kernel's. */
export function skbAddress(id: number): string {
  if (id !== lastSkb.id) lastSkb = { id, text: `ffff8880${(0x04d00000 + id * 0x100).toString(16).padStart(8, '0')}` };
  return lastSkb.text;
}
/** A packet's lines come together: its address is made once for all of them. */
let lastSkb = { id: -1, text: '' };

/** NFTA_TRACE_ID as nft monitor and xtables-monitor print it: %08x. */
export function traceId(id: number): string {
  return id.toString(16).padStart(8, '0');
}
