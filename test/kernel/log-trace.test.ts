/**
 * The kernel log of the Linux 6.18 recordings log-trace-legacy and log-trace-nft
 * (scripts/record/log-trace.sh): replayed on the router's node snapshot, natsim prints the same
 * LOG and TRACE lines as dmesg showed, at the same printk levels, in the same order. Only the
 * timestamp is left out: the kernel's is its monotonic clock, natsim's the time since the
 * capture's first record. With iptables-nft, TRACE's events are what `xtables-monitor --trace`
 * printed, but for the trace id (a siphash of the skb's address under a random boot-time key).
 */
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNode, nodeScenario } from '../../src/node/snapshot.js';
import type { ScenarioSpec } from '../../src/scenario/spec.js';
import { replayCapture } from '../../src/world/capture-replay.js';
import { nfLogLine } from '../../src/netfilter/log/nf-log-syslog.js';
import { traceToolLines } from '../../src/trace/trace-tools.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { natsim, tempDir } from '../cli/helpers.js';

/** `dmesg -r` lines without the timestamp: "<level>text". */
function kernelLines(dir: string): string[] {
  return readFileSync(`${dir}/dmesg.txt`, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/^(<[0-7]>)\[ *\d+\.\d{6}\] /, '$1'));
}

/** What natsim's replay on the node snapshot logs, and the nf_tables trace tool's lines. */
async function replayed(dir: string, spec: ScenarioSpec = nodeScenario(loadNode(dir))): Promise<{ log: string[]; monitor: string[] }> {
  const log: string[] = [];
  const monitor: string[] = [];
  const emit = (e: TraceEvent): void => {
    if (e.kind !== 'hook') return;
    for (const entry of e.logs) log.push(`<${entry.info.level}>${nfLogLine(entry)}`);
    for (const event of e.nftTrace) monitor.push(...traceToolLines(event, 'zero'));
  };
  await replayCapture(`${dir}/capture.pcap`, spec, { sink: { emit } });
  return { log, monitor };
}

const natsimLines = async (dir: string): Promise<string[]> => (await replayed(dir)).log;

/** xtables-monitor lines with the trace id blanked. */
const withoutId = (lines: readonly string[]): string[] => lines.map((l) => l.replace(/^(PACKET: 2| TRACE: 2) [0-9a-f]{8} /, '$1 ID '));

describe.each(['log-trace-legacy', 'log-trace-nft'])('kernel recording %s', (name) => {
  const dir = `fixtures/kernel/${name}`;

  it("prints dmesg's LOG and TRACE lines, level and text, in order", async () => {
    const kernel = kernelLines(dir);
    expect(kernel.every((l) => /^<[0-7]>(TRACE: |lt-)/.test(l))).toBe(true);
    expect(await natsimLines(dir)).toEqual(kernel);
  });
});

describe('kernel recording log-trace-legacy', () => {
  const dir = 'fixtures/kernel/log-trace-legacy';

  it('has a TRACE line for every rule the traced packets met: 57 of 69 lines', async () => {
    const lines = await natsimLines(dir);
    expect(lines.filter((l) => l.startsWith('<4>TRACE: '))).toHaveLength(57);
    // mangle FORWARD's unconditional -j ACCEPT is rule 1, which ip_tables' trace calls the policy
    const mangleForward = lines.filter((l) => l.startsWith('<4>TRACE: mangle:FORWARD:'));
    expect(mangleForward.every((l) => l.startsWith('<4>TRACE: mangle:FORWARD:policy:1 '))).toBe(true);
  });

  it('natsim trace prints each line before its op\'s NF-CORE line, and --json gives it with the entry', async () => {
    const kernel = kernelLines(dir).map((l) => l.slice(3));
    const text = (await natsim('trace', `${dir}/capture.pcap`)).stdout.split('\n');
    const printed = text.filter((l) => /^\[ *\d+\.\d{6}\] (TRACE: |lt-)/.test(l));
    expect(printed.map((l) => l.replace(/^\[ *\d+\.\d{6}\] /, ''))).toEqual(kernel);
    expect(text[text.indexOf(printed[0]!) + 1]).toMatch(/NF-CORE: pf = AF_INET, hook = NF_INET_FORWARD, elem->pri = 0 .*\(ip filter FORWARD\)$/);
    const json = (await natsim('trace', '--json', `${dir}/capture.pcap`)).stdout.split('\n').filter((l) => l.includes('"logs":[{'));
    const lines = json.flatMap((l) => (JSON.parse(l) as { logs: { line: string }[] }).logs.map((entry) => entry.line));
    expect(lines).toEqual(kernel);
  });
});

describe('kernel recording log-trace-nft', () => {
  const dir = 'fixtures/kernel/log-trace-nft';

  it('prints what xtables-monitor --trace printed: 96 lines, rule handles included, trace ids aside', async () => {
    const kernel = readFileSync(`${dir}/xtables-monitor.txt`, 'utf8').split('\n').filter((l) => l !== '');
    const { monitor } = await replayed(dir);
    expect(withoutId(monitor)).toEqual(withoutId(kernel));
    expect(kernel).toHaveLength(96);
  });

  it("prints dmesg's 12 lines from nft list ruleset too (nft's log statement, tcp flags)", async () => {
    // the snapshot's iptables-save.txt shows the same tables, and natsim reads that one: read the other
    const spec = nodeScenario(loadNode(dir));
    const nft = { text: readFileSync(`${dir}/nft-ruleset.txt`, 'utf8'), file: `${dir}/nft-ruleset.txt`, lineOffset: 0, colOffset: 0 };
    const { log, monitor } = await replayed(dir, { ...spec, hosts: [{ ...spec.hosts[0]!, ruleset: nft }] });
    expect(log).toEqual(kernelLines(dir));
    // nft monitor trace: ether addresses, dscp/ecn, tcp flags and window, icmp id and sequence and
    // the bytes past them; rule counters from the monitor's cache (zero: the ruleset was new)
    const recorded = readFileSync(`${dir}/nft-monitor-trace.txt`, 'utf8').split('\n').filter((l) => l !== '');
    const noId = (lines: readonly string[]): string[] => lines.map((l) => l.replace(/^trace id [0-9a-f]{8} /, 'trace id ID '));
    expect(noId(monitor)).toEqual(noId(recorded));
    expect(recorded).toHaveLength(96);
  });

  it("nft monitor trace lines of natsim trace: --trace-counters ruleset shows the ruleset file's counters", async () => {
    // the snapshot without its iptables-save.txt, so that natsim reads nft-ruleset.txt
    const node = join(tempDir(), 'log-trace-nft');
    cpSync(dir, node, { recursive: true });
    rmSync(join(node, 'iptables-save.txt'));
    const rule = async (counters: string): Promise<string | undefined> =>
      (await natsim('trace', '--trace-counters', counters, `${node}/capture.pcap`)).stdout.split('\n').find((l) => l.includes('ip raw PREROUTING rule iifname "eth1" tcp dport 8080'));
    expect(await rule('zero')).toContain('counter packets 0 bytes 0 meta nftrace set 1');
    expect(await rule('ruleset')).toContain('counter packets 5 bytes 274 meta nftrace set 1');
  });
});
