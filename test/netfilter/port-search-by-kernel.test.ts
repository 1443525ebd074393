/**
 * The port search of each kernel profile, with the `found` it counts: 4.15's rover
 * (nf_nat_proto_common.c: start at the per-protocol rover, no attempt limit, the last candidate
 * unchecked, the rover kept at the chosen offset), 5.4's bounded random search that asks
 * nf_nat_used_tuple at every attempt, and 6.18's, whose last attempts for a TCP SYN ask
 * nf_nat_used_tuple_harder and count nothing.
 */
import { describe, expect, it } from 'vitest';
import { Dir, invertTuple } from '../../src/netfilter/conntrack/tuple.js';
import { NatFlag } from '../../src/netfilter/rules/model.js';
import { natSetupInfo } from '../../src/netfilter/nat/setup.js';
import { ManipType } from '../../src/netfilter/nat/unique-tuple.js';
import { TcpConn } from '../../src/netfilter/conntrack/tcp.js';
import { TcpState } from '../../src/netfilter/conntrack/tcp-state.js';
import type { Conn } from '../../src/netfilter/conntrack/conn.js';
import type { NetfilterNet } from '../../src/netfilter/net.js';
import { conn, net, range, search, snat, TCP, UDP } from './nat-helpers.js';

const ICMP = 1;
const ECHO = 8 << 8;
/** MASQUERADE --to-ports 55666-55680 on 10.0.2.15, as in the seed "Linux NAT Masquerade 研究(下)". */
const toPorts = range('10.0.2.15', '10.0.2.15', [55666, 55680]);
const found = (n: NetfilterNet): number => n.stats.total().found;

describe('4.15: the per-protocol rover', () => {
  it('gives two connections to different destinations the range start, 55666, as the seed saw', () => {
    const n = net(1, '4.15');
    expect(snat(n, conn(n, '172.18.0.2', 37622, '216.58.200.46', 80), toPorts).srcU).toBe(55666);
    expect(snat(n, conn(n, '172.18.0.2', 34276, '172.217.160.100', 80), toPorts).srcU).toBe(55666);
    expect(n.portRovers.get(TCP)).toBe(0);
    expect(found(n)).toBe(0); // each first candidate was free: one lookup each, no hit
  });

  it('walks on from the rover past taken tuples and keeps the offset it stopped at', () => {
    const n = net(1, '4.15');
    snat(n, conn(n, '172.18.0.2', 40001, '8.8.8.8', 80), toPorts); // 55666
    snat(n, conn(n, '172.18.0.2', 40002, '8.8.8.8', 80), toPorts); // 55666 taken for 8.8.8.8 → 55667
    expect(n.portRovers.get(TCP)).toBe(1);
    expect(found(n)).toBe(1);
    // the next connection starts at the rover: 55667, free for another destination
    expect(snat(n, conn(n, '172.18.0.2', 40003, '1.1.1.1', 80), toPorts).srcU).toBe(55667);
  });

  it('keeps one rover per protocol: TCP moving leaves UDP at the range start', () => {
    const n = net(1, '4.15');
    snat(n, conn(n, '172.18.0.2', 40001, '8.8.8.8', 80), toPorts);
    snat(n, conn(n, '172.18.0.2', 40002, '8.8.8.8', 80), toPorts);
    expect(snat(n, conn(n, '172.18.0.2', 40003, '8.8.8.8', 53, UDP), toPorts).srcU).toBe(55666);
    expect([n.portRovers.get(TCP), n.portRovers.get(UDP)]).toEqual([1, 0]);
  });

  it('with one port looks nothing up: the SYN gets the taken tuple and no found is counted', () => {
    const n = net(1, '4.15');
    const one = range('127.0.0.1', '127.0.0.1', [40000, 40000]);
    snat(n, conn(n, '127.0.0.1', 48820, '127.0.0.1', 8080), one);
    const second = conn(n, '127.0.0.1', 42732, '127.0.0.1', 8080);
    natSetupInfo(search(n, second), one, ManipType.Src);
    expect(invertTuple(second.tuple(Dir.Reply))!.srcU).toBe(40000);
    expect(found(n)).toBe(0);
  });

  it('has no attempt limit: 300 ports all taken, it looks at 299 and returns the 300th (5.x stops at 248)', () => {
    const lookups = (kernel: '4.15' | '5.4', free: boolean): { port: number; found: number } => {
      const n = net(1, kernel);
      const wide = range('10.0.2.15', '10.0.2.15', [20000, 20299]);
      const holders = Array.from({ length: 300 }, (_, i) => {
        const ct = conn(n, '172.18.0.2', 30000 + i, '8.8.8.8', 80);
        snat(n, ct, wide);
        return ct;
      });
      if (free) n.destroy(holders[298]!, 0);
      const before = found(n);
      return { port: snat(n, conn(n, '172.18.0.2', 31000, '8.8.8.8', 80), wide).srcU, found: found(n) - before };
    };
    // ports were handed out in order, so the rover sits on 20299: the walk wraps round to 20298
    expect(lookups('4.15', false)).toEqual({ port: 20298, found: 299 });
    expect(lookups('4.15', true)).toEqual({ port: 20298, found: 299 });
    // 5.x: 128 + 64 + 32 + 16 + 8 attempts, every one a lookup that finds the tuple taken
    expect(lookups('5.4', false).found).toBe(248);
  });

  it('when every port is taken returns the range_size-th candidate unchecked', () => {
    const n = net(1, '4.15');
    const four = range('10.0.2.15', '10.0.2.15', [50000, 50003]);
    for (let i = 0; i < 4; i++) snat(n, conn(n, '10.0.3.1', 42000 + i, '192.168.206.1', 5353, UDP), four);
    const before = found(n);
    const fifth = conn(n, '10.0.3.1', 42004, '192.168.206.1', 5353, UDP);
    natSetupInfo(search(n, fifth), four, ManipType.Src);
    expect(found(n) - before).toBe(3);
    expect(invertTuple(fifth.tuple(Dir.Reply))!.srcU).toBe(50002); // rover 3 + 3 steps, mod 4
  });

  it('starts from a random offset with random-fully and leaves the rover alone', () => {
    const n = net(1, '4.15');
    snat(n, conn(n, '172.18.0.2', 40001, '8.8.8.8', 80), toPorts);
    snat(n, conn(n, '172.18.0.2', 40002, '8.8.8.8', 80), toPorts);
    const fully = range('10.0.2.15', '10.0.2.15', [55666, 55680], NatFlag.ProtoRandomFully);
    for (let i = 0; i < 5; i++) snat(n, conn(n, '172.18.0.2', 41000 + i, '9.9.9.9', 80), fully);
    expect(n.portRovers.get(TCP)).toBe(1);
  });

  it('walks ICMP ids over 0xFFFF values from its own rover (icmp_unique_tuple)', () => {
    const n = net(1, '4.15');
    const masq = range('10.0.2.15', '10.0.2.15');
    snat(n, conn(n, '172.18.0.2', 7, '8.8.8.8', ECHO, ICMP), masq); // keeps id 7
    expect(snat(n, conn(n, '172.18.0.3', 7, '8.8.8.8', ECHO, ICMP), masq).srcU).toBe(0); // id 7 taken: rover 0
    expect(n.portRovers.get(ICMP)).toBe(0);
  });
});

