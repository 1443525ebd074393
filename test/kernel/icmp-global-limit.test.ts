/**
 * fixtures/kernel/icmp-global-limit (its README): three bursts of 120 datagrams with TTL 1, one
 * from each of 120 sources, so that only the global ICMP limit binds (ipv4/icmp-global.ts). The
 * kernel answered 47, 54 and 48 of them with time exceeded: a bucket of 50 credits, each answer
 * taking 0, 1 or 2 at random. natsim draws its own credits, so its count per burst is its own
 * too; what it must reproduce is their distribution, and the counter the kernel keeps.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadNode, nodeScenario } from '../../src/node/snapshot.js';
import { replayCapture } from '../../src/world/capture-replay.js';
import { Ipv4Packet } from '../../src/packet/ipv4.js';
import { IcmpGlobal } from '../../src/ipv4/icmp-global.js';
import { Sysctl } from '../../src/host/sysctl.js';
import { Prng } from '../../src/sim/prng.js';
import { World } from '../../src/world/world.js';
import { parseScenario } from '../../src/scenario/load.js';
import { PacketDirection } from '../../src/capture/record.js';
import { buildUdp, buildUdp6 } from '../../src/packet/build.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { parseIpv6 } from '../../src/packet/ipv6-addr.js';

const DIR = 'fixtures/kernel/icmp-global-limit';
const ICMP_TIME_EXCEEDED = 11;
/** The bursts start 2 s apart, the first at the capture's start. */
const burstOf = (ns: number): number => Math.floor(ns / 2e9);

/** The time exceeded errors in each burst of the capture (the kernel's) or of a replay (natsim's own). */
function perBurst(times: readonly number[]): number[] {
  const counts = [0, 0, 0];
  for (const t of times) counts[burstOf(t)]!++;
  return counts;
}

function timeExceeded(bytes: Uint8Array): boolean {
  const pkt = Ipv4Packet.decode(bytes);
  return typeof pkt !== 'string' && pkt.proto === 1 && pkt.icmpType === ICMP_TIME_EXCEEDED;
}

