/**
 * `natsim conntrack --events` against what the kernel printed in the recordings: `conntrack -E`
 * during the run, stamps aside (`conntrack -L` after it: test/kernel/conntrack-tools-views.test.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { conntrackEventLine } from '../../src/report/conntrack-list.js';
import { loadNode, nodeScenario } from '../../src/node/snapshot.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { replayCapture } from '../../src/world/capture-replay.js';
import { ClockOrigin } from '../../src/capture/clock-origin.js';

const dir = (name: string) => `fixtures/kernel/${name}`;

function kernelLines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

// ip6-redirect: nf_nat_redirect_ipv6's choice (eth1's first usable address) in the reply tuple;
// conntrack-flush-midstream: entries picked up mid-stream, and two killed by a RST that was their only reply
describe.each(['tcp-lifecycle', 'tcp-fin-delack', 'icmp-error-related', 'snat-timewait-reuse', 'ip6-redirect', 'conntrack-flush-midstream'])('conntrack -E during %s', (name) => {
  it('shows the kernel’s events: states, timeouts and flags in order', async () => {
    const events: string[] = [];
    const origin = new ClockOrigin();
    const sink = { emit: (e: TraceEvent) => void (e.kind === 'conntrack' && events.push(conntrackEventLine(e.event, origin.wall(e.time), e.entry))) };
    await replayCapture(`${dir(name)}/capture.pcap`, nodeScenario(loadNode(dir(name))), { sink, origin });
    const dropStamp = (l: string) => l.replace(/^\[[\d.]+\]\t/, '');
    expect(events.map(dropStamp)).toEqual(kernelLines(`${dir(name)}/conntrack-E.txt`).map(dropStamp));
  });
});
