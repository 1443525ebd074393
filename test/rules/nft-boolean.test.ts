/**
 * The boolean datatype (nftables datatype.c boolean_tbl): `exists` 1 and `missing` 0, what
 * `tcp option NAME` and `fib … oif|oifname` (NFTA_FIB_F_PRESENT) compare with. firewalld's
 * reverse-path rule reads; fixtures/kernel/nft-fib-present (verify.test.ts) replays both tests
 * against the kernel.
 */
import { describe, expect, it } from 'vitest';
import { parseField } from '../../src/netfilter/rules/nft-datatype.js';
import { lintRuleset } from '../../src/netfilter/rules/parse.js';

describe('nft boolean values', () => {
  it.each([
    ['exists', { min: 1, max: 1 }],
    ['missing', { min: 0, max: 0 }],
    ['1', { min: 1, max: 1 }],
    ['2', null],
    ['present', null],
  ])('%s', (text, want) => {
    expect(parseField('boolean', text)).toEqual(want);
  });

  it("reads firewalld's reverse-path filter and tcp option presence tests", () => {
    const ruleset = `table inet firewalld {
\tchain filter_PREROUTING {
\t\ttype filter hook prerouting priority filter + 10; policy accept;
\t\tmeta nfproto ipv6 fib saddr . mark . iif oif missing drop
\t\tfib daddr . oif oifname exists accept
\t\ttcp option maxseg missing drop
\t}
}
`;
    expect(lintRuleset(ruleset, 'fw.nft')).toEqual([]);
    // a presence is exists or missing (an interface name after `oif` is a device, not a presence)
    expect(lintRuleset(ruleset.replace('maxseg missing', 'maxseg maybe'), 'fw.nft').map((e) => e.message)).toEqual([expect.stringMatching(/^fw\.nft:6:\d+: .*'maybe'/)]);
  });
});
