/**
 * struct nf_conntrack_tuple for IPv4: addresses, the per-protocol "manipulable" parts and the
 * protocol. As in the kernel's unions, `srcU` is the source port, or the ICMP echo id;
 * `dstU` is the destination port, or ICMP (type << 8 | code).
 */
import { IPPROTO } from '../constants.js';
import { ICMP_ECHO, ICMP_ECHOREPLY, type Ipv4Packet } from '../../packet/ipv4.js';

export const enum Dir {
  Original = 0,
  Reply = 1,
}

export class Tuple {
  constructor(
    public src: number,
    public srcU: number,
    public dst: number,
    public dstU: number,
    public proto: number,
  ) {}

  clone(): Tuple {
    return new Tuple(this.src, this.srcU, this.dst, this.dstU, this.proto);
  }

  equals(o: Tuple): boolean {
    return this.src === o.src && this.dst === o.dst && this.srcU === o.srcU && this.dstU === o.dstU && this.proto === o.proto;
  }

  get icmpType(): number {
    return this.dstU >>> 8;
  }
  get icmpCode(): number {
    return this.dstU & 0xff;
  }
}

/**
 * ICMP types whose inverse is known (nf_conntrack_proto_icmp.c icmp_pkt_to_tuple/invmap):
 * request ↔ reply for echo, timestamp, info and address mask. Others are not invertible.
 */
const ICMP_INVERSE: ReadonlyMap<number, number> = new Map([
  [ICMP_ECHO, ICMP_ECHOREPLY],
  [ICMP_ECHOREPLY, ICMP_ECHO],
  [13, 14],
  [14, 13],
  [15, 16],
  [16, 15],
  [17, 18],
  [18, 17],
]);

/** ICMP queries (echo, timestamp, info, address mask and their replies) carry an id. */
export function icmpIsQuery(type: number): boolean {
  return ICMP_INVERSE.has(type);
}

/** nf_ct_get_tuple for the protocols natsim tracks: the ORIGINAL-looking tuple of a packet. */
export function tupleFromPacket(p: Ipv4Packet): Tuple {
  if (p.proto === IPPROTO.ICMP) return new Tuple(p.saddr, p.sport, p.daddr, (p.icmpType << 8) | p.icmpCode, p.proto);
  return new Tuple(p.saddr, p.sport, p.daddr, p.dport, p.proto);
}

/** nf_ct_invert_tuple; null when the protocol cannot invert it (an ICMP type with no reply). */
export function invertTuple(t: Tuple): Tuple | null {
  if (t.proto === IPPROTO.ICMP) {
    const inverse = ICMP_INVERSE.get(t.icmpType);
    if (inverse === undefined) return null;
    return new Tuple(t.dst, t.srcU, t.src, (inverse << 8) | t.icmpCode, t.proto);
  }
  return new Tuple(t.dst, t.dstU, t.src, t.srcU, t.proto);
}

/**
 * A 32-bit hash of a tuple for the table's index (the kernel uses siphash over the tuple and
 * the netns; any good mix serves a simulator, as bucket order is not observable here).
 */
export function hashTuple(t: Tuple): number {
  let h = Math.imul(t.src ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ t.dst, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ ((t.srcU << 16) | t.dstU), 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15) ^ t.proto, 0x165667b1);
  return (h ^ (h >>> 16)) >>> 0;
}
