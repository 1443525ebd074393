/**
 * The chunks a capture is read in, used again: the reader gives a chunk back when it moves on
 * to the next, and fills it again after that. A capture of a few hundred MB then needs two
 * chunks, not a heap of dead ones waiting for a GC (they were about 70 MB of a replay's peak
 * RSS). A consumer reading with a pool keeps nothing of a record's bytes without copying them:
 * the replay takes them again from the file when it feeds the record (trailing-reader.ts).
 */

/**
 * Bytes per read; holds the largest pcap record (16 + 262144 bytes) many times over, and is
 * the largest pcapng block natsim reads.
 */
export const CHUNK_BYTES = 4 << 20;

/** A part of the file in memory, and where in the file it was read from. */
export class Chunk {
  /** The file position of bytes[0] (the reader sets it as it fills the chunk). */
  position = 0;
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
  private readonly free: Chunk[] = [];

  /** A chunk to fill. */
  take(): Chunk {
    return this.free.pop() ?? new Chunk(new Uint8Array(CHUNK_BYTES));
  }

  /** The reader is done with `chunk`: the next take() fills it again. */
  release(chunk: Chunk): void {
    this.free.push(chunk);
  }
}
