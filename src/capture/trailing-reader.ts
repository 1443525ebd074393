/**
 * The bytes of a record read earlier, behind the reader: the replay reads a lookahead ahead of
 * the record it feeds (world/capture-replay.ts), and holding every record of that second in
 * memory was most of a busy capture's peak RSS (a 43 MB/s capture: 52 MB of chunks). It keeps
 * each record's file position instead and, when the record is fed, takes its bytes from the
 * reader's pool if a chunk there still holds them (chunk-pool.ts: the last 8 MiB read), else
 * from the file: one chunk of its own, made at the first record the pool no longer holds and
 * refilled at the first it does not hold either. Records are fed in file order, so such a file
 * is read twice, front to back — the second time from the page cache the first read has just
 * filled.
 *
 * A range handed out is valid until the next call (its chunk may then be filled again):
 * whoever keeps a fed packet copies it, as it did when its chunk went back to the reader.
 */
import { InputError } from '../errors.js';
import { closeSync } from 'node:fs';
import { openCapture, readFully } from './capture-file.js';
import { Chunk, CHUNK_BYTES, type ChunkPool } from './chunk-pool.js';

export class TrailingReader {
  /** The chunk read from the file, once a record was not in the pool (then `fd` is open). */
  private chunk: Chunk | null = null;
  private fd = -1;
  /** The file position of chunk.bytes[0], and one past the last byte read into it. */
  private start = 0;
  private end = 0;

  constructor(
    private readonly path: string,
    private readonly pool: ChunkPool,
  ) {}

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /** The file's bytes [position, position + length), which the reader has read already. */
  range(position: number, length: number): Uint8Array {
    const held = this.pool.holding(position, length);
    if (held !== null) return held.range(position - held.position, position - held.position + length);
    const chunk = this.chunk !== null && position >= this.start && position + length <= this.end ? this.chunk : this.fill(position, length);
    return chunk.range(position - this.start, position - this.start + length);
  }

  private fill(position: number, length: number): Chunk {
    if (this.fd < 0) this.fd = openCapture(this.path);
    const chunk = (this.chunk ??= new Chunk(new Uint8Array(CHUNK_BYTES)));
    const got = readFully(this.path, this.fd, chunk.bytes, 0, CHUNK_BYTES, position);
    if (got < length) throw new InputError({ file: this.path, offset: position }, 'the file got shorter while it was read (was it being written?)');
    this.start = position;
    this.end = position + got;
    return chunk;
  }
}