describe('kernel recording icmp-global-limit', () => {
  it("answers about as many of each burst as the kernel did: the kernel's counts lie within natsim's over 40 seeds", async () => {
    const spec = nodeScenario(loadNode(DIR));
    let kernel: number[] = [];
    const natsim: number[][] = [];
    for (let seed = 1; seed <= 40; seed++) {
      const r = await replayCapture(`${DIR}/capture.pcap`, spec, { keepPackets: true, seed });
      // natsim's own errors: not the kernel's it fed on as the node's own packets
      natsim.push(perBurst(r.packets!.sent.filter((s) => !s.fromCapture && timeExceeded(s.bytes)).map((s) => s.time)));
      kernel = perBurst(r.packets!.recorded.filter((s) => timeExceeded(s.bytes)).map((s) => s.time));
    }
    expect(kernel).toEqual([47, 54, 48]);
    const all = natsim.flat();
    for (const k of kernel) {
      expect(k).toBeGreaterThanOrEqual(Math.min(...all));
      expect(k).toBeLessThanOrEqual(Math.max(...all));
    }
    // a credit of one on average: about the burst, never all 120 (the peer limit never binds here)
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    expect(mean).toBeGreaterThan(45);
    expect(mean).toBeLessThan(56);
    expect(Math.max(...all)).toBeLessThan(90);
    // and random: not the same count every burst
    expect(new Set(all).size).toBeGreaterThan(5);
  });

  it("counts what the limit held back as the kernel's IcmpOutRateLimitGlobal does", async () => {
    const r = await replayCapture(`${DIR}/capture.pcap`, nodeScenario(loadNode(DIR)), { keepPackets: true });
    const made = r.packets!.sent.filter((s) => !s.fromCapture && timeExceeded(s.bytes)).length;
    // every datagram of the bursts was answered or held back, none by its peer's limit
    expect(r.host.nf.mib.get('IcmpOutRateLimitGlobal') + made).toBe(360);
    expect(r.host.nf.mib.get('IcmpOutRateLimitHost')).toBe(0);
    // the kernel's counters (nstat.txt) include the 120 datagrams to rt's closed port before the capture
    const nstat = Object.fromEntries([...readFileSync(`${DIR}/nstat.txt`, 'utf8').matchAll(/^(\S+)\s+(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
    expect(nstat.IcmpOutRateLimitGlobal! + nstat.IcmpOutMsgs!).toBe(360 + 120);
    expect(nstat.IcmpOutRateLimitHost).toBe(0);
  });
});

describe('IcmpGlobal (icmp_global_allow, icmp_global_consume)', () => {
  const sysctl = (): Sysctl => new Sysctl();
  it('starts full, refills no sooner than 20 ms after its last refill, by msgs_per_sec for the time since, up to the burst', () => {
    const g = new IcmpGlobal(sysctl(), new Prng(1));
    expect(g.allow(0)).toBe(true);
    // spend it: each consume takes 0–2 credits, so at least 25 and at most all of them go
    let sent = 0;
    while (g.allow(1e6)) {
      g.consume();
      sent++;
    }
    expect(sent).toBeGreaterThanOrEqual(25);
    // empty: nothing until 5 jiffies (20 ms) after the refill at 0
    expect(g.allow(16e6)).toBe(false);
    expect(g.allow(20e6)).toBe(true);
  });

  it('refills by msgs_per_sec for the time since the last refill (a second at most), up to the burst', () => {
    const g = new IcmpGlobal(sysctl(), new Prng(3));
    /** How many errors go at `time` before the bucket is empty. */
    const drain = (time: number): number => {
      let n = 0;
      while (g.allow(time) && n < 10_000) {
        g.consume();
        n++;
      }
      return n;
    };
    drain(0);
    // 20 ms on: 5 jiffies of 4 credits
    const after20ms = drain(20e6);
    expect(after20ms).toBeGreaterThanOrEqual(10);
    expect(after20ms).toBeLessThan(40);
    // 10 s on: a second's 1000, held to the burst of 50
    const after10s = drain(10e9);
    expect(after10s).toBeGreaterThanOrEqual(25);
    expect(after10s).toBeLessThan(100);
  });
});

describe('the global limit in both families', () => {
  /** A router forwarding both families; `sources` senders each with one datagram of hop limit 1, IPv4 then IPv6, 1 µs apart. */
  function burst(sources: number): { readonly v4: number; readonly v6: number; readonly limited: number } {
    const ids = Array.from({ length: sources }, (_, i) => i + 1);
    // the senders exist, so that the errors are sent, not held for their neighbours
    const senders = [...ids.map((i) => `10.0.3.${i}/24`), ...ids.map((i) => `fd00:3::${i.toString(16)}/64`)].join(', ');
    const world = new World(
      parseScenario(
        `natsim: 1
hosts:
  c:
    interfaces: { eth0: { addr: [${senders}], link: lan } }
  rt:
    sysctl: { net.ipv4.ip_forward: 1, net.ipv6.conf.all.forwarding: 1 }
    interfaces:
      eth1: { addr: [10.0.3.254/24, fd00:3::254/64], link: lan }
      eth0: { addr: [192.168.206.250/24, fd00:206::250/64], link: wan }
`,
        'rt.yaml',
      ),
    );
    const rt = world.hosts.get('rt')!;
    const eth1 = rt.device('eth1')!;
    let v4 = 0;
    let v6 = 0;
    rt.tap = (direction, dev, pkt) => {
      if (direction !== PacketDirection.Outgoing || dev.name !== 'eth1') return;
      if (pkt.family === 4) v4++;
      else v6++;
    };
    for (const i of ids) {
      const udp = { sport: 40000, dport: 9, ipId: i, ttl: 1, payload: new Uint8Array(4) };
      rt.receive(buildUdp({ ...udp, saddr: parseIpv4(`10.0.3.${i}`)!, daddr: parseIpv4('192.168.206.1')! }), eth1, i * 1000, null);
      rt.receive(buildUdp6({ ...udp, saddr: parseIpv6(`fd00:3::${i.toString(16)}`)!, daddr: parseIpv6('fd00:206::1')! }), eth1, i * 1000 + 500, null);
    }
    return { v4, v6, limited: rt.nf.mib.get('IcmpOutRateLimitGlobal') };
  }

  it('ICMPv6 errors spend the same credit and count in IcmpOutRateLimitGlobal (icmpv6_global_allow)', () => {
    const { v4, v6, limited } = burst(100);
    // one bucket of 50 for both: about 50 errors in all, not 50 of each
    expect(v4 + v6).toBeGreaterThan(25);
    expect(v4 + v6).toBeLessThan(90);
    expect(v4).toBeGreaterThan(0);
    expect(v6).toBeGreaterThan(0);
    expect(v4 + v6 + limited).toBe(200);
  });
});
