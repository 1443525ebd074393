/**
 * The destination index (rules/chain-index.ts) must change nothing but speed: a chain walked
 * through it gives the verdict, the mark and the random draws of the whole walk. A chain of
 * fewer than 32 rules is walked whole; the same rules followed by rules for destinations no
 * packet here has are walked through the index, so the two runs must agree.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Hook, Verdict } from '../../src/netfilter/constants.js';
import { RuleContext } from '../../src/netfilter/rules/context.js';
import { evaluateChain } from '../../src/netfilter/rules/eval.js';
import { AddrType } from '../../src/netfilter/rules/model.js';
import { parseRuleset } from '../../src/netfilter/rules/parse.js';
import { Skb } from '../../src/netfilter/skb.js';
import { buildUdp } from '../../src/packet/build.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { Prng } from '../../src/sim/prng.js';
import { candidateRules } from '../../src/netfilter/rules/chain-index.js';

const DESTS = ['10.96.0.1', '10.96.0.2', '10.96.0.3', '8.8.8.8'];

const ruleText = fc.oneof(
  fc.record({ d: fc.constantFrom(...DESTS), a: fc.constantFrom('DROP', 'ACCEPT', 'RETURN', 'MARK --set-xmark 0x1/0x1') }).map(({ d, a }) => `-d ${d}/32 -p udp -j ${a}`),
  fc.record({ d: fc.constantFrom(...DESTS), a: fc.constantFrom('DROP', 'MARK --set-xmark 0x2/0x2') }).map(({ d, a }) => `-d ${d}/32 -m statistic --mode random --probability 0.5 -j ${a}`),
  fc.record({ d: fc.constantFrom(...DESTS), a: fc.constantFrom('ACCEPT', 'MARK --set-xmark 0x4/0x4') }).map(({ d, a }) => `-m statistic --mode random --probability 0.5 -d ${d}/32 -j ${a}`),
  fc.record({ d: fc.constantFrom(...DESTS), a: fc.constantFrom('DROP', 'MARK --set-xmark 0x8/0x8') }).map(({ d, a }) => `! -d ${d}/32 -j ${a}`),
  fc.constantFrom('-d 10.96.0.0/16 -j MARK --set-xmark 0x10/0x10', '-m statistic --mode random --probability 0.3 -j MARK --set-xmark 0x20/0x20', '-p udp --dport 53 -j MARK --set-xmark 0x40/0x40'),
);

/** nft rules, where a match runs where it is written: a numgen before `ip daddr` must be drawn. */
const nftRuleText = fc.oneof(
  fc.record({ d: fc.constantFrom(...DESTS), a: fc.constantFrom('drop', 'accept', 'return', 'meta mark set 0x1') }).map(({ d, a }) => `ip daddr ${d} ${a}`),
  fc.record({ d: fc.constantFrom(...DESTS), a: fc.constantFrom('drop', 'meta mark set 0x2') }).map(({ d, a }) => `numgen random mod 2 0 ip daddr ${d} ${a}`),
  fc.record({ d: fc.constantFrom(...DESTS), a: fc.constantFrom('accept', 'meta mark set 0x4') }).map(({ d, a }) => `ip daddr ${d} numgen random mod 2 1 ${a}`),
  fc.record({ d: fc.constantFrom(...DESTS), a: fc.constantFrom('drop', 'meta mark set 0x8') }).map(({ d, a }) => `ip daddr != ${d} ${a}`),
  // iptables-translate's statistic match, and a dynamic set whose elements carry a limit the lookup runs
  fc.record({ d: fc.constantFrom(...DESTS), a: fc.constantFrom('drop', 'meta mark set 0x80') }).map(({ d, a }) => `meta random & 2147483647 < 1073741824 ip daddr ${d} ${a}`),
  fc.record({ d: fc.constantFrom(...DESTS), a: fc.constantFrom('accept', 'meta mark set 0x100') }).map(({ d, a }) => `ip saddr @s ip daddr ${d} ${a}`),
  fc.constantFrom('ip daddr 10.96.0.0/16 meta mark set 0x10', 'numgen random mod 4 0 meta mark set 0x20', 'udp dport 53 meta mark set 0x40', 'update @s { ip saddr limit rate 1/second burst 2 packets }'),
);

