/**
 * The IPv6 FIB of a node snapshot: the routes addrconf derives from the addresses and the
 * static route of ip-route.json (fixtures/kernel/ip6-masq-source-selection), looked up
 * as the kernel's `ip -6 route get` answered (ip6-route-get.txt: device, gateway, metric), and
 * `ip -6 route` lines as scenarios give them, with the errors for bad ones.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isRoute6, parseRoute6 } from '../../src/ipv6/route.js';
import { node6 } from './node6.js';
import { formatIpv6, parseIpv6 } from '../../src/packet/ipv6-addr.js';

const DIR = 'fixtures/kernel/ip6-masq-source-selection';

const nodeFib = () => node6(DIR);

describe('IPv6 FIB of ip6-masq-source-selection', () => {
  const gets = readFileSync(`${DIR}/ip6-route-get.txt`, 'utf8').trim().split('\n');

  it.each(gets)('ip -6 route get: %s', (line) => {
    const { fib } = nodeFib();
    const route = fib.lookup(parseIpv6(line.split(' ')[0]!)!)!;
    const via = / via (\S+)/.exec(line)?.[1] ?? null;
    expect({ dev: route.dev?.name, via: route.gateway === null ? null : formatIpv6(route.gateway), metric: route.metric }).toEqual({
      dev: / dev (\S+)/.exec(line)![1],
      via,
      metric: Number(/ metric (\d+)/.exec(line)![1]),
    });
  });

  it('an address of the host is found in the local table', () => {
    const { fib } = nodeFib();
    expect(fib.lookup(parseIpv6('fd00:206::251')!)).toMatchObject({ type: 'local', prefixLen: 128 });
    expect(fib.lookup(parseIpv6('::1')!)).toMatchObject({ type: 'local' });
  });

  it('no route: null', () => {
    const { fib } = nodeFib();
    expect(fib.lookup(parseIpv6('2001:db8::1')!)).toBeNull();
  });
});

describe('ip -6 route lines', () => {
  const { devices } = nodeFib();

  it('masks the host bits, defaults the metric to 1024 and finds the device of an on-link gateway', () => {
    const r = parseRoute6('fd00:99::1/48 via fd00:206::1', devices);
    expect([formatIpv6(r.dst), r.prefixLen, r.dev?.name, r.metric]).toEqual(['fd00:99::', 48, 'eth0', 1024]);
    expect(parseRoute6('default via fe80::1 dev eth0 pref medium', devices)).toMatchObject({ prefixLen: 0, metric: 1024 });
    expect(isRoute6('default dev eth0 pref medium')).toBe(true);
    expect(isRoute6('default via 10.0.0.1')).toBe(false);
  });

  it.each([
    ['fd00::/129 dev eth0', "bad destination 'fd00::/129'"],
    ['fd00::/64 via fd00:1::1', 'gateway fd00:1::1 is not on a connected prefix (Nexthop has invalid gateway)'],
    ['fd00::/64 via ff02::1 dev eth0', 'gateway ff02::1 is a multicast address'],
    ['fd00::/64 dev eth9', "no device 'eth9'"],
    ['fd00::/64 dev eth0 metric x', "'metric' needs a number, got 'x'"],
    ['fd00::/64 dev eth0 pref urgent', "unknown pref 'urgent'"],
    ['fd00::/64', 'route needs dev or via'],
  ])('%s: %s', (line, why) => {
    expect(() => parseRoute6(line, devices)).toThrow(why);
  });
});
