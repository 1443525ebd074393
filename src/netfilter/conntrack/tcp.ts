/**
 * The TCP connection tracker of Linux 6.18.15 (net/netfilter/nf_conntrack_proto_tcp.c): the
 * state transition table tcp_conntracks, the window tracking of tcp_in_window (after Guido van
 * Rooij's "Real Stateful TCP Packet Filtering in IP Filter"), the handling of ignored SYN,
 * SYN/ACK and ACK segments, RST validation, reopening a closed connection with a new SYN, and
 * the per-state timeouts with the retransmission and unacknowledged-data shortcuts.
 *
 * Sequence arithmetic is on u32 as in the kernel (before/after of include/net/tcp.h). Not
 * modelled: the checksum check of tcp_error (natsim's conntrack verifies no checksums), NAT
 * sequence adjustment (nf_ct_seq_offset is always 0: natsim has no helpers), SYN proxy, per-ct
 * timeout policies (nf_ct_timeout_lookup) and byte/packet accounting.
 */
import type { NetfilterNet } from '../net.js';
import type { SysctlNumbers } from '../../host/sysctl.js';
import { TcpFlag } from '../../packet/ipv4.js';
import type { L3Packet } from '../../packet/l3-packet.js';
import { Status, type Conn } from './conn.js';
import { Dir, otherDir } from './tuple.js';
import { TcpState, TCP_STATE_NAME } from './tcp-state.js';
import { refreshTimeout, setExpiry } from './expiry.js';
import { TcpByte, TcpSlab, TcpWord, tcpRecordRow, tcpRecordWord } from './tcp-slab.js';
import type { Slab } from './slab.js';

const SECOND = 1e9;

/** enum tcp_bit_set: the flag class of a segment, the middle index of tcp_conntracks. */
export enum TcpIndex {
  Syn = 0,
  SynAck = 1,
  Fin = 2,
  Ack = 3,
  Rst = 4,
  None = 5,
}

/** The table's pseudo-states: TCP_CONNTRACK_MAX (sIV, invalid) and TCP_CONNTRACK_IGNORE (sIG). */
export const TCP_INVALID = 10;
export const TCP_IGNORE = 11;
export type TcpTransition = TcpState | typeof TCP_INVALID | typeof TCP_IGNORE;

/** ip_ct_tcp_state.flags (include/uapi/linux/netfilter/nf_conntrack_tcp.h), and last_flags. */
export const CtTcpFlag = {
  WindowScale: 0x01,
  SackPerm: 0x02,
  CloseInit: 0x04,
  BeLiberal: 0x08,
  DataUnacknowledged: 0x10,
  MaxackSet: 0x20,
  ExpChallengeAck: 0x40,
  SimultaneousOpen: 0x80,
} as const;

/** The window scale and flags tcp_options fills in: a sender's (TcpSeen), or an ignored SYN's. */
interface TcpOptionsSeen {
  tdScale: number;
  flags: number;
}

/**
 * struct ip_ct_tcp_state: what the tracker knows of one direction's sender — a view of that
 * direction's part of its TcpConn's record (tcp-slab.ts), not storage of its own. All u32 but
 * scale/flags (u8). A view may be pointed at another entry (`point`): the tracker keeps two
 * for the sender and receiver of the packet it works on instead of making two per packet.
 */
export class TcpSeen implements TcpOptionsSeen {
  /** seen[dir]'s first word in the record (4·dir) and its scale/flags bytes' offset (2·dir). */
  private word: number;
  private byte: number;

  constructor(
    private tcp: TcpConn,
    dir: Dir,
  ) {
    this.word = 4 * dir;
    this.byte = 2 * dir;
  }

  /** This view, now of seen[dir] of `tcp`. */
  point(tcp: TcpConn, dir: Dir): this {
    this.tcp = tcp;
    this.word = 4 * dir;
    this.byte = 2 * dir;
    return this;
  }

  /** max of seq + len */
  get tdEnd(): number {
    return this.tcp.u32(this.word + TcpWord.SeenEnd);
  }
  set tdEnd(v: number) {
    this.tcp.setU32(this.word + TcpWord.SeenEnd, v);
  }
  /** max of ack + max(win, 1) */
  get tdMaxend(): number {
    return this.tcp.u32(this.word + TcpWord.SeenMaxend);
  }
  set tdMaxend(v: number) {
    this.tcp.setU32(this.word + TcpWord.SeenMaxend, v);
  }
  /** max(win) */
  get tdMaxwin(): number {
    return this.tcp.u32(this.word + TcpWord.SeenMaxwin);
  }
  set tdMaxwin(v: number) {
    this.tcp.setU32(this.word + TcpWord.SeenMaxwin, v);
  }
  /** max of ack */
  get tdMaxack(): number {
    return this.tcp.u32(this.word + TcpWord.SeenMaxack);
  }
  set tdMaxack(v: number) {
    this.tcp.setU32(this.word + TcpWord.SeenMaxack, v);
  }
  /** window scale factor */
  get tdScale(): number {
    return this.tcp.u8(this.byte + TcpByte.SeenScale);
  }
  set tdScale(v: number) {
    this.tcp.setU8(this.byte + TcpByte.SeenScale, v);
  }
  get flags(): number {
    return this.tcp.u8(this.byte + TcpByte.SeenFlags);
  }
  set flags(v: number) {
    this.tcp.setU8(this.byte + TcpByte.SeenFlags, v);
  }
}

/**
 * struct ip_ct_tcp (ct->proto.tcp), zeroed as tcp_new's memset leaves it (last_index 0 is
 * TCP_SYN_SET): a handle on its record in its netns's TCP slab (NetfilterNet.tcpRecords) while
 * the entry lives; `release` moves the record out when the entry goes.
 */
export class TcpConn {
  /**
   * The record's first int32 word in the slab (its byte is four times that): a field is one
   * add away, and the accessors stay small enough for the tracker's functions to inline them.
   */
  private at: number;

  constructor(private slab: Slab) {
    this.at = tcpRecordWord(slab.alloc());
  }

  /**
   * nf_ct_destroy: the entry is gone, its record goes back to its slab. Whoever still
   * holds the entry (a trace, a packet in flight — the kernel's references) reads on from a
   * copy (Slab.detach); a second release does nothing.
   */
  release(): void {
    if (this.slab.detached) return;
    const copy = this.slab.detach(tcpRecordRow(this.at));
    this.slab = copy.slab;
    this.at = tcpRecordWord(copy.row);
  }

