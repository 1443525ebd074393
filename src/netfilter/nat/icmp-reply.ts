/**
 * nf_nat_icmp_reply_translation (net/netfilter/nf_nat_proto.c): an ICMP error RELATED to a
 * NATed connection gets the quoted datagram rewritten back — it is a packet of the other
 * direction, so with the other manip — and then its own header, as if it answered a packet of
 * the connection. The NAT core's op calls this instead of the NAT chains (nf_nat_ipv4_fn);
 * nf_nat_icmpv6_reply_translation does the same for an ICMPv6 error (types below 128), its
 * checksum over the IPv6 pseudo-header.
 */
import { CtInfo, ctinfoDir, IPS_NAT_MASK, Status, type Conn } from '../conntrack/conn.js';
import { invertTuple, otherDir } from '../conntrack/tuple.js';
import type { L3Packet } from '../../packet/l3-packet.js';
import { IPPROTO } from '../constants.js';
import { manipToTarget, natStatusBit } from './manip.js';
import { ManipType } from './unique-tuple.js';
import { ICMP_REDIRECT } from '../../packet/icmp.js';

const NAT_DONE_MASK = Status.SrcNatDone | Status.DstNatDone;

/** An ICMP (or ICMPv6) error RELATED to a connection; ctinfo first, as most packets are not RELATED. */
export function isRelatedIcmp(pkt: L3Packet, ctinfo: CtInfo): boolean {
  if (ctinfo !== CtInfo.Related && ctinfo !== CtInfo.RelatedReply) return false;
  return pkt.proto === IPPROTO.ICMP || (pkt.family === 6 && pkt.isIcmpv6Error());
}

/** Null when the packet may go on; else why it is dropped (the kernel's return 0). */
export function natIcmpReplyTranslation(pkt: L3Packet, ct: Conn, ctinfo: CtInfo, manip: ManipType): string | null {
  const quoted = pkt.quotedPacket();
  if (typeof quoted === 'string') return `the quoted packet cannot be read (${quoted})`;
  // "If NAT isn't finished, assume it and drop": a redirect would send the host past the NAT
  if (pkt.proto === IPPROTO.ICMP && pkt.icmpType === ICMP_REDIRECT) {
    if ((ct.status & NAT_DONE_MASK) !== NAT_DONE_MASK) return 'a redirect for an entry whose NAT is not done yet (IPS_SRC_NAT_DONE and IPS_DST_NAT_DONE not both set)';
    if ((ct.status & IPS_NAT_MASK) !== 0) return 'a redirect for a NATed entry';
  }
  const dir = ctinfoDir(ctinfo);
  if (!ct.has(natStatusBit(manip, dir))) return null;
  const other = ct.tuple(otherDir(dir));
  manipToTarget(quoted, other, manip === ManipType.Src ? ManipType.Dst : ManipType.Src);
  pkt.refreshIcmpChecksum();
  manipToTarget(pkt, invertTuple(other)!, manip);
  return null;
}
