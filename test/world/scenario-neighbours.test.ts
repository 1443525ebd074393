/**
 * A scenario's next hop that no host owns (world/scenario-neighbours.ts, world/arp-queue.ts):
 * the packets toward it wait in its neighbour queue and, when the round of ARP requests fails,
 * each is answered with host unreachable — as fixtures/kernel/neigh-failure shows the kernel
 * doing. Before, the scenario lost them silently: a connect() timed out after two minutes where
 * Linux says "No route to host" after three seconds.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import { World } from '../../src/world/world.js';
import { PacketDirection } from '../../src/capture/record.js';
import { roundFailure } from '../../src/world/scenario-neighbours.js';
import { readU16 } from '../../src/packet/ipv4.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { Skb } from '../../src/netfilter/skb.js';
import { buildUdp } from '../../src/packet/build.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { parseIpv6 } from '../../src/packet/ipv6-addr.js';
import { ArpQueues, type NeighbourRounds } from '../../src/world/arp-queue.js';
import { EventQueue } from '../../src/sim/event-queue.js';
import { FlowCollector } from '../../src/explain/collect.js';
import { explanation } from '../../src/explain/explain.js';
import { runWorld } from '../support/run-world.js';

const S = 1e9;
/** The ICMP header and the quoted IP header's offset of its identification (outer IPv4 header of 20 bytes). */
const QUOTED_ID = 20 + 8 + 4;

/** The recording's topology: c sends through rt, which routes 198.51.100.0/24 via 192.168.206.99, owned by no host. */
function deadNextHop(run: string[], extraHosts = ''): string {
  return `natsim: 1
name: dead-next-hop
seed: 1
hosts:
  c:
    interfaces: { eth0: { addr: [10.0.3.1/24], link: lan } }
    routes: [default via 10.0.3.254]
  rt:
    sysctl: { net.ipv4.ip_forward: 1 }
    interfaces:
      eth1: { addr: [10.0.3.254/24], link: lan }
      eth0: { addr: [192.168.206.250/24], link: wan }
    routes: [198.51.100.0/24 via 192.168.206.99]
${extraHosts}trace: [rt]
run:
${run.map((s) => `  - ${s}`).join('\n')}
`;
}

interface Errors {
  /** Each host unreachable rt sent: when, and which datagram (1-based, in the order rt received them) it quotes. */
  readonly sent: { readonly time: number; readonly quotes: number }[];
  readonly events: TraceEvent[];
  readonly world: World;
}

function runDeadNextHop(run: string[], extraHosts = ''): Errors {
  const ids: number[] = [];
  const sent: { time: number; quotes: number }[] = [];
  const events: TraceEvent[] = [];
  const world = new World(parseScenario(deadNextHop(run, extraHosts), 'dead.yaml'), {
    sink: { emit: (e) => void events.push(e) },
    tap: (direction, dev, pkt, time) => {
      if (direction === PacketDirection.Host && dev.name === 'eth1' && pkt.proto === 17) ids.push(pkt.id);
      if (direction === PacketDirection.Outgoing && pkt.proto === 1 && pkt.icmpType === 3 && pkt.icmpCode === 1) sent.push({ time: time / S, quotes: ids.indexOf(readU16(pkt.data, QUOTED_ID)) + 1 });
    },
  });
  world.run();
  return { sent, events, world };
}

/** The kernel's errors in fixtures/kernel/neigh-failure/client.txt: when c got each, and the datagram it quotes. */
function recordedErrors(): { time: number; quotes: number }[] {
  return readFileSync('fixtures/kernel/neigh-failure/client.txt', 'utf8')
    .split('\n')
    .map((l) => /^(\S+) error for (\d+)$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ time: Number(m[1]), quotes: Number(m[2]) }));
}

describe('roundFailure: when a round of requests fails, by the timer wheel', () => {
  it('3.052–3.080 s after the first request, whatever the jiffy it went in; a round that starts on the grain fails 3.072 s on', () => {
    for (let jiffy = 0; jiffy < 64; jiffy++) {
      for (const into of [0, 1, 3.999e6]) {
        const first = jiffy * 4e6 + into;
        const after = (roundFailure(first) - first) / S;
        expect(after).toBeGreaterThan(3.048);
        expect(after).toBeLessThanOrEqual(3.08);
      }
    }
    expect(roundFailure(0) / S).toBeCloseTo(3.072, 9);
  });
});

