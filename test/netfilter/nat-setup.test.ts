/**
 * NAT binding against figures the kernel produced (shared/spec/kernel-experiments): address
 * choice inside a range (E4, E5: jhash2 as jhash_pick.py, checked 120/120 against 6.18), the
 * default port classes when a port is taken (E3), ports kept in a range (E6b), and the last
 * tuple returned when a range is exhausted.
 */
import { describe, expect, it } from 'vitest';
import type { Conn } from '../../src/netfilter/conntrack/conn.js';
import { Dir, invertTuple } from '../../src/netfilter/conntrack/tuple.js';
import type { NetfilterNet } from '../../src/netfilter/net.js';
import { NatFlag } from '../../src/netfilter/rules/model.js';
import { natNullBinding, natSetupInfo } from '../../src/netfilter/nat/setup.js';
import { ManipType } from '../../src/netfilter/nat/unique-tuple.js';
import { formatIpv4 } from '../../src/packet/ipv4-addr.js';
import { jhash2, rawLe32, reciprocalScale } from '../../src/netfilter/nat/jhash.js';
import { TcpConn } from '../../src/netfilter/conntrack/tcp.js';
import { TcpState } from '../../src/netfilter/conntrack/tcp-state.js';
import { conn, confirmEntry, ip, net, range, search, snat } from './nat-helpers.js';

describe('jhash2', () => {
  it('matches the reference value of jhash_pick.py', () => {
    expect(jhash2([rawLe32(ip('10.10.1.10')), 0, 0, 0], rawLe32(ip('203.0.113.2')))).toBe(0x078580ea);
  });
  it('reciprocal_scale is exact for large products', () => {
    expect(reciprocalScale(0xffffffff, 0xffffffff)).toBe(0xfffffffe);
    expect(reciprocalScale(0x80000000, 10)).toBe(5);
  });
});

describe('find_best_ips_proto (address inside a range)', () => {
  // expected values from jhash_pick.py, which matched the 6.18 kernel's choices in E4/E5
  it.each([
    ['10.10.1.10', '203.0.113.2', false, '198.51.100.10'],
    ['10.10.1.11', '203.0.113.2', false, '198.51.100.18'],
    ['10.10.1.12', '198.51.100.2', false, '198.51.100.18'],
    ['10.10.1.13', '203.0.113.2', true, '198.51.100.14'],
  ])('%s → %s (persistent %s) maps to %s', (src, dst, persistent, expected) => {
    const n = net();
    const mapped = snat(n, conn(n, src, 40000, dst, 80), range('198.51.100.10', '198.51.100.19', undefined, persistent ? NatFlag.Persistent : 0));
    expect(formatIpv4(mapped.src)).toBe(expected);
  });
});

describe('source port selection', () => {
  it('keeps the original port when it is free (the MASQUERADE of the seeds)', () => {
    const n = net();
    const mapped = snat(n, conn(n, '172.18.0.2', 33894, '8.8.8.8', 53, 17), range('10.0.2.15', '10.0.2.15'));
    expect([formatIpv4(mapped.src), mapped.srcU]).toEqual(['10.0.2.15', 33894]);
  });

  it.each([
    [5, 1, 511],
    [500, 1, 511],
    [700, 600, 1023],
    [1023, 600, 1023],
    [1024, 1024, 65535],
    [40000, 1024, 65535],
  ])('a second client on port %i gets a port in %i..%i (E3)', (port, lo, hi) => {
    const n = net();
    snat(n, conn(n, '10.10.1.2', port, '203.0.113.2', 80), range('203.0.113.1', '203.0.113.1'));
    const second = snat(n, conn(n, '10.10.1.3', port, '203.0.113.2', 80), range('203.0.113.1', '203.0.113.1'));
    expect(second.srcU).not.toBe(port);
    expect(second.srcU).toBeGreaterThanOrEqual(lo);
    expect(second.srcU).toBeLessThanOrEqual(hi);
    expect(n.stats.total().found).toBeGreaterThanOrEqual(1);
  });

  it('keeps a port inside --to-source A:40000-40100 and moves one outside it into the range (E6b)', () => {
    const n = net();
    const r = range('203.0.113.1', '203.0.113.1', [40000, 40100]);
    expect(snat(n, conn(n, '10.10.1.2', 40050, '203.0.113.2', 80), r).srcU).toBe(40050);
    expect(snat(n, conn(n, '10.10.1.2', 40100, '203.0.113.2', 80), r).srcU).toBe(40100);
    for (const port of [40101, 39999]) {
      const p = snat(n, conn(n, '10.10.1.2', port, '203.0.113.2', 80), r).srcU;
      expect(p).toBeGreaterThanOrEqual(40000);
      expect(p).toBeLessThanOrEqual(40100);
    }
  });

  it('when a range is exhausted returns the last tuple tried, which then clashes (port-range-exhaustion-udp)', () => {
    const n = net();
    const r = range('192.168.206.250', '192.168.206.250', [50000, 50003]);
    const ports = [0, 1, 2, 3].map((i) => snat(n, conn(n, '10.0.3.1', 42000 + i, '192.168.206.1', 5353, 17), r).srcU);
    expect(new Set(ports)).toEqual(new Set([50000, 50001, 50002, 50003]));
    const foundBefore = n.stats.total().found;
    const fifth = conn(n, '10.0.3.1', 42004, '192.168.206.1', 5353, 17);
    natSetupInfo(search(n, fifth), r, ManipType.Src);
    const mapped = invertTuple(fifth.tuple(Dir.Reply))!;
    expect(mapped.srcU).toBeGreaterThanOrEqual(50000);
    expect(mapped.srcU).toBeLessThanOrEqual(50003);
    // every one of the four ports was tried and found taken
    expect(n.stats.total().found - foundBefore).toBe(4);
  });

  it('reuses a source mapping for a second destination (bysource, E4b)', () => {
    const n = net();
    const r = range('198.51.100.10', '198.51.100.19', [1024, 1030]);
    const first = snat(n, conn(n, '10.10.1.10', 50000, '203.0.113.2', 80), r);
    const second = snat(n, conn(n, '10.10.1.10', 50000, '198.51.100.2', 80), r);
    expect([second.src, second.srcU]).toEqual([first.src, first.srcU]);
  });
});

