/**
 * `natsim conntrack` against what the kernel printed in the recordings: `conntrack -L` after the
 * run (timeouts aside: they depend on when the real command ran) and `conntrack -E` during it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Status } from '../../src/netfilter/conntrack/conn.js';
import { conntrackEventLine, conntrackListLine } from '../../src/report/conntrack-list.js';
import { loadNode, nodeScenario } from '../../src/node/snapshot.js';
import { viewEntry, type TraceEvent } from '../../src/trace/events.js';
import { replayCapture } from '../../src/world/capture-replay.js';

const dir = (name: string) => `fixtures/kernel/${name}`;

function kernelLines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

/** The timeout is the third field of a -L line. */
function withoutTimeout(line: string): string {
  return line.replace(/^(\S+\s+\d+) \d+ /, '$1 T ');
}

describe.each(['icmp-masq', 'icmp-error-related', 'port-range-exhaustion-udp', 'masq-to-ports-multi-ip', 'snat-fixed-port-clash', 'snat-timewait-reuse', 'tcp-lifecycle'])('conntrack -L after %s', (name) => {
  it('lists the entries the kernel listed, field for field but the timeout', async () => {
    const r = await replayCapture(`${dir(name)}/capture.pcap`, nodeScenario(loadNode(dir(name))));
    const ours = [...r.host.nf.table.connections()].filter((ct) => !ct.has(Status.NatClash)).map((ct) => withoutTimeout(conntrackListLine(viewEntry(ct, r.endTime))));
    expect(ours.sort()).toEqual(kernelLines(`${dir(name)}/conntrack-L.txt`).map(withoutTimeout).sort());
  });
});

describe.each(['tcp-lifecycle', 'icmp-error-related', 'snat-timewait-reuse'])('conntrack -E during %s', (name) => {
  it('shows the kernel’s events: states, timeouts and flags in order', async () => {
    const events: string[] = [];
    const sink = { emit: (e: TraceEvent) => void (e.kind === 'conntrack' && events.push(conntrackEventLine(e.event, e.time, e.entry))) };
    await replayCapture(`${dir(name)}/capture.pcap`, nodeScenario(loadNode(dir(name))), { sink });
    const dropStamp = (l: string) => l.replace(/^\[[\d.]+\]\t/, '');
    expect(events.map(dropStamp)).toEqual(kernelLines(`${dir(name)}/conntrack-E.txt`).map(dropStamp));
  });
});
