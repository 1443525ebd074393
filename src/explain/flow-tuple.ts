/** Tuples as findings show them (finding.ts FlowTuple) and the text that names a flow. */
import { IPPROTO, L4PROTO_NAME } from '../netfilter/constants.js';
import type { Tuple } from '../netfilter/conntrack/tuple.js';
import { formatIpv4 } from '../packet/ipv4-addr.js';
import type { FlowTuple } from './finding.js';

export function flowTuple(t: Tuple): FlowTuple {
  const proto = L4PROTO_NAME[t.proto] ?? `proto ${t.proto}`;
  if (t.proto === IPPROTO.ICMP) return { proto, src: formatIpv4(t.src), sport: t.srcU, dst: formatIpv4(t.dst), dport: null };
  const ports = t.proto === IPPROTO.TCP || t.proto === IPPROTO.UDP || t.proto === IPPROTO.UDPLITE || t.proto === IPPROTO.SCTP;
  return { proto, src: formatIpv4(t.src), sport: ports ? t.srcU : null, dst: formatIpv4(t.dst), dport: ports ? t.dstU : null };
}

function end(addr: string, port: number | null): string {
  return port === null ? addr : `${addr}:${port}`;
}

/** `udp 10.0.3.1:42004 -> 192.168.206.1:5353`, `icmp 10.0.3.1 -> 192.168.206.1 id 7`. */
export function tupleText(t: FlowTuple): string {
  if (t.proto === 'icmp') return `icmp ${t.src} -> ${t.dst} id ${t.sport}`;
  return `${t.proto} ${end(t.src, t.sport)} -> ${end(t.dst, t.dport)}`;
}
