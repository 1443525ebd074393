/**
 * Short texts for what the wire carried, as the page labels arrows and tuples with them:
 * "10.0.3.1:41000 → 192.168.206.1:8080 tcp [S]", "[fd00:3::1]:43000 → [fd00:206::1]:80 tcp [S]",
 * ICMP and ICMPv6 with their type and id.
 */
import { formatInetAddr, formatInetAddrPort } from '../../packet/inet-addr.js';
import { icmpIsQuery } from '../../netfilter/conntrack/tuple.js';
import { IPPROTO, isIcmp } from '../../netfilter/constants.js';
import type { PacketView, TupleView } from '../../trace/events.js';
import { protoName, tupleText } from '../../trace/format-common.js';

/** TCP flag letters as tcpdump prints them (FIN, SYN, RST, PSH, ACK, URG). */
const TCP_FLAGS: readonly [number, string][] = [
  [0x02, 'S'],
  [0x01, 'F'],
  [0x04, 'R'],
  [0x08, 'P'],
  [0x20, 'U'],
];
const TCP_ACK = 0x10;

function hasPorts(proto: number): boolean {
  return proto === IPPROTO.TCP || proto === IPPROTO.UDP || proto === IPPROTO.UDPLITE || proto === IPPROTO.SCTP;
}

export function wireLabel(p: PacketView): string {
  const ports = hasPorts(p.proto) && p.fragOffset === 0;
  const src = ports ? formatInetAddrPort(p.saddr, p.sport) : formatInetAddr(p.saddr);
  const dst = ports ? formatInetAddrPort(p.daddr, p.dport) : formatInetAddr(p.daddr);
  return `${src} → ${dst} ${protoName(p.proto)}${detail(p)}`;
}

function detail(p: PacketView): string {
  if (p.fragOffset !== 0) return ` frag ${p.fragOffset}`;
  if (p.proto === IPPROTO.TCP) return ` [${tcpFlags(p.tcpFlags)}]`;
  if (isIcmp(p.proto)) return icmpIsQuery(p.icmpType, p.proto) ? ` type ${p.icmpType} id ${p.sport}` : ` type ${p.icmpType} code ${p.icmpCode}`;
  return '';
}

export function tcpFlags(flags: number): string {
  const letters = TCP_FLAGS.filter(([bit]) => flags & bit).map(([, l]) => l).join('');
  return letters + (flags & TCP_ACK ? '.' : '') || 'none';
}

/** A tuple as the conntrack table writes it, with the protocol. */
export function tupleLabel(t: TupleView): string {
  return `${protoName(t.proto)} ${tupleText(t, ' ')}`;
}


/** One side of a tuple: "10.0.3.1:41000" (or the address alone where there are no ports). */
export function endpoint(addr: number, port: number, proto: number): string {
  return hasPorts(proto) ? formatInetAddrPort(addr, port) : formatInetAddr(addr);
}