describe('a scenario next hop no host owns, against fixtures/kernel/neigh-failure', () => {
  // the recording's client, as steps: A (five datagrams, one round), B (after the failure), C and D (bursts past the queue, 1 ms apart: the least a step allows)
  const steps = [
    ...[0, 0.4, 0.8, 1.6, 2.4].map((at) => `{ at: ${at}s, on: c, do: udp send 198.51.100.9:53 from 40000 count 1 bytes 100 }`),
    '{ at: 7s, on: c, do: udp send 198.51.100.9:53 from 40000 count 1 bytes 100 }',
    '{ at: 12s, on: c, do: udp send 198.51.100.9:53 from 40000 count 200 interval 1ms bytes 1200 }',
    '{ at: 20s, on: c, do: udp send 198.51.100.9:53 from 40000 count 300 interval 1ms bytes 100 }',
  ];

  it('answers the datagrams the kernel answered, each round at once when it fails, 3.05–3.08 s after its first packet', () => {
    const { sent } = runDeadNextHop(steps);
    const kernel = recordedErrors();
    // the same datagrams: 1–5 together, 6 alone, the first six (ICMP's burst) of each burst's last 92 and 256
    expect(sent.map((e) => e.quotes)).toEqual(kernel.map((e) => e.quotes));
    const rounds = [0, 7, 12, 20];
    const byRound = rounds.map((start, i) => sent.filter((e) => e.time >= start && e.time < (rounds[i + 1] ?? Infinity)));
    for (const [i, errors] of byRound.entries()) {
      expect(new Set(errors.map((e) => e.time)).size).toBe(1);
      const after = errors[0]!.time - rounds[i]!;
      expect(after).toBeGreaterThan(3.048);
      expect(after).toBeLessThanOrEqual(3.08);
      // the kernel's, as c received them (the recording's clock starts at c's first datagram)
      const recorded = kernel.find((e) => e.quotes === errors[0]!.quotes)!.time - rounds[i]!;
      expect(Math.abs(after - recorded)).toBeLessThan(0.035);
    }
  });

  it('traces each waiting packet freed when the round fails, and those pushed out of the full queue', () => {
    const { events } = runDeadNextHop(steps);
    const drops = events.filter((e): e is Extract<TraceEvent, { kind: 'drop' }> => e.kind === 'drop').map((e) => e.reason);
    expect(drops.filter((r) => r.endsWith('failed: no answer to ARP (NEIGH_FAILED)'))).toHaveLength(5 + 1 + 92 + 256);
    expect(drops.filter((r) => r.includes('arp_queue full'))).toHaveLength(108 + 44);
    // no Out line for a packet that waited: the kernel's capture shows none
    const toDeadHop = events.filter((e) => e.kind === 'transmit' && e.dev === 'eth0');
    expect(toDeadHop).toEqual([]);
  });
});

describe("a scenario host's own connect() through a next hop no host owns", () => {
  it('fails with EHOSTUNREACH when the round fails (tcp_v4_err on the host unreachable), not by timing out', () => {
    const text = deadNextHop(['{ at: 1s, on: c, do: tcp connect 10.0.3.77:80 from :41001 }']);
    const { world } = runWorld(parseScenario(text, 'dead.yaml'));
    const events = world.appEvents.map((e) => [e.time / S, e.text]);
    expect(events).toHaveLength(1);
    expect(events[0]![1]).toMatch(/connect failed: EHOSTUNREACH \(no route to host\) \(ICMP destination unreachable, code 1\)/);
    expect(events[0]![0]).toBeCloseTo(roundFailure(1 * S) / S, 6);
  });
});

describe('a next hop that answered, then went away', () => {
  it('is still sent to (its entry stays valid in a scenario): no queue, no host unreachable', () => {
    const srv = `  srv:
    interfaces: { eth0: { addr: [192.168.206.99/24], link: wan } }
    routes: [default via 192.168.206.250]
`;
    const spec = parseScenario(deadNextHop(['{ at: 0s, on: c, do: udp send 198.51.100.9:53 from 40000 count 3 interval 1 }'], srv), 'dead.yaml');
    const events: TraceEvent[] = [];
    const world = new World(spec, { sink: { emit: (e) => void events.push(e) } });
    world.run(0.5 * S);
    world.hosts.delete('srv');
    world.run();
    const out = events.filter((e) => e.kind === 'transmit').map((e) => [e.time / S, e.dev]);
    expect(out).toEqual([
      [expect.closeTo(0, 3), 'eth0'],
      [expect.closeTo(1, 3), 'eth0'],
      [expect.closeTo(2, 3), 'eth0'],
    ]);
    expect(events.filter((e) => e.kind === 'drop')).toEqual([]);
  });
});