function evaluate(rules: readonly string[], daddr: string, seed: number, nft = false): { verdict: Verdict; mark: number; next: number } {
  const text = nft
    ? `table ip t { set s { type ipv4_addr; flags dynamic; }\n chain FORWARD { type filter hook forward priority 0; policy accept;\n${rules.join('\n')}\n} }`
    : `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${rules.map((r) => `-A FORWARD ${r}`).join('\n')}\nCOMMIT\n`;
  const table = parseRuleset({ text, file: 'r', lineOffset: 0, colOffset: 0 }).tables[0]!;
  const chain = table.chains.get('FORWARD')!;
  const pkt = buildUdp({ saddr: parseIpv4('10.0.0.1')!, daddr: parseIpv4(daddr)!, sport: 1000, dport: 53, ipId: 1, ttl: 64, payload: new Uint8Array(4) });
  const skb = new Skb(1, pkt, 0, 0, null);
  const prng = new Prng(seed);
  const env = { addrType: () => AddrType.Unicast, prng };
  const state = { hook: Hook.Forward, in: null, out: null, trace: null, notes: null };
  const outcome = evaluateChain(table, chain, new RuleContext(skb, state, env), () => Verdict.Accept);
  return { verdict: outcome.verdict, mark: skb.mark, next: prng.u32() };
}

/** Rules that no packet here matches, enough to make the chain long enough for the index. */
const PADDING = Array.from({ length: 32 }, (_, i) => `-d 203.0.113.${i + 1}/32 -j DROP`);
const NFT_PADDING = Array.from({ length: 32 }, (_, i) => `ip daddr 203.0.113.${i + 1} drop`);

describe('chain destination index', () => {
  it('skips the rules for other destinations and keeps the others in order', () => {
    const chainOf = (first: string) =>
      parseRuleset({ text: `*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD ${first}\n${PADDING.map((r) => `-A FORWARD ${r}`).join('\n')}\n-A FORWARD -j ACCEPT\nCOMMIT\n`, file: 'r', lineOffset: 0, colOffset: 0 }).tables[0]!.chains.get('FORWARD')!;
    const anyDest = chainOf('-m statistic --mode random --probability 0.5 -j MARK --set-xmark 0x1/0x1');
    expect(candidateRules(anyDest, parseIpv4('203.0.113.5')!)).toEqual([0, 5, 33]); // any destination, its own, the catch-all
    expect(candidateRules(anyDest, parseIpv4('8.8.8.8')!)).toEqual([0, 33]);
    // ip_packet_match tests -d before any -m match, whatever the order written: indexed by it
    const statisticThenDest = chainOf('-m statistic --mode random --probability 0.5 -d 10.96.0.9/32 -j DROP');
    expect(candidateRules(statisticThenDest, parseIpv4('203.0.113.5')!)).toEqual([5, 33]);
    expect(candidateRules(statisticThenDest, parseIpv4('10.96.0.9')!)).toEqual([0, 33]);
  });

  it('gives the verdict, mark and random draws of the whole walk (property)', () => {
    fc.assert(
      fc.property(fc.array(ruleText, { minLength: 1, maxLength: 30 }), fc.constantFrom(...DESTS), fc.nat(1000), (rules, daddr, seed) => {
        expect(evaluate([...rules, ...PADDING], daddr, seed)).toEqual(evaluate(rules, daddr, seed));
      }),
      { seed: 11, numRuns: 400 },
    );
  });

  it('gives the whole walk\'s results for nft rules, whose matches run in the order written (property)', () => {
    fc.assert(
      fc.property(fc.array(nftRuleText, { minLength: 1, maxLength: 30 }), fc.constantFrom(...DESTS), fc.nat(1000), (rules, daddr, seed) => {
        expect(evaluate([...rules, ...NFT_PADDING], daddr, seed, true)).toEqual(evaluate(rules, daddr, seed, true));
      }),
      { seed: 13, numRuns: 400 },
    );
  });
});