describe('destination port selection', () => {
  it('searches a DNAT port range from its start, then the null binding moves the source (E6)', () => {
    // E6: one client ip:port to VIP ports 80..83, each DNATed to 203.0.113.2:8000-8002 (no flags).
    const n = net();
    const r = range('203.0.113.2', '203.0.113.2', [8000, 8002]);
    const chosen = [80, 81, 82, 83].map((vport) => {
      const ct = conn(n, '10.10.1.2', 50120, '10.10.1.100', vport, 17);
      natSetupInfo(search(n, ct), r, ManipType.Dst); // PRE_ROUTING
      natNullBinding(search(n, ct), ManipType.Src); // POST_ROUTING, no SNAT rule
      confirmEntry(n, ct);
      return invertTuple(ct.tuple(Dir.Reply))!;
    });
    expect(chosen.map((t) => t.dstU)).toEqual([8000, 8001, 8002, 8002]);
    expect(chosen.slice(0, 3).map((t) => t.srcU)).toEqual([50120, 50120, 50120]);
    expect(chosen[3]!.srcU).not.toBe(50120); // the null binding found 8002 taken and moved the port
    expect(chosen[3]!.srcU).toBeGreaterThanOrEqual(1024);
    expect(n.stats.total().found).toBe(8); // 1+2+3 in the DNAT searches, 2 in the null binding
  });
});

describe('nf_nat_used_tuple_harder (the last attempts of a TCP SYN’s port search)', () => {
  const r = range('192.168.206.250', '192.168.206.250', [40000, 40000]);

  function tcpConn(n: NetfilterNet, sport: number, state: TcpState, tdEnd: number): Conn {
    const ct = conn(n, '10.0.3.1', sport, '192.168.206.1', 8080);
    ct.tcp = new TcpConn(n.tcpRecords);
    ct.tcp.state = state;
    ct.tcp.seen(Dir.Original).tdEnd = tdEnd;
    return ct;
  }

  it('evicts a source-NATed TIME_WAIT entry when the new SYN is ahead of it, without counting found', () => {
    const n = net();
    const old = tcpConn(n, 41000, TcpState.TimeWait, 1000);
    snat(n, old, r);
    const t = snat(n, tcpConn(n, 41001, TcpState.SynSent, 5000), r);
    expect(t.srcU).toBe(40000);
    expect([...n.table.connections()].map((c) => c.tuple(Dir.Original).srcU)).toEqual([41001]);
    expect(n.stats.total().found).toBe(0);
  });

  it('keeps an ESTABLISHED holder (then the SYN clashes at confirm, as in snat-fixed-port-clash)', () => {
    const n = net();
    snat(n, tcpConn(n, 41000, TcpState.Established, 1000), r);
    const fresh = tcpConn(n, 41001, TcpState.SynSent, 5000);
    natSetupInfo(search(n, fresh), r, ManipType.Src);
    expect(invertTuple(fresh.tuple(Dir.Reply))!.srcU).toBe(40000);
    expect(n.table.count).toBe(1);
    expect(n.stats.total().found).toBe(0);
  });

  it('keeps a TIME_WAIT holder whose sequence is not behind the new SYN', () => {
    const n = net();
    snat(n, tcpConn(n, 41000, TcpState.TimeWait, 5000), r);
    natSetupInfo(search(n, tcpConn(n, 41001, TcpState.SynSent, 1000)), r, ManipType.Src);
    expect(n.table.count).toBe(1);
  });
});
