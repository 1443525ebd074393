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
  const src = manip === ManipType.Src;
  manipTo(pkt, manip, src ? target.src : target.dst, src || isIcmp(target.proto) ? target.srcU : target.dstU);
}

/**
 * manipToTarget of the target's manip side alone: its address and its L4 key (the port of
 * that side, or the ICMP id, which is the tuple's srcU for either manip).
 */
function manipTo(pkt: L3Packet, manip: ManipType, addr: number, key: number): void {
  const src = manip === ManipType.Src;
  if (isIcmp(pkt.proto)) {
    if (icmpIsQuery(pkt.icmpType, pkt.proto) && pkt.sport !== key) pkt.setSport(key);
  } else if (pkt.hasPorts()) {
    if (src && pkt.sport !== key) pkt.setSport(key);
    if (!src && pkt.dport !== key) pkt.setDport(key);
  }
  if (src && pkt.saddr !== addr) pkt.setSaddr(addr);
  if (!src && pkt.daddr !== addr) pkt.setDaddr(addr);
}

/**
 * The packet of direction `dir` must look like the inverse of the other direction's tuple
 * (nf_ct_invert_tuple of it, read straight from the entry: the source is the other tuple's
 * destination and back; an ICMP query's id stays the id). Only the manip's side is read: a
 * source manip takes the other tuple's destination and its port (or the id), a destination
 * manip the other tuple's source and its source port, which for ICMP is the id too.
 */
function manipPacket(pkt: L3Packet, ct: Conn, manip: ManipType, dir: Dir): void {
  const other = otherDir(dir);
  if (manip === ManipType.Src) manipTo(pkt, manip, ct.dst(other), isIcmp(ct.proto) ? ct.srcU(other) : ct.dstU(other));
  else manipTo(pkt, manip, ct.src(other), ct.srcU(other));
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
