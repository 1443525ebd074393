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
import type { NetDevice } from '../../src/host/device.js';
import type { CapturedLink } from '../../src/world/link-header.js';

interface Filed {
  time: number;
  record: CaptureRecord;
  ndp: boolean;
  sent: Sent | null;
  dev: NetDevice | undefined;
  link: CapturedLink | null;
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
              const filed = filedRecord(n, directions[(o.direction + n) % 4]!);
              model.push(filed);
              ring.push(filed.time, filed.record, filed.dev, filed.sent, filed.ndp, filed.link);
            }
          } else {
            for (let i = 0; i < o.shift && model.length > 0; i++) {
              model.shift();
              ring.shift();
            }
          }
          expect(ring.size).toBe(model.length);
          if (model.length > 0) expectOldest(ring, model[0]!);
        }
        // every record still filed, the ones in the middle of the ring too
        for (; model.length > 0; model.shift(), ring.shift()) if (!isOldest(ring, model[0]!)) expectOldest(ring, model[0]!);
        expect(ring.size).toBe(0);
      }),
      { seed: 11, numRuns: 150 },
    );
  });
});

/** Record n as the replay would file it; every few with an interface, a sent packet, a link header. */
function filedRecord(n: number, direction: PacketDirection): Filed {
  return {
    time: n * 1000,
    record: record(n, direction),
    ndp: n % 5 === 0,
    sent: n % 3 === 0 ? ({ time: n } as unknown as Sent) : null,
    dev: n % 4 === 0 ? undefined : ({ index: n } as unknown as NetDevice),
    link: n % 2 === 0 ? ({ source: n } as unknown as CapturedLink) : null,
  };
}

/** expectOldest's comparisons without expect's cost: the drain checks tens of thousands of records a run. */
function isOldest(ring: PendingRing, want: Filed): boolean {
  const got = ring.oldest();
  const r = want.record;
  return (
    ring.oldestTime() === want.time &&
    got.index === r.index &&
    got.offset === r.offset &&
    got.position === r.chunk.position + r.payloadAt &&
    got.length === r.payloadLength &&
    got.ifindex === r.ifindex &&
    got.protocol === r.protocol &&
    got.outgoing === (r.direction === PacketDirection.Outgoing) &&
    got.otherHost === (r.direction === PacketDirection.OtherHost) &&
    got.ndp === want.ndp &&
    got.sent === want.sent &&
    got.dev === want.dev &&
    got.link === want.link
  );
}

function expectOldest(ring: PendingRing, want: Filed): void {
  const got = ring.oldest();
  expect(ring.oldestTime()).toBe(want.time);
  const r = want.record;
  expect([got.index, got.offset, got.position, got.length, got.ifindex, got.protocol]).toEqual([r.index, r.offset, r.chunk.position + r.payloadAt, r.payloadLength, r.ifindex, r.protocol]);
  expect([got.outgoing, got.otherHost, got.ndp]).toEqual([r.direction === PacketDirection.Outgoing, r.direction === PacketDirection.OtherHost, want.ndp]);
  // the references are the very objects filed
  expect(got.sent).toBe(want.sent);
  expect(got.dev).toBe(want.dev);
  expect(got.link).toBe(want.link);
}
