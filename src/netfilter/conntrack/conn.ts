/**
 * struct nf_conn: one tracked connection with its two tuples, status bits and timeout, and the
 * ctinfo values a packet carries (include/uapi/linux/netfilter/nf_conntrack_common.h).
 */
import { Dir, L3_IPV6, Tuple, tupleL3proto } from './tuple.js';
import { TupleWord, recordWord, tupleWord } from './tuplehash.js';
import type { Slab } from './slab.js';
import { IPV6_HANDLE_BASE } from '../../packet/ipv6-addr.js';
import type { TcpConn } from './tcp.js';

/** enum ip_conntrack_info */
export const enum CtInfo {
  Established = 0,
  Related = 1,
  New = 2,
  EstablishedReply = 3,
  RelatedReply = 4,
  Untracked = 7,
}

/** CTINFO2DIR */
export function ctinfoDir(ctinfo: CtInfo): Dir {
  return ctinfo >= CtInfo.EstablishedReply ? Dir.Reply : Dir.Original;
}

/** enum ip_conntrack_status bits */
export const Status = {
  Expected: 1 << 0,
  SeenReply: 1 << 1,
  Assured: 1 << 2,
  Confirmed: 1 << 3,
  SrcNat: 1 << 4,
  DstNat: 1 << 5,
  SeqAdjust: 1 << 6,
  SrcNatDone: 1 << 7,
  DstNatDone: 1 << 8,
  Dying: 1 << 9,
  FixedTimeout: 1 << 10,
  Template: 1 << 11,
  NatClash: 1 << 12,
  Helper: 1 << 13,
} as const;
export const IPS_NAT_MASK = Status.SrcNat | Status.DstNat;

export class Conn {
  /** The entry's record in `slab`. */
  private rec: number;
  status = 0;
  /**
   * ct_general.use as far as natsim needs it: the packets holding the entry while it is
   * unconfirmed (the one that made it, and each clone of it), so that it is freed with the last.
   */
  refs = 1;
  /** Absolute expiry (virtual ns) once confirmed; the relative timeout (ns) before. */
  timeout = 0;
  /** The expiry wheel's slot holding the entry (conntrack/expiry.ts), or NO_SLOT (-1). */
  expirySlot = -1;
  /** The next entry in this one's NAT bysource bucket (ct->nat_bysource; nat/bysource.ts). */
  bysourceNext: Conn | null = null;
  mark = 0;
  /**
   * The nat extension's masq_index (struct nf_conn_nat): the interface MASQUERADE bound the
   * entry to, whose going down would kill it; 0 when no MASQUERADE did (no interface is 0).
   */
  masqIndex = 0;
  /** UDP: when the flow counts as a stream (ct->proto.udp.stream_ts). */
  udpStreamTs = 0;
  /** TCP: the tracker's state (ct->proto.tcp), set by tcp_new. */
  tcp: TcpConn | null = null;

  constructor(
    /**
     * The slab holding ct->tuplehash[]: its conntrack table's (ConntrackTable.records), whose
     * record numbers are the table's nodes, until the entry is released; then a private copy.
     */
    private slab: Slab,
    readonly id: number,
    orig: Tuple,
    reply: Tuple,
  ) {
    this.rec = slab.alloc();
    this.slab.words[recordWord(this.rec, TupleWord.L3Proto)] = tupleL3proto(orig.src, orig.proto);
    this.store(Dir.Original, orig);
    this.store(Dir.Reply, reply);
  }

  /** The entry's record in its table's slab, which numbers its table nodes; -1 once released. */
  get row(): number {
    return this.slab.detached ? -1 : this.rec;
  }

  /** Whether the entry's records are in `slab` (a table's own entries are in its slab). */
  isIn(slab: Slab): boolean {
    return this.slab === slab;
  }

  /** ct->tuplehash[dir].tuple, as a new Tuple (the entry's own stays in its record). */
  tuple(dir: Dir): Tuple {
    return new Tuple(this.src(dir), this.srcU(dir), this.dst(dir), this.dstU(dir), this.proto);
  }

  /** The protocol of both tuples (tuple.dst.protonum). */
  get proto(): number {
    return this.l3proto & 0xff;
  }

  /** Whether the entry is IPv6 (tuple.src.l3num). */
  get isIpv6(): boolean {
    return this.l3proto >= L3_IPV6;
  }

  src(dir: Dir): number {
    return this.addr(tupleWord(this.rec, dir, TupleWord.Src));
  }
  dst(dir: Dir): number {
    return this.addr(tupleWord(this.rec, dir, TupleWord.Dst));
  }
  /** The source port, or the ICMP id. */
  srcU(dir: Dir): number {
    return this.slab.words[tupleWord(this.rec, dir, TupleWord.Ports)]! >>> 16;
  }
  /** The destination port, or ICMP type << 8 | code. */
  dstU(dir: Dir): number {
    return this.slab.words[tupleWord(this.rec, dir, TupleWord.Ports)]! & 0xffff;
  }

  /** nf_ct_tuple_equal of tuplehash[dir] and `t`. */
  matches(dir: Dir, t: Tuple): boolean {
    return this.src(dir) === t.src && this.dst(dir) === t.dst && this.srcU(dir) === t.srcU && this.dstU(dir) === t.dstU && this.proto === t.proto;
  }

  /** nf_ct_tuple_equal of this entry's tuplehash[dir] and `other`'s tuplehash[otherDir]. */
  sameTuple(dir: Dir, other: Conn, otherDir: Dir): boolean {
    const [a, b] = [this.slab.words, other.slab.words];
    const [i, j] = [tupleWord(this.rec, dir, 0), tupleWord(other.rec, otherDir, 0)];
    return a[i] === b[j] && a[i + 1] === b[j + 1] && a[i + 2] === b[j + 2] && this.l3proto === other.l3proto;
  }

  /**
   * nf_conntrack_alter_reply: NAT or IPVS chose the reply tuple of an entry not yet confirmed
   * (so not yet in the table, whose node the tuple is).
   */
  setReply(t: Tuple): void {
    if (this.confirmed) throw new Error(`bug: conntrack entry ${this.id}: reply tuple changed after confirmation`);
    this.store(Dir.Reply, t);
  }

  /**
   * nf_conntrack_free: the entry has left the table (or never entered it); its records go back
   * to their slabs. Whoever still holds it (a trace, a packet in flight — the kernel's
   * references) reads on from private copies; a second release does nothing.
   */
  release(): void {
    this.tcp?.release();
    if (this.slab.detached) return;
    this.slab = this.slab.detach(this.rec);
    this.rec = 0;
  }

  has(bit: number): boolean {
    return (this.status & bit) !== 0;
  }

  get confirmed(): boolean {
    return (this.status & Status.Confirmed) !== 0;
  }

  private get l3proto(): number {
    return this.slab.words[recordWord(this.rec, TupleWord.L3Proto)]!;
  }

  private addr(word: number): number {
    const a = this.slab.words[word]! >>> 0;
    return this.l3proto < L3_IPV6 ? a : IPV6_HANDLE_BASE + a;
  }

  private store(dir: Dir, t: Tuple): void {
    const w = this.slab.words;
    const at = tupleWord(this.rec, dir, 0);
    w[at + TupleWord.Src] = t.src;
    w[at + TupleWord.Dst] = t.dst;
    w[at + TupleWord.Ports] = (t.srcU << 16) | t.dstU;
  }
}