  /** seen[dir]: a new view of what the tracker knows of the sender in that direction. */
  seen(dir: Dir): TcpSeen {
    return new TcpSeen(this, dir);
  }

  /** seen[dir].flags, without a view. */
  seenFlags(dir: Dir): number {
    return this.u8(TcpByte.SeenFlags + 2 * dir);
  }
  setSeenFlags(dir: Dir, flags: number): void {
    this.setU8(TcpByte.SeenFlags + 2 * dir, flags);
  }

  /** Word `word` of the record (TcpWord, or a seen[] word) as the u32 it holds. */
  u32(word: number): number {
    return this.slab.words[this.at + word]! >>> 0;
  }
  setU32(word: number, v: number): void {
    this.slab.words[this.at + word] = v;
  }
  /** Byte `byte` of the record (TcpByte). */
  u8(byte: number): number {
    return this.slab.bytes[this.at * 4 + byte]!;
  }
  setU8(byte: number, v: number): void {
    this.slab.bytes[this.at * 4 + byte] = v;
  }

  get state(): TcpState {
    return this.u8(TcpByte.State);
  }
  set state(v: TcpState) {
    this.setU8(TcpByte.State, v);
  }
  /** Direction, index, seq, ack, end, window (u16) of the last annotated packet. */
  get lastDir(): Dir {
    return this.u8(TcpByte.LastDir);
  }
  set lastDir(v: Dir) {
    this.setU8(TcpByte.LastDir, v);
  }
  get lastIndex(): TcpIndex {
    return this.u8(TcpByte.LastIndex);
  }
  set lastIndex(v: TcpIndex) {
    this.setU8(TcpByte.LastIndex, v);
  }
  get lastSeq(): number {
    return this.u32(TcpWord.LastSeq);
  }
  set lastSeq(v: number) {
    this.setU32(TcpWord.LastSeq, v);
  }
  get lastAck(): number {
    return this.u32(TcpWord.LastAck);
  }
  set lastAck(v: number) {
    this.setU32(TcpWord.LastAck, v);
  }
  get lastEnd(): number {
    return this.u32(TcpWord.LastEnd);
  }
  set lastEnd(v: number) {
    this.setU32(TcpWord.LastEnd, v);
  }
  get lastWin(): number {
    return this.u32(TcpWord.LastWin);
  }
  set lastWin(v: number) {
    this.setU32(TcpWord.LastWin, v);
  }
  /** Window scale and flags of an ignored SYN (for the SYN/ACK that may follow). */
  get lastWscale(): number {
    return this.u8(TcpByte.LastWscale);
  }
  set lastWscale(v: number) {
    this.setU8(TcpByte.LastWscale, v);
  }
  get lastFlags(): number {
    return this.u8(TcpByte.LastFlags);
  }
  set lastFlags(v: number) {
    this.setU8(TcpByte.LastFlags, v);
  }
  /** Retransmitted packets seen (u8). */
  get retrans(): number {
    return this.u8(TcpByte.Retrans);
  }
  set retrans(v: number) {
    this.setU8(TcpByte.Retrans, v);
  }
}

/** What nf_conntrack_tcp_packet returns: NF_ACCEPT, -NF_ACCEPT (invalid) or -NF_REPEAT. */
export type TcpVerdict = 'accept' | 'invalid' | 'repeat';

/** enum nf_ct_tcp_action */
enum WindowAction {
  Ignore,
  Invalid,
  Accept,
}

// ---------------------------------------------------------------------------------------------
// The transition table

// (sNO, TCP_CONNTRACK_NONE, is never a new state)
const sSS = TcpState.SynSent;
const sSR = TcpState.SynRecv;
const sES = TcpState.Established;
const sFW = TcpState.FinWait;
const sCW = TcpState.CloseWait;
const sLA = TcpState.LastAck;
const sTW = TcpState.TimeWait;
const sCL = TcpState.Close;
const sS2 = TcpState.SynSent2;
const sIV = TCP_INVALID;
const sIG = TCP_IGNORE;

/** The states a connection can be in (TCP_CONNTRACK_NONE .. TCP_CONNTRACK_SYN_SENT2). */
const STATES = TCP_STATE_NAME.length;

