/**
 * struct nf_conntrack_tuple: addresses (IPv4, or IPv6 handles: packet/ipv6-addr.ts), the
 * per-protocol "manipulable" parts and the protocol. As in the kernel's unions, `srcU` is the source port, or the ICMP echo id;
 * `dstU` is the destination port, or ICMP (type << 8 | code).
 */
import { IPPROTO } from '../constants.js';
import type { L3Packet } from '../../packet/l3-packet.js';
import { ICMP_ECHO, ICMP_ECHOREPLY } from '../../packet/icmp.js';
import { IPV6_HANDLE_BASE, ipv6Fold } from '../../packet/ipv6-addr.js';

/** Added to a tuple's protocol number when it is IPv6: above every protocol number. */
export const L3_IPV6 = 0x100;

/** The protocol and family of a tuple whose source is `src`; 0x100000000 is IPV6_HANDLE_BASE, written out so the JIT compares with a constant. */
export function tupleL3proto(src: number, proto: number): number {
  return src >= 0x100000000 ? proto | L3_IPV6 : proto;
}

export const enum Dir {
  Original = 0,
  Reply = 1,
}

/** The other direction (!dir in the kernel). */
export function otherDir(dir: Dir): Dir {
  return dir === Dir.Original ? Dir.Reply : Dir.Original;
}

/**
 * The addresses are u32, but kept as int32 (`| 0`) and read back through accessors: V8 stores
 * a field that ever holds a number of 2^31 or more as a separate heap number in every object of
 * the class, which a public address does, so two int32 fields save two allocations per tuple.
 * An IPv6 tuple keeps its handles' low 32 bits there too (the index of the address), and the
 * family (src.l3num) shares a small integer with the protocol (dst.protonum): an IPv4 tuple
 * has no field more than before, and one comparison checks both.
 */
export class Tuple {
  private src32: number;
  private dst32: number;
  /** The protocol, plus L3_IPV6 for an IPv6 tuple. */
  private readonly l3proto: number;

  constructor(
    src: number,
    public srcU: number,
    dst: number,
    public dstU: number,
    proto: number,
  ) {
    this.src32 = src | 0;
    this.dst32 = dst | 0;
    this.l3proto = tupleL3proto(src, proto);
  }

  get proto(): number {
    return this.l3proto & 0xff;
  }

  /** Whether the tuple is IPv6 (its l3num). */
  get isIpv6(): boolean {
    return this.l3proto >= L3_IPV6;
  }

  get src(): number {
    return this.l3proto < L3_IPV6 ? this.src32 >>> 0 : IPV6_HANDLE_BASE + (this.src32 >>> 0);
  }
  /** NAT's new address, of the tuple's own family. */
  set src(addr: number) {
    this.src32 = addr | 0;
  }
  get dst(): number {
    return this.l3proto < L3_IPV6 ? this.dst32 >>> 0 : IPV6_HANDLE_BASE + (this.dst32 >>> 0);
  }
  set dst(addr: number) {
    this.dst32 = addr | 0;
  }

  clone(): Tuple {
    return new Tuple(this.src, this.srcU, this.dst, this.dstU, this.proto);
  }

  equals(o: Tuple): boolean {
    return this.equalsFields(o.src, o.srcU, o.dst, o.dstU, o.proto);
  }

  equalsFields(src: number, srcU: number, dst: number, dstU: number, proto: number): boolean {
    return this.src32 === (src | 0) && this.dst32 === (dst | 0) && this.srcU === srcU && this.dstU === dstU && this.l3proto === tupleL3proto(src, proto);
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

/**
 * ICMPv6 types whose inverse is known (nf_conntrack_proto_icmpv6.c invmap): echo and node
 * information query ↔ reply.
 */
const ICMPV6_INVERSE: ReadonlyMap<number, number> = new Map([
  [128, 129],
  [129, 128],
  [139, 140],
  [140, 139],
]);

/** ICMP queries (echo, timestamp, info, address mask and their replies) carry an id; ICMPv6's are echo and node information. */
export function icmpIsQuery(type: number, proto: number = IPPROTO.ICMP): boolean {
  return (proto === IPPROTO.ICMPV6 ? ICMPV6_INVERSE : ICMP_INVERSE).has(type);
}

/** nf_ct_get_tuple for the protocols natsim tracks: the ORIGINAL-looking tuple of a packet. */
export function tupleFromPacket(p: L3Packet): Tuple {
  return new Tuple(p.saddr, p.sport, p.daddr, packetDstU(p), p.proto);
}

/** The destination L4 part of a packet's tuple: its port, or for ICMP and ICMPv6 type << 8 | code. */
export function packetDstU(p: L3Packet): number {
  return p.proto === IPPROTO.ICMP || p.proto === IPPROTO.ICMPV6 ? (p.icmpType << 8) | p.icmpCode : p.dport;
}

/** nf_ct_invert_tuple; null when the protocol cannot invert it (an ICMP or ICMPv6 type with no reply). */
export function invertTuple(t: Tuple): Tuple | null {
  return invertTupleFields(t.src, t.srcU, t.dst, t.dstU, t.proto);
}

/** invertTuple of the tuple these fields would make, without making it (a conntrack entry's own: Conn.inverse). */
export function invertTupleFields(src: number, srcU: number, dst: number, dstU: number, proto: number): Tuple | null {
  if (proto === IPPROTO.ICMP || proto === IPPROTO.ICMPV6) {
    const inverse = (proto === IPPROTO.ICMP ? ICMP_INVERSE : ICMPV6_INVERSE).get(dstU >>> 8);
    if (inverse === undefined) return null;
    return new Tuple(dst, srcU, src, (inverse << 8) | (dstU & 0xff), proto);
  }
  return new Tuple(dst, dstU, src, srcU, proto);
}

/**
 * hash_conntrack_raw: a 32-bit hash of a tuple, keyed. The kernel's is siphash over the tuple
 * with nf_conntrack_hash_rnd (random once per boot) and the netns' net_hash_mix; natsim's is a
 * keyed mix of the same fields — one key stands for one boot, and the table's bucket order
 * (what conntrack -L lists in) follows from it as the kernel's follows from its key.
 */
export function hashTuple(key: number, t: Tuple): number {
  return hashTupleFields(key, t.src, t.srcU, t.dst, t.dstU, t.proto);
}

/** hashTuple of the tuple these fields would make, without making it. An IPv6 tuple hashes its addresses' bits, not their handles. */
export function hashTupleFields(key: number, src: number, srcU: number, dst: number, dstU: number, proto: number): number {
  if (src >= 0x100000000) {
    src = ipv6Fold(src);
    dst = ipv6Fold(dst) ^ 0x6;
  }
  let h = Math.imul(src ^ key, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ dst, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ ((srcU << 16) | dstU), 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15) ^ proto ^ (key >>> 7), 0x165667b1);
  return (h ^ (h >>> 16)) >>> 0;
}
