/**
 * The report's collector on a NAT router's capture of 60,000 packets (the benchmark's
 * workload: TCP, DNS, pings, refused and unsolicited traffic): what it keeps is bounded by
 * what the page shows, whatever the capture's length, and the page says what it left out —
 * the packets drawn and the packets only counted add up to every packet replayed.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { runInput } from '../../src/cli/run-input.js';
import { writeWorkload } from '../../src/bench/workload.js';
import { ReportCollector, tupleKey } from '../../src/report/html/collector.js';
import { IPV6_HANDLE_BASE } from '../../src/packet/ipv6-addr.js';
import { FlowSelection } from '../../src/report/html/flow-selection.js';
import { flowFailed, LIMITS, type FlowRecord, type ReportData } from '../../src/report/html/model.js';
import { reportPage } from '../../src/report/html/page.js';
import { StatsSampler } from '../../src/report/html/stats-sampler.js';
import { ConntrackStats, STAT_NAMES } from '../../src/netfilter/conntrack/stats.js';
import { samePacket, sameTuple, viewPacket, type TraceEvent, type TraceSink } from '../../src/trace/events.js';
import { buildUdp } from '../../src/packet/build.js';
import { Hook, Verdict } from '../../src/netfilter/constants.js';
import type { Host } from '../../src/host/host.js';
import { MemoryStream, tempDir } from '../cli/helpers.js';

const PACKETS = 60_000;

describe('the report collector on a 60,000-packet capture', () => {
  let data: ReportData;
  // the packets the router handled: every record fed, and what its own stack sent (icmp_echo's
  // replies to pings of its WAN address) — counted from the events, apart from the collector
  let handled = 0;
  beforeAll(async () => {
    const pcap = join(tempDir(), 'router.pcap');
    writeWorkload(pcap, PACKETS, 7);
    const collector = new ReportCollector();
    const received = new Set<number>();
    const counted = new Set<number>();
    const tee: TraceSink = {
      emit: (e) => {
        if (e.kind === 'receive') received.add(e.skb);
        if ((e.kind === 'receive' || (e.kind === 'transmit' && !received.has(e.skb))) && !counted.has(e.skb)) counted.add(e.skb);
        collector.emit(e);
      },
    };
    const result = await runInput(pcap, { quiet: true, onHost: collector.onHost, stderr: new MemoryStream() }, () => tee);
    data = collector.finish(pcap, result.endTime);
    handled = counted.size;
  });

  it('counts every packet and keeps only what the page draws', () => {
    expect(handled).toBeGreaterThanOrEqual(PACKETS);
    expect(data.totals.packets).toBe(handled);
    const drawn = new Set([...data.failedFlows.slice(0, LIMITS.failedDrawn), ...data.topFlows]);
    for (const f of drawn) expect(f.kept.length).toBeLessThanOrEqual(LIMITS.packetsPerFlow + LIMITS.dropsPerFlow);
    for (const f of data.failedFlows.slice(LIMITS.failedDrawn)) expect(f.kept).toEqual([]);
    const keptDrawn = [...drawn].reduce((n, f) => n + f.kept.length, 0);
    expect(keptDrawn + data.leftOut.packets).toBe(handled);
    expect(data.topFlows.length).toBeLessThanOrEqual(LIMITS.topFlows);
    expect(data.sampledFlows.length).toBeLessThanOrEqual(LIMITS.sampledEntries);
    expect(data.leftOut.flows).toBe(data.totals.flows - drawn.size);
  });

  it('lists the failed flows and draws the busiest others, busiest first', () => {
    expect(data.totals.failed).toBeGreaterThan(0);
    expect(data.failedFlows.every(flowFailed)).toBe(true);
    expect(data.failedFlows.length).toBe(Math.min(data.totals.failed, LIMITS.failedListed));
    const counts = data.topFlows.map((f) => f.packets);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    expect(data.topFlows.some(flowFailed)).toBe(false);
  });

  it('samples the counters along the run', () => {
    const { times, values, fields } = data.stats;
    expect(times.length).toBeGreaterThan(10);
    expect(times.length).toBeLessThanOrEqual(2 * LIMITS.statsPoints + 1);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // counters only grow
    for (let f = 0; f < fields.length; f++) for (let i = 1; i < values.length; i++) expect(values[i]![f]).toBeGreaterThanOrEqual(values[i - 1]![f]!);
  });

  it('makes a page well under 20 MB that says what it left out', () => {
    const page = reportPage(data, null);
    expect(Buffer.byteLength(page)).toBeLessThan(20 * 2 ** 20);
    expect(page).toContain('Left out to keep the page small:');
  });
});

function flow(index: number, packets: number, drops: number): FlowRecord {
  const orig = { src: index, srcU: 1, dst: 2, dstU: 3, proto: 17 };
  return { index, key: String(index), proto: 17, orig, reply: null, first: index, last: index, packets, bytes: 0, drops, dropReasons: new Map(), clashes: 0, created: null, destroyed: null, states: [], status: 0, kept: [] };
}

describe('FlowSelection', () => {
  it('keeps the busiest flows that did not fail and every failed one up to its cap', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(1000), fc.boolean()), { maxLength: 400 }), (specs) => {
        const s = new FlowSelection();
        const flows = specs.map(([packets, failed], i) => flow(i + 1, packets, failed ? 1 : 0));
        for (const f of flows) s.offer(f);
        const ok = flows.filter((f) => f.drops === 0).sort((a, b) => b.packets - a.packets);
        expect(s.top.map((f) => f.packets)).toEqual(ok.slice(0, LIMITS.topFlows).map((f) => f.packets));
        expect(s.failedCount).toBe(flows.length - ok.length);
        expect(s.failed).toEqual(flows.filter((f) => f.drops > 0).slice(0, LIMITS.failedListed));
        expect(s.sample.length).toBe(Math.min(flows.length, LIMITS.sampledEntries));
      }),
      { numRuns: 200 },
    );
  });

  it('moves a flow that fails after it was offered from the busiest to the failed', () => {
    const s = new FlowSelection();
    const f = flow(1, 10, 0);
    expect(s.offer(f)).toBe(true);
    f.drops = 1;
    expect(s.offer(f)).toBe(true);
    expect(s.top).toEqual([]);
    expect(s.failed).toEqual([f]);
    expect(s.failedCount).toBe(1);
  });
});

describe('StatsSampler', () => {
  it('keeps at most twice its points however long the run, evenly spread, ending with the last counters', () => {
    const stats = new ConntrackStats(1, STAT_NAMES);
    const sampler = new StatsSampler(stats);
    const end = 3600e9;
    for (let t = 0; t <= end; t += 1e8) {
      stats.inc(0, 'found');
      sampler.at(t);
    }
    sampler.finish(end + 1);
    const { times, values } = sampler.series;
    expect(times.length).toBeLessThanOrEqual(2 * LIMITS.statsPoints + 1);
    expect(times.length).toBeGreaterThan(LIMITS.statsPoints / 2);
    expect(times.at(-1)).toBe(end + 1);
    expect(values.at(-1)![0]).toBe(stats.total().found);
    const gaps = times.slice(1, -1).map((t, i) => t - times[i]!);
    expect(Math.max(...gaps) / Math.min(...gaps)).toBeLessThanOrEqual(2.01);
  });
});

describe('the flows map key (tupleKey)', () => {
  const address = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }).map((i) => IPV6_HANDLE_BASE + i));
  const tuple = fc.record({ src: address, srcU: fc.integer({ min: 0, max: 0xffff }), dst: address, dstU: fc.integer({ min: 0, max: 0xffff }), proto: fc.constantFrom(1, 6, 17, 58, 132) });

  it('is the same for equal tuples and differs for tuples that differ in any field, IPv4 and IPv6', () => {
    fc.assert(
      fc.property(tuple, tuple, fc.constantFrom('src', 'srcU', 'dst', 'dstU', 'proto'), (a, b, field) => {
        expect(tupleKey({ ...a })).toBe(tupleKey(a));
        const c = { ...a, [field]: b[field] };
        expect(tupleKey(c) === tupleKey(a)).toBe(sameTuple(c, a));
      }),
      { numRuns: 2000 },
    );
  });

  it('tells an IPv6 handle from the IPv4 address of its low 32 bits', () => {
    const v4 = { src: 0x0a000001, srcU: 1000, dst: 0x0a000002, dstU: 80, proto: 6 };
    expect(tupleKey({ ...v4, src: IPV6_HANDLE_BASE + v4.src })).not.toBe(tupleKey(v4));
  });
});

describe("a kept packet's steps", () => {
  // IPVS steals packets (NF_STOLEN), the failures seed drops some, the ICMP one rewrites them
  const seeds = ['kube-proxy-ipvs', 'explain-failures', 'icmp-masquerade', 'lvs-nat'];

  it.each(seeds)('say what its hook events said, the steps of ops that did nothing shared (%s)', async (seed) => {
    const collector = new ReportCollector();
    const events = new Map<number, Extract<TraceEvent, { kind: 'hook' }>[]>();
    const tee: TraceSink = {
      emit: (e) => {
        if (e.kind === 'hook') events.set(e.skb, [...(events.get(e.skb) ?? []), e]);
        collector.emit(e);
      },
    };
    const input = join('fixtures/seeds', `${seed}.yaml`);
    const result = await runInput(input, { quiet: true, onHost: collector.onHost, stderr: new MemoryStream() }, () => tee);
    const data = collector.finish(input, result.endTime);
    const records = [...data.topFlows, ...data.failedFlows].flatMap((f) => f.kept);
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) {
      const seen = (events.get(r.skb) ?? []).filter((e) => e.host === data.host);
      expect(r.ops.map((o) => [o.hook, o.priority, o.op, o.verdict, o.rule, o.notes, o.drop])).toEqual(
        seen.map((e) => [e.hook, e.priority, e.op, e.verdict, e.rule, e.notes, e.drop?.reason ?? null]),
      );
      r.ops.forEach((o, i) => expect(o.changed === null).toBe(samePacket(seen[i]!.before, seen[i]!.after)));
    }
    const steps = records.flatMap((r) => r.ops);
    expect(new Set(steps).size).toBeLessThan(steps.length);
  });
});

describe('the shared steps of ops that did nothing', () => {
  it('keep hook, op, priority and verdict apart', () => {
    const collector = new ReportCollector();
    collector.onHost({ name: 'r', hooks: null, nf: { stats: new ConntrackStats(1, STAT_NAMES) } } as unknown as Host);
    const pkt = viewPacket(buildUdp({ saddr: 0x0a000001, daddr: 0x0a000002, sport: 1000, dport: 53, ipId: 1, ttl: 64, payload: new Uint8Array(4) }));
    const ops: [Hook, number, string, Verdict][] = [
      [Hook.PreRouting, -300, 'raw', Verdict.Accept],
      [Hook.PreRouting, -300, 'raw', Verdict.Queue],
      [Hook.PreRouting, -150, 'raw', Verdict.Queue],
      [Hook.Forward, -150, 'raw', Verdict.Queue],
    ];
    ops.forEach(([hook, priority, op, verdict], i) => {
      const skb = i + 1;
      const base = { time: i, host: 'r', skb };
      collector.emit({ ...base, kind: 'receive', dev: 'eth0', pkt });
      for (let again = 0; again < 2; again++) {
        collector.emit({ ...base, kind: 'hook', hook, priority, op, verdict, ctBefore: null, ct: null, before: pkt, after: pkt, nat: null, rule: null, notes: [], logs: [], nftTrace: [], drop: null });
      }
      collector.emit({ ...base, kind: 'transmit', dev: 'eth1', pkt });
    });
    const data = collector.finish('synthetic', 10);
    const records = data.topFlows.flatMap((f) => f.kept);
    expect(records.map((r) => r.ops.map((o) => [o.hook, o.priority, o.op, o.verdict]))).toEqual(ops.map((o) => [o, o]));
    for (const r of records) expect(r.ops[0]).toBe(r.ops[1]);
    expect(new Set(records.map((r) => r.ops[0])).size).toBe(ops.length);
  });
});
