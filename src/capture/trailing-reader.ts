/**
 * The capture's bytes read a second time, behind the reader: the replay reads a lookahead ahead
 * of the record it feeds (world/capture-replay.ts), and holding every record of that second
 * in memory was most of a busy capture's peak RSS (a 43 MB/s capture: 52 MB of chunks). It
 * keeps each record's file position instead and, when the record is fed, takes its bytes from
 * here: one chunk, refilled from the file at the first record it does not hold. Records are fed
 * in file order, so the file is read twice, front to back, each byte once more — from the page
 * cache the first read has just filled.
 *
 * A range handed out is valid until the next call (the chunk is then filled again): whoever
 * keeps a fed packet copies it, as it did when its chunk went back to the reader.
 */
import { InputError } from '../errors.js';
import { closeSync } from 'node:fs';
import { openCapture, readFully } from './capture-file.js';
import { Chunk, CHUNK_BYTES } from './chunk-pool.js';

export class TrailingReader {
  private readonly chunk = new Chunk(new Uint8Array(CHUNK_BYTES));
  /** The file position of chunk.bytes[0], and one past the last byte read into it. */
  private start = 0;
  private end = 0;

  private readonly fd: number;

  /** Opens the file a second time (closed by close()). */
  constructor(private readonly path: string) {
    this.fd = openCapture(path);
  }

  close(): void {
    closeSync(this.fd);
  }

  /** The file's bytes [position, position + length), which the reader has read already. */
  range(position: number, length: number): Uint8Array {
    if (position < this.start || position + length > this.end) this.fill(position, length);
    return this.chunk.range(position - this.start, position - this.start + length);
  }

  private fill(position: number, length: number): void {
    const got = readFully(this.path, this.fd, this.chunk.bytes, 0, CHUNK_BYTES, position);
    if (got < length) throw new InputError({ file: this.path, offset: position }, 'the file got shorter while it was read (was it being written?)');
    this.start = position;
    this.end = position + got;
  }
}