describe('a next hop that needs no resolution', () => {
  it('never waits: a group, the limited broadcast, the subnet broadcast (NUD_NOARP), unlike an address no host owns', () => {
    const world = new World(parseScenario(deadNextHop(['{ at: 0s, on: c, do: udp listen 53 }']), 'dead.yaml'));
    const rt = world.hosts.get('rt')!;
    const eth0 = rt.device('eth0')!;
    const ip = (s: string): number => parseIpv4(s)!;
    const skb = new Skb(1, buildUdp({ saddr: ip('192.168.206.250'), daddr: ip('198.51.100.9'), sport: 1, dport: 2, ipId: 1, ttl: 64, payload: new Uint8Array(4) }), 0, 0, null);
    const waits = (nexthop: number): boolean => world.waitsOnNeighbour(rt, eth0, skb, nexthop, null);
    expect([ip('224.0.0.1'), ip('255.255.255.255'), ip('192.168.206.255'), parseIpv6('ff02::1')!].map(waits)).toEqual([false, false, false, false]);
    expect(waits(ip('192.168.206.99'))).toBe(true);
  });
});

describe('a bridged DNAT to a container that is gone (br_netfilter, br_nf_pre_routing_finish_bridge)', () => {
  it('waits in the neighbour queue through neigh->output and is answered with host unreachable, as a routed one is', () => {
    // docker-bridge-brnf-on without ct1: the published port still DNATs to 172.17.0.2
    const seed = readFileSync('fixtures/seeds/docker-bridge-brnf-on.yaml', 'utf8');
    const withoutCt1 = seed
      .replace(/  ct1:\n(    .*\n)+?(?=  ct2:)/, '')
      .split('\n')
      .filter((l) => !l.includes('on: ct1'))
      .join('\n');
    let collector: FlowCollector | null = null;
    const spec = parseScenario(withoutCt1.replace('net.ipv4.tcp_syn_retries: 1', 'net.ipv4.tcp_syn_retries: 6'), 'fixtures/seeds/gone.yaml');
    const { world, events } = runWorld(spec, { probeFor: (h) => (collector = new FlowCollector(h, false)) });
    const ct2 = world.appEvents.find((e) => e.text.includes('40002'))!;
    expect(ct2.text).toMatch(/connect failed: EHOSTUNREACH/);
    expect(ct2.time / S).toBeCloseTo(roundFailure(1.00001 * S) / S, 4); // the error reaches ct2 a link delay after
    const failed = events.filter((e): e is Extract<TraceEvent, { kind: 'drop' }> => e.kind === 'drop' && e.reason === 'neighbour 172.17.0.2 on docker0 failed: no answer to ARP (NEIGH_FAILED)');
    // ct2's three SYNs of the round (1, 2 and 3 s), then w's of its own round
    expect(failed.map((e) => e.time / S).slice(0, 3)).toEqual(Array(3).fill(expect.closeTo(roundFailure(1.00001 * S) / S, 6)));
    // none was flooded to the bridge's ports meanwhile, as a frame with no destination address
    expect(events.some((e) => e.kind === 'bridge' && e.step.step === 'flood' && e.time < 4 * S)).toBe(false);
    // explain: ct2's and w's flows to 172.17.0.2 failed at the neighbour, nothing else
    const findings = explanation(collector!, world.queue.now).findings;
    expect(findings.map((f) => [f.flow.sport, f.cause.kind, f.cause.kind === 'neighbour' ? f.cause.how : null])).toEqual([
      [40002, 'neighbour', 'failed'],
      [40004, 'neighbour', 'failed'],
    ]);
  });
});

