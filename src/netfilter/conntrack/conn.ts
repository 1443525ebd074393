/**
 * struct nf_conn: one tracked connection with its two tuples, status bits and timeout, and the
 * ctinfo values a packet carries (include/uapi/linux/netfilter/nf_conntrack_common.h).
 */
import { Dir, TupleHash, type Tuple } from './tuple.js';
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
  /** tuplehash[IP_CT_DIR_ORIGINAL] */
  private readonly original: TupleHash;
  /** tuplehash[IP_CT_DIR_REPLY] */
  private reply: TupleHash;
  status = 0;
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
    readonly id: number,
    orig: Tuple,
    reply: Tuple,
  ) {
    this.original = new TupleHash(this, Dir.Original, orig);
    this.reply = new TupleHash(this, Dir.Reply, reply);
  }

  /** ct->tuplehash[dir].tuple */
  tuple(dir: Dir): TupleHash {
    return dir === Dir.Original ? this.original : this.reply;
  }

  /**
   * nf_conntrack_alter_reply: NAT or IPVS chose the reply tuple of an entry not yet confirmed
   * (so not yet in the table, whose node the tuple is).
   */
  setReply(t: Tuple): void {
    if (this.confirmed) throw new Error(`bug: conntrack entry ${this.id}: reply tuple changed after confirmation`);
    this.reply = new TupleHash(this, Dir.Reply, t);
  }

  has(bit: number): boolean {
    return (this.status & bit) !== 0;
  }

  get confirmed(): boolean {
    return (this.status & Status.Confirmed) !== 0;
  }
}
