/**
 * nf_nat_manip_pkt / nf_nat_ipv4_manip_pkt (net/netfilter/nf_nat_proto.c): rewrite the packet
 * to the tuple the connection maps it to, with checksum updates, and nf_nat_packet, which
 * decides whether this hook rewrites this packet at all.
 */
import { Verdict } from '../constants.js';
import { ctinfoDir, CtInfo, IPS_NAT_MASK, Status, type Conn } from '../conntrack/conn.js';
import { Dir, icmpIsQuery, otherDir, type Tuple } from '../conntrack/tuple.js';
import { isIcmp } from '../constants.js';
import type { L3Packet } from '../../packet/l3-packet.js';
import { ManipType } from './unique-tuple.js';

/**
 * nf_nat_ipv4_manip_pkt: make the packet carry `target`'s source (source manip) or destination
 * (destination manip): the L4 part first — ports, or the id of an ICMP query, which
 * icmp_manip_pkt rewrites for either manip (an ICMP error's header has none) — then the address.
 */
export function manipToTarget(pkt: L3Packet, target: Tuple, manip: ManipType): void {
  manipTo(pkt, manip, target.src, target.srcU, target.dst, target.dstU);
}

/** manipToTarget of the target tuple's fields, without making the tuple. */
function manipTo(pkt: L3Packet, manip: ManipType, src: number, srcU: number, dst: number, dstU: number): void {
  if (isIcmp(pkt.proto)) {
    if (icmpIsQuery(pkt.icmpType, pkt.proto) && pkt.sport !== srcU) pkt.setSport(srcU);
  } else if (pkt.hasPorts()) {
    if (manip === ManipType.Src && pkt.sport !== srcU) pkt.setSport(srcU);
    if (manip === ManipType.Dst && pkt.dport !== dstU) pkt.setDport(dstU);
  }
  if (manip === ManipType.Src && pkt.saddr !== src) pkt.setSaddr(src);
  if (manip === ManipType.Dst && pkt.daddr !== dst) pkt.setDaddr(dst);
}

/**
 * The packet of direction `dir` must look like the inverse of the other direction's tuple
 * (nf_ct_invert_tuple of it, read straight from the entry: the source is the other tuple's
 * destination and back; an ICMP query's id stays the id).
 */
function manipPacket(pkt: L3Packet, ct: Conn, manip: ManipType, dir: Dir): void {
  const other = otherDir(dir);
  const icmp = isIcmp(ct.proto);
  manipTo(pkt, manip, ct.dst(other), icmp ? ct.srcU(other) : ct.dstU(other), ct.src(other), ct.srcU(other));
}

/**
 * nf_nat_packet: a source manip applies to original-direction packets of an SRC_NAT entry and
 * to reply packets of a DST_NAT entry (de-DNAT); a destination manip the other way round.
 */
export function natPacket(pkt: L3Packet, ct: Conn, ctinfo: CtInfo, manip: ManipType): Verdict {
  const dir = ctinfoDir(ctinfo);
  if (ct.has(natStatusBit(manip, dir))) manipPacket(pkt, ct, manip, dir);
  return Verdict.Accept;
}

/** Which NAT status bit makes a manip apply to a packet of direction `dir`. */
export function natStatusBit(manip: ManipType, dir: Dir): number {
  const bit: number = manip === ManipType.Src ? Status.SrcNat : Status.DstNat;
  return dir === Dir.Reply ? bit ^ IPS_NAT_MASK : bit;
}
