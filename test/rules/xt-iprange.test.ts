/**
 * -m iprange (xt_iprange.c): inclusive ends, each range inverted on its own, IPv6 by all 128
 * bits. fixtures/kernel/iptables-iprange (verify.test.ts replays it) checks it against the kernel.
 */
import { describe, expect, it } from 'vitest';
import { Verdict } from '../../src/netfilter/constants.js';
import { lintRule, runChain, udp, udp6, xt6Table, xtTable } from './xt-helpers.js';

const dropped = (rule: string, saddr: string, daddr = '192.168.1.2') => runChain(xtTable(`-A INPUT -m iprange ${rule} -j DROP`), udp(saddr, daddr)).verdict === Verdict.Drop;

describe('-m iprange', () => {
  it.each([
    ['--src-range 10.0.0.1-10.0.0.9', '10.0.0.1', true],
    ['--src-range 10.0.0.1-10.0.0.9', '10.0.0.9', true],
    ['--src-range 10.0.0.1-10.0.0.9', '10.0.0.10', false],
    ['--src-range 10.0.0.1-10.0.0.9', '9.255.255.255', false],
    ['! --src-range 10.0.0.1-10.0.0.9', '10.0.0.10', true],
    ['--src-range 10.0.0.0-10.0.0.255 ! --dst-range 192.168.1.2-192.168.1.2', '10.0.0.5', false],
    // addresses above 2^31 compare as unsigned (ntohl)
    ['--src-range 200.0.0.1-200.0.0.3', '200.0.0.2', true],
  ] as const)('%s on %s: dropped %s', (rule, saddr, want) => {
    expect(dropped(rule, saddr)).toBe(want);
  });

  it('compares IPv6 addresses by all 128 bits', () => {
    const t = xt6Table('-A INPUT -m iprange --src-range fd00:1::10-fd00:1::1:0 -j DROP');
    const verdict = (saddr: string) => runChain(t, udp6(saddr)).verdict;
    expect([verdict('fd00:1::10'), verdict('fd00:1::ffff'), verdict('fd00:1::1:0'), verdict('fd00:1::f'), verdict('fd00:2::10')]).toEqual([Verdict.Drop, Verdict.Drop, Verdict.Drop, Verdict.Accept, Verdict.Accept]);
  });

  it.each([
    ['--src-range 10.0.0.1-fd00::1', /--src-range takes FROM-TO/],
    ['', /needs --src-range or --dst-range/],
  ])('refuses -m iprange %s by line and column', (rule, reason) => {
    expect(lintRule(`-m iprange ${rule} -j DROP`)).toEqual([expect.stringMatching(reason)]);
  });
});
