/**
 * The one read loop of both capture formats (design.md §8: one reader, not two paths): the file
 * is read synchronously, a chunk at a time, and a format's parser takes every whole record or
 * block of the chunk in place. A unit the chunk's end cuts is copied to the start of the next
 * chunk, which records the file position of its first byte (Chunk.position) and how much it
 * holds (Chunk.filled). Without a pool a chunk is never written again, so a consumer may keep a
 * payload without copying it; with one (chunk-pool.ts) a chunk some way behind is filled again.
 *
 * Synchronous on purpose (issue 22): with reads on libuv's thread pool the replay spent most
 * of its capture-reading time waiting for them, and there is nothing else for the thread to do
 * meanwhile. A read fills what is left of the chunk at once: one system call per 4 MiB.
 */
import { readFully } from './capture-file.js';
import { Chunk, CHUNK_BYTES, type ChunkPool } from './chunk-pool.js';

/** A format's side of the loop. */
export interface ChunkParser {
  /**
   * Takes every whole unit in chunk.bytes[at, end) and returns where the first incomplete one
   * starts (`end` when none is). Throws an InputError for a malformed one.
   */
  parse(chunk: Chunk, at: number, end: number): number;
  /** The consumer asked for no more records: the loop reads no further. */
  readonly stopped: boolean;
  /** The file ended with chunk.bytes[at, end) unparsed: throws unless at === end. */
  finish(chunk: Chunk, at: number, end: number): void;
}

/** Reads the file from byte `position` to its end (or until the parser stops) through `parser`. */
export function readChunks(path: string, fd: number, position: number, pool: ChunkPool | null, parser: ChunkParser): void {
  const take = (): Chunk => (pool ? pool.take() : new Chunk(new Uint8Array(CHUNK_BYTES)));
  let chunk = take();
  chunk.position = position;
  /** chunk.bytes[start, end): read but not parsed yet (the head of a unit cut by the read). */
  let start = 0;
  let end = 0;
  for (;;) {
    const got = readFully(path, fd, chunk.bytes, end, chunk.bytes.length - end, position);
    if (got === 0) break;
    position += got;
    end += got;
    chunk.filled = end;
    start = parser.parse(chunk, start, end);
    if (parser.stopped) break;
    if (end === chunk.bytes.length) {
      // the chunk is full: go on in another, which starts with the unit the read cut
      const next = take();
      next.bytes.set(chunk.bytes.subarray(start, end));
      next.position = chunk.position + start;
      next.filled = end - start;
      pool?.release(chunk);
      chunk = next;
      end -= start;
      start = 0;
    }
  }
  pool?.release(chunk);
  if (!parser.stopped) parser.finish(chunk, start, end);
}
