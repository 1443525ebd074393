/**
 * The replay's lookahead ring (world/pending-ring.ts) is a queue kept in columns: whatever the
 * pushes and shifts, and across its growth while it wraps, the oldest record reads back as it
 * was filed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PendingRing } from '../../src/world/pending-ring.js';
import { PacketDirection, type CaptureRecord } from '../../src/capture/record.js';
import type { Chunk } from '../../src/capture/chunk-pool.js';
import type { Sent } from '../../src/world/recorded-out.js';

interface Filed {
  time: number;
  record: CaptureRecord;
  ndp: boolean;
  sent: Sent | null;
}

const directions = [PacketDirection.Host, PacketDirection.Outgoing, PacketDirection.OtherHost, PacketDirection.Broadcast] as const;

function record(n: number, direction: PacketDirection): CaptureRecord {
  return {
    index: n,
    offset: 24 + n * 1500 + 2 ** 33, // past 4 GiB: a float64 column
    sec: 0,
    nsec: 0,
    ifindex: (n * 7) % 5,
    direction,
    protocol: [0x0800, 0x86dd, 0x0806][n % 3]!,
    payload: new Uint8Array(0),
    payloadAt: n % 4096,
    payloadLength: 40 + (n % 1460),
    chunk: { position: 2 ** 32 + n * 1000 } as Chunk,
    frameAt: 0,
    hwSourceAt: -1,
    hwDestAt: -1,
  };
}

describe('pending ring', () => {
  it('gives back each record as filed, oldest first, across growth and wrap-around (property)', () => {
    const op = fc.oneof(fc.record({ push: fc.integer({ min: 1, max: 3000 }), direction: fc.integer({ min: 0, max: 3 }) }), fc.record({ shift: fc.integer({ min: 1, max: 3000 }) }));
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 12 }), (ops) => {
        const ring = new PendingRing();
        const model: Filed[] = [];
        let n = 0;
        for (const o of ops) {
          if ('push' in o) {
            for (let i = 0; i < o.push; i++, n++) {
              const filed: Filed = { time: n * 1000, record: record(n, directions[(o.direction + n) % 4]!), ndp: n % 5 === 0, sent: n % 3 === 0 ? ({ time: n } as unknown as Sent) : null };
              model.push(filed);
              ring.push(filed.time, filed.record, undefined, filed.sent, filed.ndp, null);
            }
          } else {
            for (let i = 0; i < o.shift && model.length > 0; i++) {
              model.shift();
              ring.shift();
            }
          }
          expect(ring.size).toBe(model.length);
          if (model.length === 0) continue;
          const want = model[0]!;
          const got = ring.oldest();
          expect(ring.oldestTime()).toBe(want.time);
          const r = want.record;
          expect([got.index, got.offset, got.position, got.length, got.ifindex, got.protocol]).toEqual([r.index, r.offset, r.chunk.position + r.payloadAt, r.payloadLength, r.ifindex, r.protocol]);
          expect([got.outgoing, got.otherHost, got.ndp, got.sent]).toEqual([r.direction === PacketDirection.Outgoing, r.direction === PacketDirection.OtherHost, want.ndp, want.sent]);
        }
      }),
      { seed: 11, numRuns: 150 },
    );
  });
});
