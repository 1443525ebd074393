/**
 * fixtures/kernel/neigh-failure (its README): packets for a next hop that never answers ARP wait
 * in the neighbour's queue, are answered with host unreachable all at once when the round of
 * requests fails, and a burst larger than unres_qlen_bytes keeps only its last packets — which
 * the kernel's errors name (they quote datagrams 115–120 and 251–256).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { natsim } from '../cli/helpers.js';
import { verifiedPackets } from '../support/verify-json.js';
import { skbTruesize, UNRES_QLEN_BYTES } from '../../src/world/arp-queue.js';

const DIR = 'fixtures/kernel/neigh-failure';

describe('kernel recording neigh-failure', () => {
  it("sends each of rt's host unreachables as the kernel did, at most 2 ms before it", async () => {
    const { code, packets } = await verifiedPackets(DIR);
    expect(code).toBe(0);
    const errors = packets.filter((p) => / type 3 code 1 /.test(p.kernel?.summary ?? ''));
    expect(errors.map((p) => p.outcome)).toEqual(Array(18).fill('match'));
    for (const p of errors) {
      const early = p.kernel!.time - p.natsim!.time;
      expect(early).toBeGreaterThanOrEqual(0);
      expect(early).toBeLessThan(0.002);
    }
    // the five of the first round together, 3.06 s after the first request: not each 3 s after its packet
    const first = errors.slice(0, 5).map((p) => p.natsim!.time);
    expect(Math.max(...first) - Math.min(...first)).toBe(0);
  });

  it('pushes the oldest packets out of a full queue: 108 of the 200 large datagrams, 44 of the 300 small', async () => {
    const run = await natsim('trace', `${DIR}/capture.pcap`, '--node', DIR);
    expect(run.code).toBe(0);
    const full = run.stdout.split('\n').filter((l) => l.includes('drop: neighbour 192.168.206.99 on eth0: arp_queue full (unres_qlen_bytes 212992)'));
    const failed = run.stdout.split('\n').filter((l) => l.includes('drop: neighbour 192.168.206.99 on eth0 failed: no answer to ARP (NEIGH_FAILED)'));
    // 200 - 92 and 300 - 256 pushed out; 5 + 1 + 92 + 256 freed when their round failed
    expect(full).toHaveLength(108 + 44);
    expect(failed).toHaveLength(5 + 1 + 92 + 256);
  });
});

describe('skbTruesize (arp-queue.ts)', () => {
  it("gives the truesize the recording's queue sizes imply: 2,304 for 1,228 bytes, 832 for 128", () => {
    expect(skbTruesize(1228, 4)).toBe(2304);
    expect(Math.floor(UNRES_QLEN_BYTES / skbTruesize(1228, 4))).toBe(92);
    expect(skbTruesize(128, 4)).toBe(832);
    expect(Math.floor(UNRES_QLEN_BYTES / skbTruesize(128, 4))).toBe(256);
  });

  it('grows with the length, and an IPv6 datagram is allocated 7 bytes fewer (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 20, max: 65_535 }), fc.integer({ min: 0, max: 2000 }), fc.constantFrom(4 as const, 6 as const), (length, more, family) => {
        expect(skbTruesize(length + more, family)).toBeGreaterThanOrEqual(skbTruesize(length, family));
        expect(skbTruesize(length, 6)).toBeLessThanOrEqual(skbTruesize(length, 4));
      }),
      { numRuns: 300 },
    );
    // 1,700 + 31 aligns to 1,792, with the shared info past kmalloc-2k; 1,700 + 24 to 1,728, which fits it
    expect(skbTruesize(1700, 4)).toBe(4096 + 256);
    expect(skbTruesize(1700, 6)).toBe(2048 + 256);
  });
});
