/**
 * -m string (xt_string.c): the pattern whole within [from, to) from the IP header on, ASCII case
 * folded with --icase, `|hex|` runs; fixtures/kernel/iptables-string (verify.test.ts) is the
 * kernel's run of the same options.
 */
import { describe, expect, it } from 'vitest';
import { Verdict } from '../../src/netfilter/constants.js';
import { buildUdp } from '../../src/packet/build.js';
import { ip, lintRule, runChain, xtTable } from './xt-helpers.js';

const datagram = (payload: string | Uint8Array) =>
  buildUdp({ saddr: ip('10.0.0.1'), daddr: ip('10.0.0.2'), sport: 1, dport: 9, ipId: 1, ttl: 64, payload: typeof payload === 'string' ? new TextEncoder().encode(payload) : payload });
const dropped = (options: string, payload: string | Uint8Array) => runChain(xtTable(`-A INPUT -p udp -m string ${options} -j DROP`), datagram(payload)).verdict === Verdict.Drop;

describe('-m string', () => {
  it.each([
    ['--string "secret" --algo bm', 'a secret here', true],
    ['--string "secret" --algo bm', 'Secret', false],
    ['--string "SECRET" --algo kmp --icase', 'a SeCrEt', true],
    ['! --string "secret" --algo bm', 'hello', true],
    ['--hex-string "|de ad|be" --algo bm', Uint8Array.of(1, 0xde, 0xad, 0x62, 0x65), true],
    ['--string "tail" --algo bm --to 32', 'tail', true],
    ['--string "tail" --algo bm --to 31', 'tail', false],
    ['--string "tail" --algo bm --from 29', 'tail', false],
    ['--string "a\\"b" --algo bm', 'xa"b', true],
  ] as const)('%s on %j: dropped %s', (options, payload, want) => {
    expect(dropped(options, payload)).toBe(want);
  });

  it.each([
    ['--string "x"', /needs --algo bm or kmp/],
    ['--string "x" --algo rk', /--algo takes bm or kmp/],
    ['--hex-string "|4g|" --algo bm', /bad hex bytes/],
    ['--string "x" --algo bm --from 10 --to 5', /--from 10 is past --to 5/],
  ])('refuses %s', (options, reason) => {
    expect(lintRule(`-m string ${options} -j DROP`)).toEqual([expect.stringMatching(reason)]);
  });
});