/** tcp_conntracks[dir][index][old state] */
export const TCP_CONNTRACKS: readonly (readonly (readonly TcpTransition[])[])[] = [
  [
    /* ORIGINAL  sNO, sSS, sSR, sES, sFW, sCW, sLA, sTW, sCL, sS2 */
    /* syn    */ [sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2],
    /* synack */ [sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR],
    /* fin    */ [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
    /* ack    */ [sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV],
    /* rst    */ [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
    /* none   */ [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
  ],
  [
    /* REPLY     sNO, sSS, sSR, sES, sFW, sCW, sLA, sTW, sCL, sS2 */
    /* syn    */ [sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2],
    /* synack */ [sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR],
    /* fin    */ [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
    /* ack    */ [sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG],
    /* rst    */ [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
    /* none   */ [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
  ],
];

/** TCP_CONNTRACKS as one flat byte table, so a lookup is one load instead of three. */
const NEXT_STATE = Uint8Array.from(TCP_CONNTRACKS.flat(2));
const INDEXES = TCP_CONNTRACKS[0]!.length;

/** tcp_conntracks[dir][index][old] */
function nextState(dir: Dir, index: TcpIndex, old: TcpState): TcpTransition {
  return NEXT_STATE[(dir * INDEXES + index) * STATES + old]!;
}

/** get_conntrack_index */
export function conntrackIndex(flags: number): TcpIndex {
  if (flags & TcpFlag.RST) return TcpIndex.Rst;
  if (flags & TcpFlag.SYN) return flags & TcpFlag.ACK ? TcpIndex.SynAck : TcpIndex.Syn;
  if (flags & TcpFlag.FIN) return TcpIndex.Fin;
  if (flags & TcpFlag.ACK) return TcpIndex.Ack;
  return TcpIndex.None;
}

// ---------------------------------------------------------------------------------------------
// u32 sequence arithmetic (include/net/tcp.h)

const u32 = (x: number): number => x >>> 0;
const before = (a: number, b: number): boolean => ((a - b) | 0) < 0;
const after = (a: number, b: number): boolean => before(b, a);

/** segment_seq_plus_len: seq + payload length, plus one for SYN and one for FIN. */
function segmentSeqPlusLen(pkt: L3Packet): number {
  const f = pkt.tcpFlags;
  return u32(pkt.tcpSeq + pkt.tcpPayloadLength + (f & TcpFlag.SYN ? 1 : 0) + (f & TcpFlag.FIN ? 1 : 0));
}

/** MAXACKWINDOW(sender), of the sender's td_maxwin. */
function maxAckWindow(senderMaxwin: number): number {
  return senderMaxwin > 66000 ? senderMaxwin : 66000;
}

// ---------------------------------------------------------------------------------------------
// Options

const TCPOPT_EOL = 0;
const TCPOPT_NOP = 1;
const TCPOPT_WINDOW = 3;
const TCPOPT_SACK_PERM = 4;
const TCPOPT_SACK = 5;
const TCP_MAX_WSCALE = 14;

/** tcp_options: window scale and SACK-permitted of a SYN or SYN/ACK into `state`. */
function tcpOptions(pkt: L3Packet, state: TcpOptionsSeen): void {
  const opt = pkt.data;
  let length = pkt.tcpOptionsLength;
  if (!length) return;
  state.tdScale = 0;
  state.flags &= CtTcpFlag.BeLiberal;
  let p = pkt.tcpOptionsOffset;
  while (length > 0) {
    const opcode = opt[p++]!;
    if (opcode === TCPOPT_EOL) return;
    if (opcode === TCPOPT_NOP) {
      length--;
      continue;
    }
    if (length < 2) return;
    const opsize = opt[p++]!;
    if (opsize < 2 || opsize > length) return; // silly or partial option
    if (opcode === TCPOPT_SACK_PERM && opsize === 2) state.flags |= CtTcpFlag.SackPerm;
    else if (opcode === TCPOPT_WINDOW && opsize === 3) {
      state.tdScale = Math.min(opt[p]!, TCP_MAX_WSCALE);
      state.flags |= CtTcpFlag.WindowScale;
    }
    p += opsize - 2;
    length -= opsize;
  }
}

/** tcp_sack: the highest right edge of the SACK blocks, if after `sack`. */
function tcpSack(pkt: L3Packet, sack: number): number {
  const opt = pkt.data;
  let length = pkt.tcpOptionsLength;
  if (!length) return sack;
  let p = pkt.tcpOptionsOffset;
  // fast path: timestamp-only option (NOP, NOP, TIMESTAMP, 10)
  if (length === 12 && opt[p] === 1 && opt[p + 1] === 1 && opt[p + 2] === 8 && opt[p + 3] === 10) return sack;
  while (length > 0) {
    const opcode = opt[p++]!;
    if (opcode === TCPOPT_EOL) return sack;
    if (opcode === TCPOPT_NOP) {
      length--;
      continue;
    }
    if (length < 2) return sack;
    const opsize = opt[p++]!;
    if (opsize < 2 || opsize > length) return sack;
    if (opcode === TCPOPT_SACK && opsize >= 2 + 8 && (opsize - 2) % 8 === 0) {
      for (let i = 0; i < opsize - 2; i += 8) {
        const edge = u32((opt[p + i + 4]! << 24) | (opt[p + i + 5]! << 16) | (opt[p + i + 6]! << 8) | opt[p + i + 7]!);
        if (after(edge, sack)) sack = edge;
      }
      return sack;
    }
    p += opsize - 2;
    length -= opsize;
  }
  return sack;
}

// ---------------------------------------------------------------------------------------------
// Sysctls and timeouts

/**
 * Timeout slots beyond the states: TCP_CONNTRACK_RETRANS and TCP_CONNTRACK_UNACK, numbered as
 * in enum tcp_conntrack (after TCP_CONNTRACK_MAX and TCP_CONNTRACK_IGNORE), so that the slot
 * switch is on small integers.
 */
const TCP_RETRANS = 12;
const TCP_UNACK = 13;
type TimeoutSlot = TcpState | typeof TCP_RETRANS | typeof TCP_UNACK;

/**
 * tn->timeouts[slot] in seconds. NONE (timeouts[0], set to the SYN_SENT default by
 * nf_conntrack_tcp_init_net) and SYN_SENT2 have no sysctl: both stay at 2 minutes. Each case
 * reads its sysctl by a literal name (a property load; sysctl.ts says why).
 */
function timeoutSecs(n: Readonly<SysctlNumbers>, slot: TimeoutSlot): number {
  switch (slot) {
    case TcpState.SynSent:
      return n['net.netfilter.nf_conntrack_tcp_timeout_syn_sent'];
    case TcpState.SynRecv:
      return n['net.netfilter.nf_conntrack_tcp_timeout_syn_recv'];
    case TcpState.Established:
      return n['net.netfilter.nf_conntrack_tcp_timeout_established'];
    case TcpState.FinWait:
      return n['net.netfilter.nf_conntrack_tcp_timeout_fin_wait'];
    case TcpState.CloseWait:
      return n['net.netfilter.nf_conntrack_tcp_timeout_close_wait'];
    case TcpState.LastAck:
      return n['net.netfilter.nf_conntrack_tcp_timeout_last_ack'];
    case TcpState.TimeWait:
      return n['net.netfilter.nf_conntrack_tcp_timeout_time_wait'];
    case TcpState.Close:
      return n['net.netfilter.nf_conntrack_tcp_timeout_close'];
    case TCP_RETRANS:
      return n['net.netfilter.nf_conntrack_tcp_timeout_max_retrans'];
    case TCP_UNACK:
      return n['net.netfilter.nf_conntrack_tcp_timeout_unacknowledged'];
    case TcpState.None:
    case TcpState.SynSent2:
      return 120;
  }
}

/** tn->timeouts[slot] in ns. */
export function tcpTimeout(net: NetfilterNet, slot: TimeoutSlot): number {
  return timeoutSecs(net.sysctl.n, slot) * SECOND;
}

/** nf_ct_kill / nf_ct_kill_acct → nf_ct_delete: DYING, out of the table. */
function kill(net: NetfilterNet, ct: Conn, now: number): void {
  ct.status |= Status.Dying;
  if (ct.confirmed) net.destroy(ct, now);
}

/** nf_conntrack_tcp_established */
function established(ct: Conn, tcp: TcpConn): boolean {
  return tcp.state === TcpState.Established && ct.has(Status.Assured);
}

/** tcp_can_early_drop: the closing states. */
function canEarlyDrop(state: TcpState): boolean {
  return state === TcpState.FinWait || state === TcpState.LastAck || state === TcpState.TimeWait || state === TcpState.Close || state === TcpState.CloseWait;
}

// ---------------------------------------------------------------------------------------------
// tcp_error, tcp_new

/**
 * tcp_valid_flags: the FIN/SYN/RST/ACK/URG combinations accepted (PSH, ECE, CWR always are),
 * as the kernel's array indexed by those flags (FIN|SYN|RST|ACK|URG + 1 entries).
 */
const VALID_FLAGS = new Uint8Array(0x3f + 1);
for (const f of [0x02, 0x22, 0x12, 0x04, 0x14, 0x11, 0x31, 0x10, 0x30]) VALID_FLAGS[f] = 1;

/** tcp_error: truncated header or an invalid flag combination (the checksum is not checked). */
export function tcpError(pkt: L3Packet, notes: string[] | null): boolean {
  const doff = pkt.tcpHeaderLength;
  if (doff < 20 || pkt.length - pkt.l4off < doff) {
    notes?.push('nf_ct_proto_6: truncated packet');
    return true;
  }
  if (!VALID_FLAGS[pkt.tcpFlags & ~(0x40 | 0x80 | TcpFlag.PSH)]) {
    notes?.push('nf_ct_proto_6: invalid tcp flag combination');
    return true;
  }
  return false;
}

/**
 * tcp_new: a SYN starts SYN_SENT with the sender's window data and options; any other segment
 * valid in NONE (a bare ACK) is picked up mid-stream when nf_conntrack_tcp_loose is set, with
 * SACK assumed and liberal window checking for both directions.
 */
function tcpNew(net: NetfilterNet, ct: Conn, pkt: L3Packet, notes: string[] | null): boolean {
  const newState = nextState(Dir.Original, conntrackIndex(pkt.tcpFlags), TcpState.None);
  if (newState >= TCP_INVALID) {
    notes?.push('nf_ct_proto_6: invalid new');
    return false;
  }
  if (newState !== TcpState.SynSent && net.sysctl.n['net.netfilter.nf_conntrack_tcp_loose'] === 0) {
    // the kernel returns false here without a log line; the note says why for trace and explain
    notes?.push('tcp_new: not a SYN, and nf_conntrack_tcp_loose=0 picks no connection up mid-stream');
    return false;
  }
  const tcp = new TcpConn(net.tcpRecords);
  const s = SENDER.point(tcp, Dir.Original);
  s.tdEnd = segmentSeqPlusLen(pkt);
  s.tdMaxwin = pkt.tcpWindow || 1;
  if (newState === TcpState.SynSent) {
    s.tdMaxend = s.tdEnd;
    tcpOptions(pkt, s);
  } else {
    s.tdMaxend = u32(s.tdEnd + s.tdMaxwin);
    tcp.setSeenFlags(Dir.Original, CtTcpFlag.SackPerm | CtTcpFlag.BeLiberal);
    tcp.setSeenFlags(Dir.Reply, CtTcpFlag.SackPerm | CtTcpFlag.BeLiberal);
  }
  tcp.lastIndex = TcpIndex.None; // tcp_packet will set it
  ct.tcp = tcp;
  return true;
}

// ---------------------------------------------------------------------------------------------
// tcp_in_window

/** tcp_init_sender: a SYN/ACK answering a SYN, or a SYN from the reply side (simultaneous open). */
function tcpInitSender(sender: TcpSeen, receiver: TcpSeen, pkt: L3Packet, end: number, win: number, dir: Dir): void {
  sender.tdEnd = sender.tdMaxend = end;
  sender.tdMaxwin = win === 0 ? 1 : win;
  tcpOptions(pkt, sender);
  // RFC 1323: both sides must send the window scale option to enable scaling in either direction
  if (dir === Dir.Reply && !(sender.flags & CtTcpFlag.WindowScale && receiver.flags & CtTcpFlag.WindowScale)) {
    sender.tdScale = 0;
    receiver.tdScale = 0;
  }
}

/** nf_tcp_log_invalid: with a liberal sender or nf_conntrack_tcp_be_liberal, everything is accepted. */
function logInvalid(net: NetfilterNet, sender: TcpSeen, ret: WindowAction, msg: string, notes: string[] | null): WindowAction {
  if (sender.flags & CtTcpFlag.BeLiberal || net.sysctl.n['net.netfilter.nf_conntrack_tcp_be_liberal'] !== 0) return WindowAction.Accept;
  notes?.push(`nf_ct_proto_6: ${msg}`);
  return ret;
}

/** The segment's numbers as tcp_in_window reads them. */
interface Segment {
  seq: number;
  ack: number;
  sack: number;
  end: number;
  win: number;
  winRaw: number;
}

/**
 * tcp_in_window, first part: initialise the sender's data from a SYN (or from a segment in the
 * middle of a connection), and re-initialise it on a newer SYN in SYN_SENT/SYN_RECV.
 * Returns true when the segment is accepted right away (a SYN without ACK).
 */
function initSenderFromSegment(tcp: TcpConn, sender: TcpSeen, receiver: TcpSeen, pkt: L3Packet, seg: Segment, dir: Dir): boolean {
  const syn = (pkt.tcpFlags & TcpFlag.SYN) !== 0;
  const ack = (pkt.tcpFlags & TcpFlag.ACK) !== 0;
  if (sender.tdMaxwin === 0) {
    if (syn) {
      tcpInitSender(sender, receiver, pkt, seg.end, seg.win, dir);
      return !ack; // simultaneous open
    }
    // in the middle of a connection: its history is lost, use the data from the packet
    sender.tdEnd = seg.end;
    const swin = u32(seg.win << sender.tdScale);
    sender.tdMaxwin = swin === 0 ? 1 : swin;
    sender.tdMaxend = u32(seg.end + sender.tdMaxwin);
    if (receiver.tdMaxwin === 0) {
      // no traffic the other way yet: let checks III and IV pass until there is
      receiver.tdEnd = receiver.tdMaxend = seg.sack;
    } else if (seg.sack === u32(receiver.tdEnd + 1)) {
      receiver.tdEnd = u32(receiver.tdEnd + 1); // likely a reply to a keepalive
    }
    return false;
  }
  if (syn && after(seg.end, sender.tdEnd) && (tcp.state === TcpState.SynSent || tcp.state === TcpState.SynRecv)) {
    // RFC 793: a reinitialised TCP uses larger sequence numbers; re-init this direction
    tcpInitSender(sender, receiver, pkt, seg.end, seg.win, dir);
    return dir === Dir.Reply && !ack;
  }
  return false;
}

/**
 * tcp_in_window, the bounds: I. seq ≤ sender.td_maxend; II. seq + len ≥ sender.td_end −
 * receiver.td_maxwin; III. sack ≤ receiver.td_end; IV. sack ≥ receiver.td_end − MAXACKWINDOW.
 */
function checkBounds(net: NetfilterNet, sender: TcpSeen, receiver: TcpSeen, seg: Segment, notes: string[] | null): WindowAction | null {
  const { sack, end } = seg;
  // each record field once (the bounds read them up to four times)
  const senderEnd = sender.tdEnd;
  const senderMaxend = sender.tdMaxend;
  const receiverEnd = receiver.tdEnd;
  const receiverMaxwin = receiver.tdMaxwin;
  const ackLow = u32(receiverEnd - maxAckWindow(sender.tdMaxwin) - 1);
  if (!before(seg.seq, u32(senderMaxend + 1))) {
    const overshot = u32(end - senderMaxend + 1);
    const inRecvWin = receiverMaxwin !== 0 && after(end, u32(senderEnd - receiverMaxwin - 1));
    if (inRecvWin && after(sack, ackLow) && overshot <= receiverMaxwin && before(sack, u32(receiverEnd + 1))) {
      // a TCP sending more than the receive window allows: remember the data for its ACK
      sender.tdEnd = end;
      sender.flags |= CtTcpFlag.DataUnacknowledged;
      return logInvalid(net, sender, WindowAction.Ignore, `${overshot} bytes more than expected`, notes);
    }
    return logInvalid(net, sender, WindowAction.Invalid, `SEQ is over upper bound ${u32(senderMaxend + 1)} (over the window of the receiver)`, notes);
  }
  if (!before(sack, u32(receiverEnd + 1))) {
    return logInvalid(net, sender, WindowAction.Invalid, `ACK is over upper bound ${u32(receiverEnd + 1)} (ACKed data not seen yet)`, notes);
  }
  const low = u32(senderEnd - receiverMaxwin - 1);
  if (receiverMaxwin !== 0 && !after(end, low)) {
    return logInvalid(net, sender, WindowAction.Ignore, `SEQ is under lower bound ${low} (already ACKed data retransmitted)`, notes);
  }
  if (!after(sack, ackLow)) {
    return logInvalid(net, sender, WindowAction.Ignore, `ignored ACK under lower bound ${ackLow} (possible overly delayed)`, notes);
  }
  return null;
}

/** tcp_in_window, the update of the sender's and receiver's data from an in-window segment. */
function updateWindows(sender: TcpSeen, receiver: TcpSeen, pkt: L3Packet, seg: Segment): void {
  const { ack, sack, end } = seg;
  const tcpFlags = pkt.tcpFlags;
  let win = seg.win;
  if (!(tcpFlags & TcpFlag.SYN)) win = u32(win << sender.tdScale); // RFC 1323
  const swin = u32(win + u32(sack - ack));
  if (sender.tdMaxwin < swin) sender.tdMaxwin = swin;
  // the sender's flags are read once and written once, after both of their updates
  let senderFlags = sender.flags;
  const senderFlagsWere = senderFlags;
  if (after(end, sender.tdEnd)) {
    sender.tdEnd = end;
    senderFlags |= CtTcpFlag.DataUnacknowledged;
  }
  if (tcpFlags & TcpFlag.ACK) {
    if (!(senderFlags & CtTcpFlag.MaxackSet)) {
      sender.tdMaxack = ack;
      senderFlags |= CtTcpFlag.MaxackSet;
    } else if (after(ack, sender.tdMaxack)) {
      sender.tdMaxack = ack;
    }
  }
  if (senderFlags !== senderFlagsWere) sender.flags = senderFlags;
  updateReceiver(sender.tdMaxend, receiver, end, sack, win, ack);
}

/** tcp_in_window, "Update receiver data": its window grows by what the sender sent past td_maxend, its td_maxend to the ACK's window edge. */
function updateReceiver(senderMaxend: number, receiver: TcpSeen, end: number, sack: number, win: number, ack: number): void {
  const maxwin = receiver.tdMaxwin;
  if (maxwin !== 0 && after(end, senderMaxend)) receiver.tdMaxwin = u32(maxwin + u32(end - senderMaxend));
  const edge = u32(sack + win);
  if (after(edge, u32(receiver.tdMaxend - 1))) receiver.tdMaxend = win === 0 ? u32(edge + 1) : edge;
  if (ack === receiver.tdEnd) {
    const flags = receiver.flags;
    if (flags & CtTcpFlag.DataUnacknowledged) receiver.flags = flags & ~CtTcpFlag.DataUnacknowledged;
  }
}

/** tcp_in_window, "Check retransmissions": the same ACK segment again counts as a retransmission. */
function countRetrans(tcp: TcpConn, dir: Dir, seg: Segment): void {
  if (tcp.lastDir === dir && tcp.lastSeq === seg.seq && tcp.lastAck === seg.ack && tcp.lastEnd === seg.end && tcp.lastWin === seg.winRaw) {
    tcp.retrans = (tcp.retrans + 1) & 0xff;
    return;
  }
  tcp.lastDir = dir;
  tcp.lastSeq = seg.seq;
  tcp.lastAck = seg.ack;
  tcp.lastEnd = seg.end;
  tcp.lastWin = seg.winRaw;
  tcp.retrans = 0;
}

/**
 * The segment tcp_in_window works on. One object serves every call (the tracker runs one
 * packet at a time and nothing keeps it): sequence numbers are doubles above 2^31, and a fresh
 * object per packet would box five of them.
 */
const SEGMENT: Segment = { seq: 0, ack: 0, sack: 0, end: 0, win: 0, winRaw: 0 };

/**
 * The views of the sender's and receiver's state the tracker works on (tcp_new, the RST and
 * ignored-SYN cases, tcp_in_window), pointed at each packet's entry by whoever uses them next:
 * as with SEGMENT, one pair serves every call, and nothing keeps one past its packet. Until
 * the first packet they rest on a record of no entry.
 */
const IDLE = new TcpConn(new TcpSlab(1));
IDLE.release();
const SENDER = IDLE.seen(Dir.Original);
const RECEIVER = IDLE.seen(Dir.Reply);

/** tcp_in_window */
function tcpInWindow(net: NetfilterNet, tcp: TcpConn, pkt: L3Packet, dir: Dir, index: TcpIndex, notes: string[] | null): WindowAction {
  const sender = SENDER.point(tcp, dir);
  const receiver = RECEIVER.point(tcp, otherDir(dir));
  const flags = pkt.tcpFlags;
  const ackSeq = pkt.tcpAckSeq;
  const seg = SEGMENT;
  seg.seq = pkt.tcpSeq;
  seg.ack = seg.sack = ackSeq;
  seg.end = segmentSeqPlusLen(pkt);
  seg.win = seg.winRaw = pkt.tcpWindow;
  if (receiver.flags & CtTcpFlag.SackPerm) seg.sack = tcpSack(pkt, seg.sack);
  // nf_ct_seq_offset(ct, !dir, ack - 1) is 0: natsim does no sequence adjustment
  if (initSenderFromSegment(tcp, sender, receiver, pkt, seg, dir)) return WindowAction.Accept;

  if (!(flags & TcpFlag.ACK)) {
    seg.ack = seg.sack = receiver.tdEnd; // no ACK: pretend it was set and OK
  } else if ((flags & (TcpFlag.ACK | TcpFlag.RST)) === (TcpFlag.ACK | TcpFlag.RST) && seg.ack === 0) {
    seg.ack = seg.sack = receiver.tdEnd; // broken stacks: RST with ACK set and ack 0
  }
  if (flags & TcpFlag.RST && seg.seq === 0 && tcp.state === TcpState.SynSent) {
    seg.seq = seg.end = sender.tdEnd; // RST answering a SYN
  }
  const out = checkBounds(net, sender, receiver, seg, notes);
  if (out !== null) return out;
  updateWindows(sender, receiver, pkt, seg);
  if (index === TcpIndex.Ack) countRetrans(tcp, dir, seg);
  return WindowAction.Accept;
}

/**
 * nf_tcp_handle_invalid: an out-of-window FIN or RST of an ASSURED entry answering a FIN/RST
 * from the other side shrinks a timeout of two minutes or more to the unacknowledged one.
 */
function handleInvalid(net: NetfilterNet, ct: Conn, tcp: TcpConn, dir: Dir, index: TcpIndex, now: number, notes: string[] | null): void {
  if (!ct.has(Status.Assured) || ct.has(Status.FixedTimeout)) return;
  if (index !== TcpIndex.Rst && index !== TcpIndex.Fin) return;
  if (tcp.lastDir !== dir && (tcp.lastIndex === TcpIndex.Fin || tcp.lastIndex === TcpIndex.Rst)) {
    const expires = Math.max(ct.timeout - now, 0);
    if (expires < 120 * SECOND) return;
    const timeout = tcpTimeout(net, TCP_UNACK);
    if (expires > timeout) {
      notes?.push(`nf_ct_proto_6: packet (index ${index}, dir ${dir}) response for index ${tcp.lastIndex} lower timeout to ${timeout / SECOND}`);
      setExpiry(net, ct, now + timeout);
    }
    return;
  }
  tcp.lastIndex = index;
  tcp.lastDir = dir;
}

// ---------------------------------------------------------------------------------------------
// nf_conntrack_tcp_packet

/**
 * The outcome of the state switch: a final verdict, or (verdict null) the states to go on
 * with. Every step has the same fields, so telling the two apart is one field load.
 */
interface Step {
  readonly verdict: TcpVerdict | null;
  readonly oldState: TcpState;
  readonly newState: TcpState;
  readonly checkWindow: boolean;
}

/** A step that ends the tracker's work with `verdict` (its states are not read). */
function final(verdict: TcpVerdict): Step {
  return { verdict, oldState: TcpState.None, newState: TcpState.None, checkWindow: false };
}

/** The steps that end the tracker's work with a verdict, made once. */
const ACCEPT = final('accept');
const INVALID = final('invalid');
const REPEAT = final('repeat');

/** Every state change, with and without the window check, made once: a step is never changed, so one serves every packet. */
const ADVANCES: readonly Step[] = Array.from({ length: STATES * STATES * 2 }, (_, i) => ({ verdict: null, oldState: Math.floor(i / 2 / STATES), newState: Math.floor(i / 2) % STATES, checkWindow: i % 2 === 1 }));

/**
 * What the tracker's steps work on for one packet. One object serves every call, as SEGMENT
 * does (the tracker runs one packet at a time, and nothing keeps it past tcpPacket).
 */
interface PacketCtx {
  net: NetfilterNet;
  ct: Conn;
  tcp: TcpConn;
  pkt: L3Packet;
  dir: Dir;
  index: TcpIndex;
  now: number;
  notes: string[] | null;
}

/** The PacketCtx every tcpPacket call fills, made by the first. */
let packet: PacketCtx | null = null;

/**
 * nf_conntrack_tcp_packet: the TCP tracker's verdict for a packet of `ct` in direction `dir`
 * ('invalid' is -NF_ACCEPT: the packet passes untracked; 'repeat' is -NF_REPEAT: the entry was
 * killed and the packet must be looked up again to create a fresh one).
 */
export function tcpPacket(net: NetfilterNet, ct: Conn, pkt: L3Packet, dir: Dir, now: number, notes: string[] | null = null): TcpVerdict {
  if (tcpError(pkt, notes)) return 'invalid';
  if (!ct.confirmed && !tcpNew(net, ct, pkt, notes)) return 'invalid';
  const tcp = ct.tcp;
  if (!tcp) {
    notes?.push('nf_ct_proto_6: confirmed entry without TCP state');
    return 'invalid';
  }
  const c = (packet ??= { net, ct, tcp, pkt, dir, index: TcpIndex.None, now, notes });
  c.net = net;
  c.ct = ct;
  c.tcp = tcp;
  c.pkt = pkt;
  c.dir = dir;
  c.index = conntrackIndex(pkt.tcpFlags);
  c.now = now;
  c.notes = notes;
  const step = transition(c);
  if (step.verdict !== null) return step.verdict;
  if (step.checkWindow) {
    const res = tcpInWindow(net, tcp, pkt, dir, c.index, notes);
    if (res === WindowAction.Ignore) return 'accept';
    if (res === WindowAction.Invalid) {
      handleInvalid(net, ct, tcp, dir, c.index, now, notes);
      return 'invalid';
    }
  }
  return inWindow(c, step.oldState, step.newState);
}

/** The switch on the table's new state in nf_conntrack_tcp_packet, before tcp_in_window. */
function transition(c: PacketCtx): Step {
  const { tcp, dir, index } = c;
  const oldState = tcp.state;
  const newState = nextState(dir, index, oldState);
  switch (newState) {
    case TcpState.SynSent:
      if (oldState < TcpState.TimeWait) return advance(oldState, newState);
      return reopenOrIgnore(c, oldState);
    case TCP_IGNORE:
      return ignored(c, oldState);
    case TCP_INVALID:
      // (the SYN proxy keep-alive exception does not apply: natsim has no SYN proxy)
      c.notes?.push(`nf_ct_proto_6: packet (index ${index}) in dir ${dir} invalid, state ${TCP_STATE_NAME[oldState]}`);
      return INVALID;
    case TcpState.TimeWait:
      if (isChallengeAck(tcp, dir, index, oldState)) {
        tcp.lastFlags &= ~CtTcpFlag.ExpChallengeAck;
        c.notes?.push('nf_ct_proto_6: challenge-ack ignored');
        return ACCEPT; // don't change state
      }
      return advance(oldState, newState);
    case TcpState.SynSent2:
      tcp.lastFlags |= CtTcpFlag.SimultaneousOpen; // the table cannot handle simultaneous open
      return advance(oldState, newState);
    case TcpState.SynRecv:
      if (dir === Dir.Reply && index === TcpIndex.Ack && tcp.lastFlags & CtTcpFlag.SimultaneousOpen) return advance(oldState, TcpState.Established);
      return advance(oldState, newState);
    case TcpState.Close:
      if (index !== TcpIndex.Rst) return advance(oldState, newState);
      return rstStep(c, oldState);
    default:
      return advance(oldState, newState);
  }
}

/** A step from `oldState` to `to`, through tcp_in_window unless told otherwise. */
function advance(oldState: TcpState, to: TcpState, checkWindow = true): Step {
  return ADVANCES[(oldState * STATES + to) * 2 + (checkWindow ? 1 : 0)]!;
}

/** RFC 5961: an ACK in LAST_ACK answering a SYN we let through is a challenge ACK, not the last ACK. */
function isChallengeAck(tcp: TcpConn, dir: Dir, index: TcpIndex, oldState: TcpState): boolean {
  return oldState === TcpState.LastAck && index === TcpIndex.Ack && tcp.lastDir !== dir && tcp.lastIndex === TcpIndex.Syn && (tcp.lastFlags & CtTcpFlag.ExpChallengeAck) !== 0;
}

/**
 * A SYN in TIME_WAIT or CLOSE (RFC 1122): when either side started closing (CLOSE_INIT), or the
 * same side last sent a RST, kill the entry and repeat the lookup; otherwise ignore the SYN.
 */
function reopenOrIgnore(c: PacketCtx, oldState: TcpState): Step {
  const { tcp, dir } = c;
  const closing = (tcp.seenFlags(dir) | tcp.seenFlags(otherDir(dir))) & CtTcpFlag.CloseInit;
  if (closing || (tcp.lastDir === dir && tcp.lastIndex === TcpIndex.Rst)) {
    c.notes?.push(`nf_ct_proto_6: SYN reopens the connection in ${TCP_STATE_NAME[oldState]}: entry killed, lookup repeated`);
    kill(c.net, c.ct, c.now);
    return REPEAT;
  }
  return ignored(c, oldState);
}

/**
 * The TCP_CONNTRACK_IGNORE case: a SYN/ACK answering a SYN we ignored resynchronises us from
 * the annotated SYN; any other ignored packet is annotated (last_*) and passes without changing
 * state or timeout.
 */
function ignored(c: PacketCtx, oldState: TcpState): Step {
  const { tcp, pkt, dir, index } = c;
  if (index === TcpIndex.SynAck && tcp.lastIndex === TcpIndex.Syn && tcp.lastDir !== dir && pkt.tcpAckSeq === tcp.lastEnd) {
    resyncFromIgnoredSyn(tcp, dir);
    return advance(TcpState.SynSent, TcpState.SynRecv);
  }
  tcp.lastIndex = index;
  tcp.lastDir = dir;
  tcp.lastSeq = pkt.tcpSeq;
  tcp.lastEnd = segmentSeqPlusLen(pkt);
  tcp.lastWin = pkt.tcpWindow;
  if (index === TcpIndex.Syn && dir === Dir.Original) annotateIgnoredSyn(tcp, pkt, oldState);
  // possible challenge ACK answering the SYN
  if (oldState === TcpState.SynSent && index === TcpIndex.Ack && dir === Dir.Reply) tcp.lastAck = pkt.tcpAckSeq;
  c.notes?.push(`nf_ct_proto_6: packet (index ${index}) in dir ${dir} ignored, state ${TCP_STATE_NAME[oldState]}`);
  return ACCEPT;
}

/** b) the SYN/ACK acknowledges the SYN we ignored: client and server are in sync, we get in sync. */
function resyncFromIgnoredSyn(tcp: TcpConn, dir: Dir): void {
  const last = RECEIVER.point(tcp, tcp.lastDir); // the ignored SYN's sender receives this SYN/ACK
  last.tdEnd = tcp.lastEnd;
  last.tdMaxend = tcp.lastEnd;
  last.tdMaxwin = tcp.lastWin === 0 ? 1 : tcp.lastWin;
  last.tdScale = tcp.lastWscale;
  tcp.lastFlags &= ~CtTcpFlag.ExpChallengeAck;
  last.flags = tcp.lastFlags;
  stateReset(SENDER.point(tcp, dir));
}

/** nf_ct_tcp_state_reset */
function stateReset(s: TcpSeen): void {
  s.tdEnd = s.tdMaxend = s.tdMaxwin = s.tdMaxack = s.tdScale = 0;
  s.flags &= CtTcpFlag.BeLiberal;
}

/** What tcp_options finds in an ignored SYN: one object serves every call, as SEGMENT does. */
const IGNORED_SYN: TcpOptionsSeen = { tdScale: 0, flags: 0 };

/** a) an ignored SYN in ORIGINAL: keep its options for the SYN/ACK that may follow. */
function annotateIgnoredSyn(tcp: TcpConn, pkt: L3Packet, oldState: TcpState): void {
  const s = IGNORED_SYN;
  s.tdScale = s.flags = 0;
  tcp.lastFlags = tcp.lastWscale = 0;
  tcpOptions(pkt, s);
  if (s.flags & CtTcpFlag.WindowScale) {
    tcp.lastFlags |= CtTcpFlag.WindowScale;
    tcp.lastWscale = s.tdScale;
  }
  if (s.flags & CtTcpFlag.SackPerm) tcp.lastFlags |= CtTcpFlag.SackPerm;
  // potential RFC 5961 challenge ACK: in LAST_ACK it would look like the last ACK
  if (oldState === TcpState.LastAck) tcp.lastFlags |= CtTcpFlag.ExpChallengeAck;
}

/**
 * The TCP_CONNTRACK_CLOSE case for a RST: in a closing state skip the window check; else a RST
 * before the peer's highest ACK is invalid (unless nf_conntrack_tcp_ignore_invalid_rst), a RST
 * of an established connection not exactly at that ACK keeps the state (challenge ACK), and a
 * RST answering a SYN or ACK we let through skips the window check.
 */
function rstStep(c: PacketCtx, oldState: TcpState): Step {
  const { ct, tcp, pkt, dir } = c;
  let newState: TcpState = TcpState.Close;
  if (canEarlyDrop(tcp.state)) return advance(oldState, newState, false); // tuple may be reused already: skip validation
  const peer = RECEIVER.point(tcp, otherDir(dir));
  if (peer.flags & CtTcpFlag.MaxackSet && tcp.lastIndex !== TcpIndex.Syn) {
    const seq = pkt.tcpSeq;
    if (seq === 0 && !established(ct, tcp)) return advance(oldState, newState, true); // answer to a SYN we let through
    if (before(seq, peer.tdMaxack) && c.net.sysctl.n['net.netfilter.nf_conntrack_tcp_ignore_invalid_rst'] === 0) {
      c.notes?.push('nf_ct_proto_6: invalid rst');
      return INVALID;
    }
    if (!established(ct, tcp) || seq === peer.tdMaxack) return advance(oldState, newState, true);
    // part of a train: data then RST at its end
    if (tcp.lastIndex === TcpIndex.Ack && tcp.lastDir === dir && seq === tcp.lastEnd) return advance(oldState, newState, true);
    newState = oldState; // not exactly at the ACK: keep the state to allow a challenge ACK
  }
  const ackSeq = pkt.tcpAckSeq;
  if (((ct.has(Status.SeenReply) && tcp.lastIndex === TcpIndex.Syn) || (!ct.has(Status.Assured) && tcp.lastIndex === TcpIndex.Ack)) && ackSeq === tcp.lastEnd) {
    return advance(oldState, newState, false); // RST to an invalid SYN or ACK we let through at a) or c)
  }
  // reset answering a challenge ACK we let through
  if (oldState === TcpState.SynSent && tcp.lastIndex === TcpIndex.Ack && tcp.lastDir === Dir.Reply && pkt.tcpSeq === tcp.lastAck) return advance(oldState, newState, false);
  return advance(oldState, newState, true);
}

/** The timeout of an in-window packet: the state's, or shorter after retransmissions, RST, unacked data or a zero window. */
function stateTimeout(c: PacketCtx, newState: TcpState): number {
  const { net, tcp } = c;
  const t = tcpTimeout(net, newState);
  // each timeout is read only where the kernel's if/else chain reads it
  if (tcp.retrans >= net.sysctl.n['net.netfilter.nf_conntrack_tcp_max_retrans']) {
    const retrans = tcpTimeout(net, TCP_RETRANS);
    if (t > retrans) return retrans;
  }
  if (c.index === TcpIndex.Rst) return tcpTimeout(net, TcpState.Close);
  if ((tcp.seenFlags(Dir.Original) | tcp.seenFlags(Dir.Reply)) & CtTcpFlag.DataUnacknowledged) {
    const unack = tcpTimeout(net, TCP_UNACK);
    if (t > unack) return unack;
  }
  if (tcp.lastWin === 0) {
    const retrans = tcpTimeout(net, TCP_RETRANS);
    if (t > retrans) return retrans;
  }
  return t;
}

/**
 * The in_window label of nf_conntrack_tcp_packet: commit the new state, pick the timeout, kill
 * an entry whose only reply is a RST, keep the timeout of a retransmitted SYN, cap a picked-up
 * connection without reply, set ASSURED on the ACK completing the handshake (or the first
 * in-window ESTABLISHED packet after the reply of a picked-up one), and refresh.
 */
function inWindow(c: PacketCtx, oldState: TcpState, newState: TcpState): TcpVerdict {
  const { net, ct, tcp, dir, index, now } = c;
  tcp.lastIndex = index;
  tcp.lastDir = dir;
  tcp.state = newState;
  if (oldState !== newState && newState === TcpState.FinWait) tcp.setSeenFlags(dir, tcp.seenFlags(dir) | CtTcpFlag.CloseInit);
  if (oldState !== newState && newState === TcpState.Close) net.probe?.reset(ct, dir);
  let timeout = stateTimeout(c, newState);
  if (!ct.has(Status.SeenReply)) {
    if (c.pkt.tcpFlags & TcpFlag.RST) {
      kill(net, ct, now); // the only reply is a RST: no connection
      return 'accept';
    }
    if (index === TcpIndex.Syn && oldState === TcpState.SynSent) return 'accept'; // no renewal on SYN retransmit
    const unack = tcpTimeout(net, TCP_UNACK);
    if (newState === TcpState.Established && timeout > unack) timeout = unack; // mid-stream pickup
  } else if (!ct.has(Status.Assured) && (oldState === TcpState.SynRecv || oldState === TcpState.Established) && newState === TcpState.Established) {
    ct.status |= Status.Assured;
  }
  refreshTimeout(net, ct, now, timeout);
  return 'accept';
}
