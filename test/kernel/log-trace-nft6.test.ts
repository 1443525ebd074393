/**
 * The Linux 6.18 recording log-trace-nft6 (scripts/record/log-trace-nft6.sh): IPv6 packets traced
 * through an inet table and ip6tables-nft's tables, as `nft monitor trace` (nftables 1.0.6) and
 * `xtables-monitor --trace -6` (iptables 1.8.9) printed them. Replayed on the router's node
 * snapshot, natsim prints the same lines but for the trace id (a hash of the skb's address).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadNode, nodeScenario } from '../../src/node/snapshot.js';
import type { ScenarioSpec } from '../../src/scenario/spec.js';
import { replayCapture } from '../../src/world/capture-replay.js';
import { traceToolLines } from '../../src/trace/trace-tools.js';
import type { TraceEvent } from '../../src/trace/events.js';

const dir = 'fixtures/kernel/log-trace-nft6';
const recorded = (file: string): string[] => readFileSync(`${dir}/${file}`, 'utf8').split('\n').filter((l) => l !== '');
const noId = (lines: readonly string[]): string[] => lines.map((l) => l.replace(/^(trace id|PACKET: \d+| TRACE: \d+) [0-9a-f]{8} /, '$1 ID '));

/** The trace tools' lines of natsim's replay of the capture. */
async function monitorLines(spec: ScenarioSpec): Promise<string[]> {
  const lines: string[] = [];
  const emit = (e: TraceEvent): void => {
    if (e.kind === 'hook') for (const event of e.nftTrace) lines.push(...traceToolLines(event, 'zero'));
  };
  await replayCapture(`${dir}/capture.pcap`, spec, { sink: { emit } });
  return lines;
}

describe('kernel recording log-trace-nft6', () => {
  const spec = nodeScenario(loadNode(dir));

  it('prints what nft monitor trace printed, 105 lines: ip6 fields in order, icmpv6, extension headers raw, nexthdr kept in the inet table', async () => {
    // natsim reads nft-ruleset.txt (it lists the inet table besides ip6tables-nft's), so every
    // event is an nft table's
    const kernel = recorded('nft-monitor-trace.txt');
    expect(kernel).toHaveLength(105);
    expect(noId(await monitorLines(spec))).toEqual(noId(kernel));
  });

  it("prints what xtables-monitor --trace -6 printed for ip6tables-nft's tables, 58 lines, read from ip6tables-save.txt", async () => {
    // the inet table from nft-ruleset.txt, the ip6 tables from ip6tables-save.txt: iptables-nft's
    const nft = readFileSync(`${dir}/nft-ruleset.txt`, 'utf8');
    const inet = nft.slice(0, nft.indexOf('table ip6 raw'));
    const host = spec.hosts[0]!;
    const ruleset = { text: inet, file: `${dir}/nft-ruleset.txt`, lineOffset: 0, colOffset: 0 };
    const ip6tables = { text: readFileSync(`${dir}/ip6tables-save.txt`, 'utf8'), file: `${dir}/ip6tables-save.txt`, lineOffset: 0, colOffset: 0 };
    const lines = await monitorLines({ ...spec, hosts: [{ ...host, ruleset, ip6tables }] });
    const kernel = recorded('xtables-monitor.txt');
    expect(kernel).toHaveLength(58);
    expect(noId(lines.filter((l) => !l.startsWith('trace id ')))).toEqual(noId(kernel));
    // and the inet table's events, which the TCP packets (traced by ip6tables' raw table) have too
    expect(noId(lines.filter((l) => l.startsWith('trace id ')))).toEqual(noId(recorded('nft-monitor-trace.txt').filter((l) => / inet t6 /.test(l))));
  });
});
