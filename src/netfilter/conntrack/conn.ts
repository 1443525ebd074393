/**
 * struct nf_conn: one tracked connection with its two tuples, status bits and timeout, and the
 * ctinfo values a packet carries (include/uapi/linux/netfilter/nf_conntrack_common.h).
 */
import { Dir, invertTupleFields, L3_IPV6, Tuple, tupleL3proto } from './tuple.js';
import { ConnDouble, ConnWord, recordDouble, recordWord, tupleWord } from './conn-record.js';
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

/** Conn.expirySlot of an entry the expiry wheel (conntrack/expiry.ts) does not hold: unconfirmed, or gone from the table. */
export const NO_SLOT = -1;

/**
 * An entry. Its scalar state lives in its record (conntrack/conn-record.ts), read and written
 * through the accessors below as if they were fields; the object holds the record and what
 * points at other objects.
 */
export class Conn {
  /** The entry's record in `slab`. */
  private rec: number;
  /** The next entry in this one's NAT bysource bucket (ct->nat_bysource; nat/bysource.ts). */
  bysourceNext: Conn | null = null;
  /** TCP: the tracker's state (ct->proto.tcp), set by tcp_new. */
  tcp: TcpConn | null = null;

  constructor(
    /**
     * The slab holding ct->tuplehash[]: its conntrack table's (ConntrackTable.records), whose
     * record numbers are the table's nodes, until the entry is released; then a private copy.
     */
    private slab: Slab,
    id: number,
    orig: Tuple,
    reply: Tuple,
  ) {
    this.rec = slab.alloc();
    const w = this.slab.words;
    w[recordWord(this.rec, ConnWord.Id)] = id;
    w[recordWord(this.rec, ConnWord.Use)] = 1;
    w[recordWord(this.rec, ConnWord.ExpirySlot)] = NO_SLOT;
    w[recordWord(this.rec, ConnWord.L3Proto)] = tupleL3proto(orig.src, orig.proto);
    this.store(Dir.Original, orig);
    this.store(Dir.Reply, reply);
  }

  /** The entry's id (ct id; natsim numbers entries per netns in the order they are made). */
  get id(): number {
    return this.word(ConnWord.Id);
  }

  /** ct->status: Status bits. */
  get status(): number {
    return this.word(ConnWord.Status);
  }
  set status(bits: number) {
    this.setWord(ConnWord.Status, bits);
  }

  /**
   * ct_general.use as far as natsim needs it: the packets holding the entry while it is
   * unconfirmed (the one that made it, and each clone of it), so that it is freed with the last.
   */
  get refs(): number {
    return this.word(ConnWord.Use);
  }
  set refs(n: number) {
    this.setWord(ConnWord.Use, n);
  }

  /** Absolute expiry (virtual ns) once confirmed; the relative timeout (ns) before. */
  get timeout(): number {
    return this.slab.doubles[recordDouble(this.rec, ConnDouble.Timeout)]!;
  }
  set timeout(ns: number) {
    this.slab.doubles[recordDouble(this.rec, ConnDouble.Timeout)] = ns;
  }

  /** The expiry wheel's slot holding the entry (conntrack/expiry.ts), or NO_SLOT. */
  get expirySlot(): number {
    return this.word(ConnWord.ExpirySlot);
  }
  set expirySlot(slot: number) {
    this.setWord(ConnWord.ExpirySlot, slot);
  }

  /** The entry's place in its expiry slot's list (meaningful while expirySlot is not NO_SLOT). */
  get expiryIndex(): number {
    return this.word(ConnWord.ExpiryIndex);
  }
  set expiryIndex(index: number) {
    this.setWord(ConnWord.ExpiryIndex, index);
  }

  /** ct->mark (u32). */
  get mark(): number {
    return this.word(ConnWord.Mark) >>> 0;
  }
  set mark(mark: number) {
    this.setWord(ConnWord.Mark, mark);
  }

  /**
   * The nat extension's masq_index (struct nf_conn_nat): the interface MASQUERADE bound the
   * entry to, whose going down would kill it; 0 when no MASQUERADE did (no interface is 0).
   */
  get masqIndex(): number {
    return this.word(ConnWord.MasqIndex);
  }
  set masqIndex(ifindex: number) {
    this.setWord(ConnWord.MasqIndex, ifindex);
  }

  /** UDP: when the flow counts as a stream (ct->proto.udp.stream_ts). */
  get udpStreamTs(): number {
    return this.slab.doubles[recordDouble(this.rec, ConnDouble.UdpStreamTs)]!;
  }
  set udpStreamTs(ns: number) {
    this.slab.doubles[recordDouble(this.rec, ConnDouble.UdpStreamTs)] = ns;
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

  /** nf_ct_invert_tuple of tuplehash[dir], made straight from the record (null: an ICMP type with no inverse). */
  inverse(dir: Dir): Tuple | null {
    return invertTupleFields(this.src(dir), this.srcU(dir), this.dst(dir), this.dstU(dir), this.proto);
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
    return this.addr(tupleWord(this.rec, dir, ConnWord.Src));
  }
  dst(dir: Dir): number {
    return this.addr(tupleWord(this.rec, dir, ConnWord.Dst));
  }
  /** The source port, or the ICMP id. */
  srcU(dir: Dir): number {
    return this.slab.words[tupleWord(this.rec, dir, ConnWord.Ports)]! >>> 16;
  }
  /** The destination port, or ICMP type << 8 | code. */
  dstU(dir: Dir): number {
    return this.slab.words[tupleWord(this.rec, dir, ConnWord.Ports)]! & 0xffff;
  }

  /** nf_ct_tuple_equal of tuplehash[dir] and `t`. */
  matches(dir: Dir, t: Tuple): boolean {
    return this.src(dir) === t.src && this.dst(dir) === t.dst && this.srcU(dir) === t.srcU && this.dstU(dir) === t.dstU && this.proto === t.proto;
  }

  /** nf_ct_tuple_equal of this entry's tuplehash[dir] and `other`'s tuplehash[otherDir]. */
  sameTuple(dir: Dir, other: Conn, otherDir: Dir): boolean {
    const a = this.slab.words;
    const b = other.slab.words;
    const i = tupleWord(this.rec, dir, 0);
    const j = tupleWord(other.rec, otherDir, 0);
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
   * references) reads on from copies (Slab.detach); a second release does nothing.
   */
  release(): void {
    this.tcp?.release();
    if (this.slab.detached) return;
    const copy = this.slab.detach(this.rec);
    this.slab = copy.slab;
    this.rec = copy.row;
  }

  has(bit: number): boolean {
    return (this.status & bit) !== 0;
  }

  get confirmed(): boolean {
    return (this.status & Status.Confirmed) !== 0;
  }

  private get l3proto(): number {
    return this.word(ConnWord.L3Proto);
  }

  private word(word: ConnWord): number {
    return this.slab.words[recordWord(this.rec, word)]!;
  }

  private setWord(word: ConnWord, value: number): void {
    this.slab.words[recordWord(this.rec, word)] = value;
  }

  private addr(word: number): number {
    const a = this.slab.words[word]! >>> 0;
    return this.l3proto < L3_IPV6 ? a : IPV6_HANDLE_BASE + a;
  }

  private store(dir: Dir, t: Tuple): void {
    const w = this.slab.words;
    const at = tupleWord(this.rec, dir, 0);
    w[at + ConnWord.Src] = t.src;
    w[at + ConnWord.Dst] = t.dst;
    w[at + ConnWord.Ports] = (t.srcU << 16) | t.dstU;
  }
}
