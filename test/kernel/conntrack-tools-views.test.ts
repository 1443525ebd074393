/**
 * The issue's done-when: on every kernel recording, `natsim stats --plain` prints the recorded
 * `conntrack -S` (conntrack-S.txt) as it is, and `natsim conntrack` the recorded `conntrack -L`
 * (conntrack-L.txt) but for the timeouts (they depend on when the real command ran), in its
 * order, with conntrack-tools' count on stderr (the recorder kept only stdout). The kernel's
 * random draws — which CPU ran a packet, where a port search started, the boot's hash key —
 * are not in a recording: each capture.yaml holds a seed and conntrack-hash-seed that give them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { natsim } from '../cli/helpers.js';

const RECORDINGS = readdirSync('fixtures/kernel');

describe.each(RECORDINGS)('kernel recording %s', (name) => {
  const dir = `fixtures/kernel/${name}`;

  it('natsim stats --plain prints conntrack-S.txt', () => {
    expect(natsim('stats', '--plain', `${dir}/capture.pcap`).stdout).toBe(readFileSync(`${dir}/conntrack-S.txt`, 'utf8'));
  });

  it('natsim conntrack prints conntrack-L.txt but for the timeouts, and the count on stderr', () => {
    const run = natsim('conntrack', `${dir}/capture.pcap`);
    const recorded = readFileSync(`${dir}/conntrack-L.txt`, 'utf8');
    const timeoutMasked = (text: string): string => text.replace(/^(\S+\s+\d+) \d+ /gm, '$1 T ');
    expect(timeoutMasked(run.stdout)).toBe(timeoutMasked(recorded));
    expect(run.stderr).toBe(`conntrack v1.4.7 (conntrack-tools): ${recorded.split('\n').filter(Boolean).length} flow entries have been shown.\n`);
  });
});

describe('found on port-range-exhaustion-udp', () => {
  // nf_conntrack_tuple_taken counts a hit: flows 5 and 6 each try the 4 taken ports (8); flows
  // 3 and 4 took 50003 and 50001 after walking over 0–1 and 0–3 taken ports from their starts.
  it.each([1, 3, 4])('is a walk the kernel could have made, whatever the seed (%i)', (seed) => {
    const [line] = natsim('stats', '--json', '--seed', String(seed), 'fixtures/kernel/port-range-exhaustion-udp/capture.pcap').stdout.trim().split('\n');
    const found = (JSON.parse(line!).cpus as { found: number }[]).reduce((n, c) => n + c.found, 0);
    expect(found).toBeGreaterThanOrEqual(8);
    expect(found).toBeLessThanOrEqual(12);
  });
});

describe.each(['tcp-lifecycle', 'icmp-error-related', 'snat-timewait-reuse'])('conntrack -E -o timestamp of %s', (name) => {
  // the kernel's stamp is when conntrack read the event, a little after the packet's capture time
  it('stamps each event with the capture\'s time, within a millisecond of the recorded stamp', () => {
    const stamps = (text: string): number[] => [...text.matchAll(/^\[(\d+\.\d{6})\]\t/gm)].map((m) => Number(m[1]));
    const ours = stamps(natsim('conntrack', '--events', `fixtures/kernel/${name}/capture.pcap`).stdout);
    const kernel = stamps(readFileSync(`fixtures/kernel/${name}/conntrack-E.txt`, 'utf8'));
    expect(ours).toHaveLength(kernel.length);
    ours.forEach((t, i) => expect(Math.abs(t - kernel[i]!), `event ${i + 1}`).toBeLessThan(1e-3));
  });
});
