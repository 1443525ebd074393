/**
 * The chunks a capture is read in, used again: the reader gives a chunk back when it moves on
 * to the next, and the pool keeps the last KEPT_BEHIND it was given, their bytes as read, before
 * it hands the oldest out to be filled again. A capture of a few hundred MB then needs three
 * chunks, not a heap of dead ones waiting for a GC (they were about 70 MB of a replay's peak
 * RSS). A consumer reading with a pool keeps nothing of a record's bytes without copying them:
 * the replay takes them when it feeds the record, from a chunk the pool still holds or else
 * from the file (trailing-reader.ts).
 */

/**
 * Bytes per read; holds the largest pcap record (16 + 262144 bytes) many times over, and is
 * the largest pcapng block natsim reads.
 */
export const CHUNK_BYTES = 4 << 20;

/**
 * Chunks kept behind the one being read: 8 MiB, which holds the replay's 1.2 s lookahead of a
 * capture of up to about 6.5 MB/s (the bench's NAT router writes 5.8 MB/s) without reading any
 * of it from the file again, in the three chunks the reader and the trailing reader's one held
 * before.
 */
const KEPT_BEHIND = 2;

/** A part of the file in memory, and where in the file it was read from. */
export class Chunk {
  /** The file position of bytes[0] (the reader sets it as it fills the chunk). */
  position = 0;
  /** How many bytes from bytes[0] hold the file's bytes from `position` (the reader sets it after each read). */
  filled = 0;
  /** The same bytes, for the readers' multi-byte fields in the file's byte order. */
  readonly view: DataView;
  /** bytes.buffer and bytes.byteOffset, read once: each is a call on a typed array, as costly as making a view. */
  private readonly buffer: ArrayBufferLike;
  private readonly offset: number;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    this.buffer = bytes.buffer;
    this.offset = bytes.byteOffset;
  }

  /** bytes[start, end) as a view of the same bytes (byteView without its two calls): a record's frame, made for every one fed. */
  range(start: number, end: number): Uint8Array {
    return new Uint8Array(this.buffer, this.offset + start, end - start);
  }
}

export class ChunkPool {
  /** The chunk being read into, if any, and the chunks given back, oldest first: each still holds what it was filled with. */
  private current: Chunk | null = null;
  private readonly behind: Chunk[] = [];

  /** A chunk to fill: the oldest of those kept once KEPT_BEHIND are, else a new one. */
  take(): Chunk {
    const chunk = this.behind.length >= KEPT_BEHIND ? this.behind.shift()! : new Chunk(new Uint8Array(CHUNK_BYTES));
    chunk.filled = 0;
    this.current = chunk;
    return chunk;
  }

  /** The reader is done with `chunk`: kept, as read, until a take() fills it again. */
  release(chunk: Chunk): void {
    if (this.current === chunk) this.current = null;
    this.behind.push(chunk);
  }

  /** The chunk that holds file bytes [position, position + length), if one still does. */
  holding(position: number, length: number): Chunk | null {
    const current = this.current;
    if (current !== null && holds(current, position, length)) return current;
    const behind = this.behind;
    for (let i = 0; i < behind.length; i++) if (holds(behind[i]!, position, length)) return behind[i]!;
    return null;
  }
}

function holds(chunk: Chunk, position: number, length: number): boolean {
  return position >= chunk.position && position + length <= chunk.position + chunk.filled;
}