describe('ArpQueues: a packet that waited goes on as its caller said when the neighbour answers', () => {
  it("runs the resume given (br_netfilter's bridged DNAT) at the answer, and dev_queue_xmit for the rest", () => {
    const events: TraceEvent[] = [];
    const world = new World(parseScenario(deadNextHop(['{ at: 0s, on: c, do: udp listen 53 }']), 'dead.yaml'), { sink: { emit: (e) => void events.push(e) } });
    const rt = world.hosts.get('rt')!;
    const eth0 = rt.device('eth0')!;
    const ip = (s: string): number => parseIpv4(s)!;
    const datagram = (id: number, time: number): Skb => new Skb(id, buildUdp({ saddr: ip('192.168.206.250'), daddr: ip('198.51.100.9'), sport: 1, dport: 2, ipId: id, ttl: 64, payload: new Uint8Array(4) }), time, 0, null);
    // a round that began at 0 and is answered at 1.5 s (an answer to its second request)
    const rounds: NeighbourRounds = { waitsOn: () => 0, roundEnd: () => ({ answered: true, at: 1.5 * S }), onAnswer: null };
    const later = new EventQueue();
    const queues = new ArpQueues(rt, rounds, (at, run) => later.at(at, run));
    const order: string[] = [];
    const probe = new FlowCollector(rt, false);
    rt.probe = probe;
    const first = datagram(1, 0.1 * S);
    probe.record = 7;
    queues.add(eth0, ip('192.168.206.99'), 0, first, () => order.push(`resumed ${first.pkt.id} at ${first.time / S}, record ${probe.record}`));
    probe.record = 8;
    queues.add(eth0, ip('192.168.206.99'), 0, datagram(2, 0.2 * S), null);
    probe.record = 99; // the record being fed when the answer comes
    later.runUntil(10 * S);
    // it goes on as of the record it came in (the hooks it passes tell the probe)
    expect(order).toEqual(['resumed 1 at 1.5, record 7']);
    expect(probe.record).toBe(99);
    // the second, with no resume, went out of the queue's device at the answer; the first did not go there
    const out = events.filter((e): e is Extract<TraceEvent, { kind: 'transmit' }> => e.kind === 'transmit').map((e) => [e.pkt.ipId, e.dev, e.time / S]);
    expect(out).toEqual([[2, 'eth0', 1.5]]);
    expect(events.filter((e) => e.kind === 'drop')).toEqual([]);
  });
});

describe('a frame toward a container gone since it answered', () => {
  it("out of a bridge port whose link has no host is no flow's loss; out of the bridge toward the address is the flow's ('gone')", () => {
    const world = new World(parseScenario(readFileSync('fixtures/seeds/docker-bridge-brnf-on.yaml', 'utf8'), 'fixtures/seeds/x.yaml'));
    const rt = world.hosts.get('rt')!;
    const collector = new FlowCollector(rt, false);
    rt.probe = collector;
    world.run(6.5 * S); // w's connection to the published port: rt resolves 172.17.0.2 on docker0
    world.hosts.delete('ct1');
    const ip = (s: string): number => parseIpv4(s)!;
    const skb = (id: number): Skb => new Skb(id, buildUdp({ saddr: ip('192.168.206.1'), daddr: ip('172.17.0.2'), sport: 1, dport: 2, ipId: id, ttl: 64, payload: new Uint8Array(4) }), world.queue.now, 0, null);
    const gone = (): string[] => explanation(collector, world.queue.now).findings.flatMap((f) => (f.cause.kind === 'neighbour' ? [`${f.cause.nexthop} ${f.cause.how}`] : []));
    world.transmit(rt, rt.device('vethc1')!, skb(1), 0);
    expect(gone()).toEqual([]);
    world.transmit(rt, rt.device('docker0')!, skb(2), ip('172.17.0.2'));
    expect(gone()).toEqual(['172.17.0.2 gone']);
  });
});

describe('every packet that waits for a neighbour no host owns ends once (property)', () => {
  it('queued = freed at a failure + pushed out, each failure at roundFailure of its round, none sent', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 12_000 }), count: fc.integer({ min: 1, max: 40 }), bytes: fc.constantFrom(10, 100, 1200) }), { minLength: 1, maxLength: 6 }),
        (sends) => {
          const steps = sends.map((x, i) => `{ at: ${x.at}ms, on: c, do: udp send 198.51.100.9:53 from ${40000 + i} count ${x.count} interval 1ms bytes ${x.bytes} }`);
          const { events } = runDeadNextHop(steps);
          const queued = events.filter((e) => e.kind === 'neighbour');
          const drops = events.filter((e): e is Extract<TraceEvent, { kind: 'drop' }> => e.kind === 'drop');
          const failed = drops.filter((e) => e.reason.endsWith('(NEIGH_FAILED)'));
          const pushedOut = drops.filter((e) => e.reason.includes('(NEIGH_QUEUEFULL)'));
          expect(queued.length).toBe(sends.reduce((n, x) => n + x.count, 0));
          expect(failed.length + pushedOut.length).toBe(queued.length);
          // each skb ends once
          expect(new Set([...failed, ...pushedOut].map((e) => e.skb)).size).toBe(queued.length);
          // nothing toward the dead next hop left rt
          expect(events.some((e) => e.kind === 'transmit' && e.dev === 'eth0')).toBe(false);
          // a round fails when the kernel's timer says, counted from the packet that began it
          const firsts: number[] = [];
          for (const q of queued) if (firsts.length === 0 || q.time >= roundFailure(firsts.at(-1)!)) firsts.push(q.time);
          expect([...new Set(failed.map((e) => e.time))]).toEqual(firsts.map(roundFailure));
        },
      ),
      { numRuns: 40 },
    );
  });
});
