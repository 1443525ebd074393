/**
 * -m quota (xt_quota.c quota_mt): a match spends the packet's length; the first packet the bytes
 * left do not cover empties them, so no later packet matches, however small; inverted, the
 * complement. fixtures/kernel/iptables-quota (verify.test.ts) is the kernel's run of both.
 */
import { describe, expect, it } from 'vitest';
import { Verdict } from '../../src/netfilter/constants.js';
import { buildUdp } from '../../src/packet/build.js';
import { ip, runChain, xtTable } from './xt-helpers.js';

/** A UDP datagram of `length` bytes in all (28 of headers). */
const datagram = (length: number) => buildUdp({ saddr: ip('10.0.0.1'), daddr: ip('10.0.0.2'), sport: 1, dport: 9, ipId: 1, ttl: 64, payload: new Uint8Array(length - 28) });

describe('-m quota', () => {
  it.each([
    ['--quota 100', [40, 60, 30, 28], [true, true, false, false]],
    ['--quota 100', [40, 70, 28, 28], [true, false, false, false]],
    ['! --quota 100', [40, 70, 28], [false, true, true]],
  ] as const)('%s, datagrams of %j bytes: matched %j', (option, lengths, want) => {
    const t = xtTable(`-A INPUT -m quota ${option} -j DROP`);
    expect(lengths.map((n) => runChain(t, datagram(n)).verdict === Verdict.Drop)).toEqual(want);
  });
});
