/**
 * The bench's workload (src/bench/workload.ts) in each family: the router forwards every packet
 * of it. The IPv6 twin of a packet is 20 bytes longer, and ip6_forward answers one over the MTU
 * with packet too big instead of forwarding it, so a full TCP segment that fits IPv4's 1500
 * bytes but not IPv6's would turn cases (n) into a measure of ICMPv6 errors.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeWorkload, type WorkloadFamily } from '../../src/bench/workload.js';
import { loadScenario } from '../../src/scenario/load.js';
import { replayCapture } from '../../src/world/capture-replay.js';
import { tempDir } from '../cli/helpers.js';

const PACKETS = 6000;

describe('the bench workload', () => {
  for (const family of ['ipv4', 'ipv6', 'mixed'] as const satisfies readonly WorkloadFamily[]) {
    it(`is forwarded whole in the ${family} family: no packet dropped`, async () => {
      const w = writeWorkload(join(tempDir(), `${family}.pcap`), PACKETS, 3, family);
      const r = await replayCapture(w.pcap, loadScenario(w.scenario));
      expect(r.records).toBe(PACKETS);
      expect([...r.host.packets.dropped]).toEqual([]);
      expect(r.host.packets.sent).toBeGreaterThan(PACKETS * 0.9);
    });
  }
});
