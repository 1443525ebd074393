/**
 * nf_nat_manip_pkt / nf_nat_ipv4_manip_pkt (net/netfilter/nf_nat_proto.c): rewrite the packet
 * to the tuple the connection maps it to, with checksum updates, and nf_nat_packet, which
 * decides whether this hook rewrites this packet at all.
 */
import { Verdict } from '../constants.js';
import { ctinfoDir, CtInfo, IPS_NAT_MASK, Status, type Conn } from '../conntrack/conn.js';
import { Dir, invertTuple } from '../conntrack/tuple.js';
import { IPPROTO } from '../constants.js';
import type { Ipv4Packet } from '../../packet/ipv4.js';
import { ManipType } from './unique-tuple.js';

/**
 * The packet of direction `dir` must look like the inverse of the other direction's tuple:
 * a source manip writes that tuple's source address and port (or ICMP id), a destination
 * manip its destination address and port.
 */
function manipPacket(pkt: Ipv4Packet, ct: Conn, manip: ManipType, dir: Dir): void {
  const target = invertTuple(ct.tuple[dir === Dir.Original ? Dir.Reply : Dir.Original])!;
  if (manip === ManipType.Src) {
    if (pkt.saddr !== target.src) pkt.setSaddr(target.src);
    if (hasRewritableSource(pkt) && pkt.sport !== target.srcU) pkt.setSport(target.srcU);
  } else {
    if (pkt.daddr !== target.dst) pkt.setDaddr(target.dst);
    if (pkt.hasPorts() && pkt.dport !== target.dstU) pkt.setDport(target.dstU);
    else if (pkt.proto === IPPROTO.ICMP && pkt.sport !== target.srcU) pkt.setSport(target.srcU);
  }
}

function hasRewritableSource(pkt: Ipv4Packet): boolean {
  return pkt.hasPorts() || pkt.proto === IPPROTO.ICMP;
}

/**
 * nf_nat_packet: a source manip applies to original-direction packets of an SRC_NAT entry and
 * to reply packets of a DST_NAT entry (de-DNAT); a destination manip the other way round.
 */
export function natPacket(pkt: Ipv4Packet, ct: Conn, ctinfo: CtInfo, manip: ManipType): Verdict {
  const dir = ctinfoDir(ctinfo);
  let statusBit: number = manip === ManipType.Src ? Status.SrcNat : Status.DstNat;
  if (dir === Dir.Reply) statusBit ^= IPS_NAT_MASK;
  if (ct.has(statusBit)) manipPacket(pkt, ct, manip, dir);
  return Verdict.Accept;
}