describe('5.4: random offset, 128 attempts, every attempt asks nf_nat_used_tuple', () => {
  it('counts found for the one port of --to-source 127.0.0.1:40000 (the seed: found=7 for 7 SYNs)', () => {
    const n = net(1, '5.4');
    const one = range('127.0.0.1', '127.0.0.1', [40000, 40000]);
    snat(n, conn(n, '127.0.0.1', 48820, '127.0.0.1', 8080), one);
    for (let syn = 1; syn <= 7; syn++) {
      const retry = conn(n, '127.0.0.1', 42732, '127.0.0.1', 8080);
      natSetupInfo(search(n, retry), one, ManipType.Src);
      n.bysource.remove(retry); // dropped at confirm: the entry dies with the packet
    }
    expect(found(n)).toBe(7);
  });

  it('draws the DNAT port from a random offset too (6.x searches from the range start)', () => {
    const dnatPorts = (kernel: '5.4' | '6.18'): number[] =>
      [1, 2, 3, 4, 5, 6].map((seed) => {
        const n = net(seed, kernel);
        const ct = conn(n, '10.10.1.2', 50120, '10.10.1.100', 80);
        natSetupInfo(search(n, ct), range('203.0.113.2', '203.0.113.2', [8000, 8009]), ManipType.Dst);
        return invertTuple(ct.tuple(Dir.Reply))!.dstU;
      });
    // the original port 80 is outside the range, so each kernel's search picks the port
    expect(new Set(dnatPorts('6.18'))).toEqual(new Set([8000]));
    expect(new Set(dnatPorts('5.4')).size).toBeGreaterThan(1);
  });
});

describe('6.18: the last attempts evict or count nothing', () => {
  it('counts no found for the single port a TCP SYN is refused (nf_nat_used_tuple_harder)', () => {
    const n = net(1, '6.18');
    const one = range('127.0.0.1', '127.0.0.1', [40000, 40000]);
    snat(n, conn(n, '127.0.0.1', 48820, '127.0.0.1', 8080), one);
    const syn: Conn = conn(n, '127.0.0.1', 42732, '127.0.0.1', 8080);
    syn.tcp = new TcpConn(n.tcpRecords);
    syn.tcp.state = TcpState.SynSent;
    natSetupInfo(search(n, syn), one, ManipType.Src);
    expect(found(n)).toBe(0);
  });
});
