/**
 * Flat storage for ct->proto.tcp (struct ip_ct_tcp, with its two struct ip_ct_tcp_state): one
 * fixed-stride record per tracked TCP connection in its netns's Slab (conntrack/slab.ts), instead
 * of three JavaScript objects per entry (issue 22). The u32 fields sit in int32 words and are
 * read back with `>>> 0` (TcpConn).
 *
 * Record layout (bytes): 0-15 seen[ORIGINAL] td_end, td_maxend, td_maxwin, td_maxack; 16-31
 * the same of seen[REPLY]; 32 last_seq, 36 last_ack, 40 last_end, 44 last_win; then one byte
 * each: 48 + 2·dir td_scale of seen[dir], 49 + 2·dir its flags, 52 state, 53 last_dir,
 * 54 last_index, 55 last_wscale, 56 last_flags, 57 retrans.
 */
import { Slab } from './slab.js';

/** Bytes per record: 58 used, rounded up to whole int32 words. */
export const TCP_RECORD_BYTES = 60;
const WORDS = TCP_RECORD_BYTES / 4;

/** Word offsets in a record. The seen[dir] words are at SEEN + 4·dir + one of SEEN_*. */
export const enum TcpWord {
  SeenEnd = 0,
  SeenMaxend = 1,
  SeenMaxwin = 2,
  SeenMaxack = 3,
  LastSeq = 8,
  LastAck = 9,
  LastEnd = 10,
  LastWin = 11,
}

/** Byte offsets in a record. seen[dir]'s scale and flags are at SeenScale/SeenFlags + 2·dir. */
export const enum TcpByte {
  SeenScale = 48,
  SeenFlags = 49,
  State = 52,
  LastDir = 53,
  LastIndex = 54,
  LastWscale = 55,
  LastFlags = 56,
  Retrans = 57,
}

/** ct->proto.tcp's records. */
export class TcpSlab extends Slab {
  constructor(records: number) {
    super(TCP_RECORD_BYTES, records);
  }
}

/** The index of record `row`'s first int32 word; its bytes start at four times that. */
export function tcpRecordWord(row: number): number {
  return row * WORDS;
}

/** The record number of the record whose first int32 word is `word`. */
export function tcpRecordRow(word: number): number {
  return word / WORDS;
}
