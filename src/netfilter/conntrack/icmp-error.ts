/**
 * ICMP errors (nf_conntrack_icmpv4_error, nf_conntrack_inet_error in
 * net/netfilter/nf_conntrack_proto_icmp.c): an error quoting a packet of a tracked connection
 * belongs to that connection as RELATED (RELATED_REPLY when the quote is of its reply
 * direction); anything else about it is an `error` and the packet passes untracked.
 */
import type { NetfilterNet } from '../net.js';
import type { Skb } from '../skb.js';
import { CtInfo } from './conn.js';
import { isExpired } from './core.js';
import { Dir, invertTuple, tupleFromPacket, type Tuple } from './tuple.js';
import { nodeDir } from './tuplehash.js';

/** NR_ICMP_TYPES: 18 is the highest type the kernel knows. */
const NR_ICMP_TYPES = 18;

/** icmp_is_err: destination unreachable, source quench, redirect, time exceeded, parameter problem. */
function isIcmpError(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/**
 * The ICMP part of nf_conntrack_in for an ICMP packet: null when it is an ordinary ICMP packet
 * for the normal lookup, 'related' when it was attached to a connection, or the reason it is
 * an error (counted as `error`, passed on untracked).
 */
export function icmpErrorMessage(net: NetfilterNet, skb: Skb): 'related' | string | null {
  const type = skb.pkt.icmpType;
  if (type > NR_ICMP_TYPES) return `invalid icmp type ${type}`;
  if (!isIcmpError(type)) return null;
  const quoted = skb.pkt.quotedPacket();
  if (typeof quoted === 'string') return `quoted packet not usable (${quoted})`;
  const inner = invertTuple(tupleFromPacket(quoted));
  if (!inner) return 'quoted packet has no connection tuple';
  return relateError(net, skb, inner);
}

/**
 * nf_conntrack_inet_error after the quoted tuple is known (shared by ICMP and ICMPv6): the
 * connection it belongs to, in the direction the error travels, attached as RELATED(_REPLY).
 */
export function relateError(net: NetfilterNet, skb: Skb, inner: Tuple): 'related' | string {
  const found = net.table.find(inner);
  const ct = found ? net.table.conn(found) : null;
  if (!ct || isExpired(ct, skb.time)) return 'quotes no tracked connection';
  const dir = nodeDir(found);
  if (ct.dst(dir) !== skb.pkt.daddr) return "outer destination is not the quoted connection's";
  skb.ct = ct;
  skb.ctinfo = dir === Dir.Reply ? CtInfo.RelatedReply : CtInfo.Related;
  return 'related';
}
