/**
 * The replay takes a record's bytes again when it feeds it (capture/trailing-reader.ts), by the
 * file position the reader gave (chunk.position + payloadAt), from a chunk the reader's pool
 * still holds or else from the file: the bytes must be the record's, for records cut by a
 * chunk's end too, in pcap and pcapng, and those the pool holds are not read from the file.
 */
import fc from 'fast-check';
import { renameSync, truncateSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { readCaptureSync } from '../../src/capture/index.js';
import { ChunkPool, CHUNK_BYTES, type Chunk } from '../../src/capture/chunk-pool.js';
import { TrailingReader } from '../../src/capture/trailing-reader.js';
import { writeWorkload } from '../../src/bench/workload.js';
import { InputError } from '../../src/errors.js';
import { tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

/** Whether two byte ranges hold the same bytes (a plain compare: expect's deep equality walks each element, slowly). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

/** A file of pseudo-random bytes over two chunks and a half, so that reads cross chunk ends. */
function noiseFile(): { path: string; bytes: Uint8Array } {
  const bytes = new Uint8Array(CHUNK_BYTES * 2 + (CHUNK_BYTES >> 1));
  let x = 0x12345678;
  for (let i = 0; i < bytes.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return { path: tmp.file('noise.bin', bytes), bytes };
}

describe('trailing reader', () => {
  const noise = noiseFile();

  it('hands out the file bytes of any range, forwards as a replay feeds and back (property)', () => {
    const step = fc.record({ back: fc.boolean(), gap: fc.integer({ min: 0, max: 600_000 }), length: fc.integer({ min: 0, max: 70_000 }) });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
        const trail = new TrailingReader(noise.path, new ChunkPool());
        try {
          let at = 0;
          for (const s of steps) {
            at = s.back ? Math.max(0, at - s.gap) : at + s.gap;
            const length = Math.min(s.length, noise.bytes.length - at);
            if (length < 0) break;
            expect(same(trail.range(at, length), noise.bytes.subarray(at, at + length)), `bytes [${at}, ${at + length})`).toBe(true);
          }
        } finally {
          trail.close();
        }
      }),
      { seed: 5, numRuns: 60 },
    );
  });

  for (const name of ['big.pcap', 'big.pcapng']) {
    it(`reads again each record's payload where the reader says it is (${name}, several chunks)`, () => {
      const path = tmp.file(name);
      writeWorkload(path, 14_000, 3); // about 8 MB: records cut by two chunk ends
      const seen: { position: number; payload: Uint8Array }[] = [];
      const pool = new ChunkPool();
      readCaptureSync(path, (r) => void seen.push({ position: r.chunk.position + r.payloadAt, payload: r.payload.slice() }), pool);
      expect(seen.length).toBe(14_000);
      expect(seen[seen.length - 1]!.position).toBeGreaterThan(CHUNK_BYTES * 1.5);
      const trail = new TrailingReader(path, pool);
      try {
        const wrong = seen.filter((s) => !same(trail.range(s.position, s.payload.length), s.payload));
        expect(wrong.map((s) => s.position)).toEqual([]);
      } finally {
        trail.close();
      }
    });
  }

  it('takes what the pool still holds from its chunks, not from the file, and the rest from the file', () => {
    const path = tmp.file('held.pcap');
    writeWorkload(path, 30_000, 4); // about 17 MB: four chunks and some
    const seen: { position: number; payload: Uint8Array; chunk: Chunk }[] = [];
    const pool = new ChunkPool();
    readCaptureSync(path, (r) => void seen.push({ position: r.chunk.position + r.payloadAt, payload: r.payload.slice(), chunk: r.chunk }), pool);
    const last = seen[seen.length - 1]!;
    // three chunks, each filled again once two were kept behind the one being read; at the end the
    // pool holds all three (the last given back too), the first 5 MB or so only the file
    expect(new Set(seen.map((s) => s.chunk)).size).toBe(3);
    const held = seen.filter((s) => pool.holding(s.position, s.payload.length) !== null);
    expect(held.length).toBeGreaterThan(0);
    expect(held.length).toBeLessThan(seen.length);
    expect(last.position - held[0]!.position).toBeGreaterThan(2 * CHUNK_BYTES - 70_000);
    const trail = new TrailingReader(path, pool);
    renameSync(path, `${path}.moved`); // a read from the file would now fail
    try {
      expect(held.filter((s) => !same(trail.range(s.position, s.payload.length), s.payload)).map((s) => s.position)).toEqual([]);
      expect(() => trail.range(seen[0]!.position, seen[0]!.payload.length)).toThrow(/held\.pcap/);
      renameSync(`${path}.moved`, path);
      expect(seen.filter((s) => !same(trail.range(s.position, s.payload.length), s.payload)).map((s) => s.position)).toEqual([]);
    } finally {
      trail.close();
    }
  });

  it('refuses a file that got shorter than what was read, naming it and the position', () => {
    const path = tmp.file('short.bin', noise.bytes.subarray(0, CHUNK_BYTES + 100));
    const trail = new TrailingReader(path, new ChunkPool());
    try {
      expect(same(trail.range(0, 10), noise.bytes.subarray(0, 10))).toBe(true);
      truncateSync(path, CHUNK_BYTES + 50);
      expect(() => trail.range(CHUNK_BYTES + 40, 60)).toThrow(InputError);
      expect(() => trail.range(CHUNK_BYTES + 40, 60)).toThrow(/short\.bin.*got shorter/);
    } finally {
      trail.close();
    }
  });
});
