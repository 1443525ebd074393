/**
 * Random rule choices taken from the capture (rules/follow-draw.ts): with what the kernel sent
 * known, -m statistic and numgen random give the outcome whose branch DNATs there, whatever the
 * PRNG would draw; without it, or when no branch leads there, natsim draws. The kernel recording
 * fixtures/kernel/kube-proxy-numgen-vmap checks the same end to end (test/verify).
 */
import { describe, expect, it } from 'vitest';
import { Hook, Verdict } from '../../src/netfilter/constants.js';
import type { WireTuple } from '../../src/netfilter/net.js';
import { RuleContext } from '../../src/netfilter/rules/context.js';
import { evaluateChain, type NatAction } from '../../src/netfilter/rules/eval.js';
import { DrawFollower } from '../../src/netfilter/rules/follow-draw.js';
import { AddrType } from '../../src/netfilter/rules/model.js';
import { parseRuleset } from '../../src/netfilter/rules/parse.js';
import { Skb } from '../../src/netfilter/skb.js';
import { buildTcp } from '../../src/packet/build.js';
import { formatIpv4, parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { TcpFlag } from '../../src/packet/ipv4.js';
import { Prng } from '../../src/sim/prng.js';
import { formatIpv6, parseIpv6 } from '../../src/packet/ipv6-addr.js';
import { udp6 } from './xt-helpers.js';

const ip = (s: string) => parseIpv4(s)!;
const syn = () => buildTcp({ saddr: ip('10.0.3.1'), daddr: ip('10.96.0.10'), sport: 44001, dport: 80, seq: 1, ack: 0, flags: TcpFlag.SYN, window: 100, ipId: 1, ttl: 64, payloadLength: 0 });

const IPTABLES = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:SVC - [0:0]
:SEP-A - [0:0]
:SEP-B - [0:0]
-A PREROUTING -d 10.96.0.10/32 -p tcp --dport 80 -j SVC
-A SVC -m statistic --mode random --probability 0.50000000000 -j SEP-A
-A SVC -j SEP-B
-A SEP-A -p tcp -j DNAT --to-destination 10.0.1.2:8080
-A SEP-B -p tcp -j DNAT --to-destination 10.0.1.3:8080
COMMIT
`;

const NFT = `table ip kp {
  chain pre { type nat hook prerouting priority dstnat; policy accept;
    ip daddr 10.96.0.10 tcp dport 80 numgen random mod 3 vmap { 0 : goto a, 1 : goto b, 2 : goto c }
  }
  chain a { meta l4proto tcp dnat to 10.0.1.2:8080 }
  chain b { meta l4proto tcp dnat to 10.0.1.3:8080 }
  chain c { meta l4proto tcp dnat to 10.0.1.4:8080 }
}
`;

/** What iptables-translate writes for the statistic match of IPTABLES (a probability of 0.5). */
const NFT_RANDOM = (bound: string) => `table ip kp {
  chain pre { type nat hook prerouting priority dstnat; policy accept;
    ip daddr 10.96.0.10 tcp dport 80 meta random & 2147483647 < ${bound} dnat to 10.0.1.2:8080
    ip daddr 10.96.0.10 tcp dport 80 dnat to 10.0.1.3:8080
  }
}
`;

/** The DNAT target each of `runs` evaluations of the prerouting chain chose, with the notes. */
function targets(text: string, recorded: WireTuple | null, runs: number): { chosen: string[]; notes: string[] } {
  const ruleset = parseRuleset({ text, file: 'r', lineOffset: 0, colOffset: 0 });
  const table = ruleset.tables[0]!;
  const chain = [...table.chains.values()].find((c) => c.base?.hook === Hook.PreRouting)!;
  const env = { addrType: () => AddrType.Unicast, prng: new Prng(7), follow: new DrawFollower(ruleset, () => recorded) };
  const chosen: string[] = [];
  const notes: string[] = [];
  for (let i = 0; i < runs; i++) {
    const state = { hook: Hook.PreRouting, in: null, out: null, trace: null, notes };
    evaluateChain(table, chain, new RuleContext(new Skb(1, syn(), 0, 0, null), state, env), (a: NatAction) => {
      if (a.kind === 'dnat') chosen.push(`${formatIpv4(a.range.minAddr)}:${a.range.minProto}`);
      return Verdict.Accept;
    });
  }
  return { chosen, notes };
}

const sentTo = (daddr: string): WireTuple => ({ saddr: ip('10.0.3.1'), sport: 44001, daddr: ip(daddr), dport: 8080, time: 0 });

describe('random rule choices follow the capture', () => {
  for (const [name, text, endpoints] of [
    ['-m statistic --mode random', IPTABLES, ['10.0.1.2', '10.0.1.3']],
    ['numgen random mod 3 vmap', NFT, ['10.0.1.2', '10.0.1.3', '10.0.1.4']],
    ['meta random & 2147483647 < 1073741824', NFT_RANDOM('1073741824'), ['10.0.1.2', '10.0.1.3']],
  ] as const) {
    it(`${name}: without a recording, the draws reach every endpoint`, () => {
      expect(new Set(targets(text, null, 60).chosen)).toEqual(new Set(endpoints.map((e) => `${e}:8080`)));
    });
    for (const endpoint of endpoints) {
      it(`${name}: the kernel sent it to ${endpoint}, so every draw goes there, and the trace says so`, () => {
        const { chosen, notes } = targets(text, sentTo(endpoint), 20);
        expect(new Set(chosen)).toEqual(new Set([`${endpoint}:8080`]));
        expect(notes.some((n) => n.includes('as in the capture'))).toBe(true);
      });
    }
    it(`${name}: a recording no branch leads to leaves the draws to natsim`, () => {
      const { chosen, notes } = targets(text, sentTo('10.9.9.9'), 60);
      expect(new Set(chosen).size).toBeGreaterThan(1);
      expect(notes).toEqual([]);
    });
  }
});

describe('a meta random comparison the draw does not decide', () => {
  it('one that always holds (every 31-bit value is below 2^31) is not bent to the capture', () => {
    const { chosen, notes } = targets(NFT_RANDOM('2147483648'), sentTo('10.0.1.3'), 10);
    expect(new Set(chosen)).toEqual(new Set(['10.0.1.2:8080']));
    expect(notes).toEqual([]);
  });
});

describe('an IPv6 DNAT range', () => {
  const NFT6 = `table ip6 kp {
  chain pre { type nat hook prerouting priority dstnat; policy accept;
    ip6 daddr fd00:96::10 udp dport 80 numgen random mod 2 vmap { 0 : goto a, 1 : goto b }
  }
  chain a { meta l4proto udp dnat to fd00:1::2-fd00:1::9 }
  chain b { meta l4proto udp dnat to fd00:2::2-fd00:2::9 }
}
`;
  it('holds the recorded address by its bits (an address met after the range has a larger handle)', () => {
    const ruleset = parseRuleset({ text: NFT6, file: 'r', lineOffset: 0, colOffset: 0 });
    const table = ruleset.tables[0]!;
    const v6 = (s: string) => parseIpv6(s)!;
    const recorded: WireTuple = { saddr: v6('fd00:3::1'), sport: 1000, daddr: v6('fd00:1::5'), dport: 80, time: 0 };
    const env = { addrType: () => AddrType.Unicast, prng: new Prng(7), follow: new DrawFollower(ruleset, () => recorded) };
    const chosen = new Set<string>();
    const notes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const state = { hook: Hook.PreRouting, in: null, out: null, trace: null, notes };
      evaluateChain(table, table.chains.get('pre')!, new RuleContext(new Skb(1, udp6('fd00:3::1', 'fd00:96::10', { dport: 80 }), 0, 0, null), state, env), (a: NatAction) => {
        chosen.add(formatIpv6(a.range.minAddr));
        return Verdict.Accept;
      });
    }
    expect(chosen).toEqual(new Set(['fd00:1::2']));
    expect(notes[0]).toMatch(/^numgen random mod 2: 0 as in the capture .* \[fd00:3::1\]:1000 -> \[fd00:1::5\]:80, where the kernel sent it\)$/);
  });
});
