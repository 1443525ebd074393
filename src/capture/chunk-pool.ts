/**
 * The chunks a capture is read in, shared between the reader and a consumer that keeps records'
 * bytes for a while (the replay's lookahead). Each holder counts on a chunk; when the last one
 * lets go, the chunk is filled again instead of being left to the garbage collector. A capture
 * of a few hundred MB then needs a few chunks, not a heap of dead ones waiting for a GC: they
 * were about 70 MB of a replay's peak RSS.
 */

/**
 * Bytes per read; holds the largest pcap record (16 + 262144 bytes) many times over, and is
 * the largest pcapng block natsim reads.
 */
export const CHUNK_BYTES = 4 << 20;

/** A part of the file in memory, and how many holders still read it. */
export class Chunk {
  refs = 0;
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

  /** A chunk to fill, held once by the taker. */
  take(): Chunk {
    const chunk = this.free.pop() ?? new Chunk(new Uint8Array(CHUNK_BYTES));
    chunk.refs = 1;
    return chunk;
  }

  hold(chunk: Chunk): void {
    chunk.refs++;
  }

  /** One holder is done; the last one gives the chunk back for the next read. */
  release(chunk: Chunk): void {
    if (--chunk.refs === 0) this.free.push(chunk);
  }
}
