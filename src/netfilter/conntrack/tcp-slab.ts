/**
 * Flat storage for ct->proto.tcp (struct ip_ct_tcp, with its two struct ip_ct_tcp_state): one
 * fixed-stride record per tracked TCP connection in a shared ArrayBuffer, read as int32 words
 * and bytes, instead of three JavaScript objects per entry (issue 22). Records are reused
 * through a free list threaded through the freed records themselves; the buffer grows by
 * doubling. The u32 fields sit in int32 words and are read back with `>>> 0` (TcpConn).
 *
 * Record layout (bytes): 0-15 seen[ORIGINAL] td_end, td_maxend, td_maxwin, td_maxack; 16-31
 * the same of seen[REPLY]; 32 last_seq, 36 last_ack, 40 last_end, 44 last_win; then one byte
 * each: 48 + 2·dir td_scale of seen[dir], 49 + 2·dir its flags, 52 state, 53 last_dir,
 * 54 last_index, 55 last_wscale, 56 last_flags, 57 retrans.
 */

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

/** End of the free list. */
const NONE = -1;

export class TcpSlab {
  words: Int32Array;
  bytes: Uint8Array;
  /** Records ever handed out (the high-water mark); those below it not in use are on the free list. */
  private used = 0;
  private freeHead = NONE;

  constructor(records: number) {
    const buf = new ArrayBuffer(records * TCP_RECORD_BYTES);
    this.words = new Int32Array(buf);
    this.bytes = new Uint8Array(buf);
  }

  /** Records the buffer holds. */
  get capacity(): number {
    return this.words.length / WORDS;
  }

  /** A zeroed record (tcp_new's memset), from the free list if it has one. */
  alloc(): number {
    let row = this.freeHead;
    if (row !== NONE) this.freeHead = this.words[row * WORDS]!;
    else {
      if (this.used === this.capacity) this.grow();
      row = this.used++;
    }
    this.bytes.fill(0, row * TCP_RECORD_BYTES, (row + 1) * TCP_RECORD_BYTES);
    return row;
  }

  /** Gives a record back; its first word links the free list. */
  free(row: number): void {
    this.words[row * WORDS] = this.freeHead;
    this.freeHead = row;
  }

  /** Copies record `row` of `from` into record `to` of this slab. */
  copyIn(to: number, from: TcpSlab, row: number): void {
    this.bytes.set(from.bytes.subarray(row * TCP_RECORD_BYTES, (row + 1) * TCP_RECORD_BYTES), to * TCP_RECORD_BYTES);
  }

  private grow(): void {
    const buf = new ArrayBuffer(Math.max(1, this.capacity) * 2 * TCP_RECORD_BYTES);
    const bytes = new Uint8Array(buf);
    bytes.set(this.bytes);
    this.words = new Int32Array(buf);
    this.bytes = bytes;
  }
}

/** Where every entry's TCP state lives while the entry does (TcpConn.release moves it out). */
export const TCP_SLAB = new TcpSlab(1024);

/** The word index of a record's word. */
export function tcpWord(row: number, word: number): number {
  return row * WORDS + word;
}

/** The byte index of a record's byte. */
export function tcpByte(row: number, byte: number): number {
  return row * TCP_RECORD_BYTES + byte;
}
