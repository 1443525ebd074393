/** Tuples as findings show them (finding.ts FlowTuple) and the text that names a flow. */
import { IPPROTO, isIcmp, L4PROTO_NAME } from '../netfilter/constants.js';
import type { Tuple } from '../netfilter/conntrack/tuple.js';
import { formatInetAddr } from '../packet/inet-addr.js';
import type { FlowTuple } from './finding.js';

export function flowTuple(t: Tuple): FlowTuple {
  const proto = L4PROTO_NAME[t.proto] ?? `proto ${t.proto}`;
  const src = formatInetAddr(t.src);
  const dst = formatInetAddr(t.dst);
  // an echo's id is the tuple's source "port"
  if (isIcmp(t.proto)) return { proto, src, sport: t.srcU, dst, dport: null };
  const ports = t.proto === IPPROTO.TCP || t.proto === IPPROTO.UDP || t.proto === IPPROTO.UDPLITE || t.proto === IPPROTO.SCTP;
  return { proto, src, sport: ports ? t.srcU : null, dst, dport: ports ? t.dstU : null };
}

/** An address and port as a URL writes them: an IPv6 address bracketed (RFC 3986), so the port stays apart. */
export function endText(addr: string, port: number | null): string {
  if (port === null) return addr;
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** `udp 10.0.3.1:42004 -> 192.168.206.1:5353`, `tcp [fd00:3::1]:43000 -> [fd00:1::1]:80`, `icmp 10.0.3.1 -> 192.168.206.1 id 7`. */
export function tupleText(t: FlowTuple): string {
  if (t.proto === 'icmp' || t.proto === 'icmpv6') return `icmp ${t.src} -> ${t.dst} id ${t.sport}`;
  return `${t.proto} ${endText(t.src, t.sport)} -> ${endText(t.dst, t.dport)}`;
}
