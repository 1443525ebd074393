/**
 * nf_nat_manip_pkt / nf_nat_ipv4_manip_pkt (net/netfilter/nf_nat_proto.c): rewrite the packet
 * to the tuple the connection maps it to, with checksum updates, and nf_nat_packet, which
 * decides whether this hook rewrites this packet at all.
 */
import { Verdict } from '../constants.js';
import { ctinfoDir, CtInfo, IPS_NAT_MASK, Status, type Conn } from '../conntrack/conn.js';
import { Dir, icmpIsQuery, invertTuple, otherDir, type Tuple } from '../conntrack/tuple.js';
import { isIcmp } from '../constants.js';
import type { L3Packet } from '../../packet/l3-packet.js';
import { ManipType } from './unique-tuple.js';

/**
 * nf_nat_ipv4_manip_pkt: make the packet carry `target`'s source (source manip) or destination
 * (destination manip): the L4 part first — ports, or the id of an ICMP query, which
 * icmp_manip_pkt rewrites for either manip (an ICMP error's header has none) — then the address.
 */
export function manipToTarget(pkt: L3Packet, target: Tuple, manip: ManipType): void {
  if (isIcmp(pkt.proto)) {
    if (icmpIsQuery(pkt.icmpType, pkt.proto) && pkt.sport !== target.srcU) pkt.setSport(target.srcU);
  } else if (pkt.hasPorts()) {
    if (manip === ManipType.Src && pkt.sport !== target.srcU) pkt.setSport(target.srcU);
    if (manip === ManipType.Dst && pkt.dport !== target.dstU) pkt.setDport(target.dstU);
  }
  if (manip === ManipType.Src && pkt.saddr !== target.src) pkt.setSaddr(target.src);
  if (manip === ManipType.Dst && pkt.daddr !== target.dst) pkt.setDaddr(target.dst);
}

/** The packet of direction `dir` must look like the inverse of the other direction's tuple. */
function manipPacket(pkt: L3Packet, ct: Conn, manip: ManipType, dir: Dir): void {
  manipToTarget(pkt, invertTuple(ct.tuple(otherDir(dir)))!, manip);
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
