/**
 * ip_set_test over an ipset's index (rules/ipset.ts setContains): elements grouped by their
 * addresses' prefix lengths, each group looked up by the packet's fields masked to them — and
 * whatever the set holds, a packet matches exactly when some element holds its fields, as a walk
 * over every element says.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIpsetSave, setContains, type IpSet, type SetProbe } from '../../src/netfilter/rules/ipset.js';
import { inPrefix, parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { parseIpv6 } from '../../src/packet/ipv6-addr.js';
import { IPPROTO } from '../../src/netfilter/constants.js';

const ip = (s: string): number => parseIpv4(s)!;

/** The walk: some element whose every part holds the packet's field in its direction. */
function walked(set: IpSet, dirs: readonly ('src' | 'dst')[], probe: SetProbe): boolean {
  return set.elements.some((element) =>
    element.every((part, i) => {
      const dir = dirs[i] ?? 'src';
      return 'prefix' in part ? inPrefix(probe.addr(dir), part.prefix.addr, part.prefix.len) : part.proto === probe.proto && part.port === probe.port(dir);
    }),
  );
}

const octet = fc.integer({ min: 0, max: 3 });
const addr = fc.tuple(octet, octet).map(([a, b]) => `10.0.${a}.${b}`);
const net = fc.tuple(addr, fc.constantFrom(24, 30, 31, 32)).map(([a, len]) => `${a}/${len}`);
const port = fc.integer({ min: 1, max: 4 });

/** An `ipset save` text of one set of `type` with these elements. */
function saved(type: string, elements: readonly string[]): IpSet {
  return parseIpsetSave([`create s ${type}`, ...elements.map((e) => `add s ${e}`)].join('\n'), 'sets.txt').get('s')!;
}

const probe = fc.record({ saddr: addr, daddr: addr, sport: port, dport: port, tcp: fc.boolean() }).map(
  (p): SetProbe => ({
    addr: (dir) => ip(dir === 'src' ? p.saddr : p.daddr),
    port: (dir) => (dir === 'src' ? p.sport : p.dport),
    proto: p.tcp ? IPPROTO.TCP : IPPROTO.UDP,
  }),
);
const dirs = fc.constantFrom<('src' | 'dst')[]>(['src'], ['dst'], ['src', 'dst'], ['dst', 'src'], ['src', 'dst', 'src']);

describe('an ipset tested through its index', () => {
  it('matches as a walk over its elements does, for every type and mix of elements', () => {
    const sets = fc.oneof(
      fc.array(addr, { maxLength: 12 }).map((e) => saved('hash:ip', e)),
      fc.array(fc.oneof(addr, net), { maxLength: 12 }).map((e) => saved('hash:net', e)),
      fc.array(addr, { maxLength: 12 }).map((e) => saved('hash:ip netmask 30', e)),
      fc.array(fc.tuple(addr, fc.constantFrom('tcp', 'udp'), port), { maxLength: 12 }).map((e) => saved('hash:ip,port', e.map(([a, proto, p]) => `${a},${proto}:${p}`))),
      fc.array(fc.tuple(fc.oneof(addr, net), port), { maxLength: 12 }).map((e) => saved('hash:net,port', e.map(([a, p]) => `${a},tcp:${p}`))),
      fc.array(fc.tuple(addr, port, addr), { maxLength: 12 }).map((e) => saved('hash:ip,port,ip', e.map(([a, p, b]) => `${a},udp:${p},${b}`))),
    );
    fc.assert(
      fc.property(sets, fc.array(fc.tuple(dirs, probe), { minLength: 1, maxLength: 8 }), (set, tests) => {
        for (const [d, p] of tests) expect(setContains(set, d, p)).toBe(d.length >= set.dims.length && walked(set, d, p));
      }),
      { numRuns: 400 },
    );
  });

  it('a hash:ip of 20,000 addresses holds each of them and nothing else', () => {
    const set = saved('hash:ip', Array.from({ length: 20_000 }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`));
    const at = (a: number): SetProbe => ({ addr: () => a, port: () => 0, proto: IPPROTO.UDP });
    expect(setContains(set, ['src'], at(ip('10.0.78.31')))).toBe(true);
    expect(setContains(set, ['src'], at(ip('10.0.78.32')))).toBe(false);
  });

  it('an inet6 hash:net holds the addresses under its nets, and no IPv4 address', () => {
    const set = parseIpsetSave('create s hash:net family inet6\nadd s 2001:db8:1::/48\nadd s 2001:db8:2::7', 'sets.txt').get('s')!;
    const at = (a: number): SetProbe => ({ addr: () => a, port: () => 0, proto: IPPROTO.UDP });
    const v6 = (s: string): number => parseIpv6(s)!;
    expect([v6('2001:db8:1:ffff::9'), v6('2001:db8:2::7'), v6('2001:db8:2::8'), v6('2001:db8:3::1'), ip('10.0.0.1')].map((a) => setContains(set, ['src'], at(a)))).toEqual([true, true, false, false, false]);
  });
});
