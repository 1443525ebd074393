/**
 * What conntrack makes of an IPv6 packet before its table lookup (nf_conntrack_in with
 * pf = NFPROTO_IPV6): ipv6_get_l4proto finds the upper layer through the extension headers (no
 * protocol: `invalid`, the packet passes untracked), nf_conntrack_icmpv6_error leaves neighbour
 * discovery and MLD untracked (noct_valid_new) and sends ICMPv6 errors to the RELATED lookup of
 * the packet they quote (nf_conntrack_inet_error), and nf_ct_get_tuple makes the tuple of the
 * rest (from the packet, as for IPv4) — the ICMPv6 echo id as its key. nf_conntrack_icmpv6_packet lets only a request type
 * create an entry (valid_new).
 */
import { IPPROTO } from '../constants.js';
import { ICMPV6, type Ipv6Packet } from '../../packet/ipv6.js';
import { invertTuple, tupleFromPacket, type Tuple } from './tuple.js';

/** noct_valid_new: MLD query, report and done, router and neighbour discovery (not redirect), MLDv2 report. */
const NOCT_VALID_NEW = new Set([130, 131, 132, ICMPV6.NDISC_ROUTER_SOLICITATION, ICMPV6.NDISC_ROUTER_ADVERTISEMENT, ICMPV6.NDISC_NEIGHBOUR_SOLICITATION, ICMPV6.NDISC_NEIGHBOUR_ADVERTISEMENT, 143]);

/** valid_new of nf_conntrack_icmpv6_packet: echo request and node information query. */
export function icmpv6ValidNew(type: number): boolean {
  return type === ICMPV6.ECHO_REQUEST || type === 139;
}

export type Ipv6Conntrack =
  /** ipv6_get_l4proto found no protocol: `invalid`++, untracked. */
  | { readonly kind: 'invalid'; readonly reason: string }
  /** nf_ct_set(skb, NULL, IP_CT_UNTRACKED): NDP and MLD. */
  | { readonly kind: 'untracked' }
  /** An ICMPv6 error: the tuple of the connection it would be RELATED to, or why there is none. */
  | { readonly kind: 'error'; readonly related: Tuple | string }
  /** The packet's own tuple (tupleFromPacket) is the one to look up, or to create an entry for. */
  | { readonly kind: 'lookup' };

/** The outcomes without a detail, made once: one of them is every ordinary packet's. */
const LOOKUP: Ipv6Conntrack = { kind: 'lookup' };
const UNTRACKED: Ipv6Conntrack = { kind: 'untracked' };

export function ipv6Conntrack(pkt: Ipv6Packet): Ipv6Conntrack {
  if (pkt.l4off < 0) return { kind: 'invalid', reason: "can't find proto in pkt (ipv6_get_l4proto)" };
  if (pkt.proto === IPPROTO.ICMPV6) {
    if (pkt.l4off + 8 > pkt.length) return { kind: 'invalid', reason: 'short packet (icmpv6_pkt_to_tuple)' };
    const type = pkt.icmpType;
    if (NOCT_VALID_NEW.has(type)) return UNTRACKED;
    if (type < 128) return { kind: 'error', related: relatedTuple(pkt) };
  }
  // nf_ct_get_tuple reads the ports with skb_header_pointer: a chain that ends past the packet has none
  if (pkt.hasPorts() && pkt.l4off + 4 > pkt.length) return { kind: 'invalid', reason: "can't get tuple: the L4 header is past the packet's end (nf_ct_get_tuple)" };
  return LOOKUP;
}

/** nf_conntrack_inet_error: the quoted packet's tuple, inverted — the direction the error travels in. */
function relatedTuple(pkt: Ipv6Packet): Tuple | string {
  const quoted = pkt.quotedPacket();
  if (typeof quoted === 'string') return `quoted packet not usable (${quoted})`;
  if (quoted.l4off < 0) return "can't find proto in the quoted packet";
  const inner = invertTuple(tupleFromPacket(quoted));
  return inner ?? "couldn't get reverse tuple";
}
