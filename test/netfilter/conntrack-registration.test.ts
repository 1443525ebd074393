/**
 * When a namespace runs conntrack (nf_ct_netns_get): checked against what Linux 6.18 did for each
 * ruleset of fixtures/kernel-experiments/conntrack-registration (scripts/record/conntrack-registration.sh),
 * and a stateful firewall without NAT letting its replies through.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { conntrackWanted } from '../../src/netfilter/conntrack/netns.js';
import { parseRuleset } from '../../src/netfilter/rules/parse.js';
import { NFPROTO_IPV4, tablesOfFamily } from '../../src/netfilter/rules/model.js';
import { parseScenario } from '../../src/scenario/load.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { runWorld } from '../support/run-world.js';

const CASES = 'fixtures/kernel-experiments/conntrack-registration/cases.txt';

/** The recorder's blocks: "== LABEL: entries=N" and the ruleset text below it. */
function recordedCases(): { label: string; tracked: boolean; text: string }[] {
  const blocks = readFileSync(CASES, 'utf8').split(/^== /m).slice(1);
  return blocks.map((block) => {
    const [head, ...body] = block.split('\n');
    const m = /^(.*): entries=(\d+)$/.exec(head!);
    if (!m) throw new Error(`${CASES}: bad case header '${head}'`);
    return { label: m[1]!, tracked: Number(m[2]) > 0, text: body.join('\n') };
  });
}

describe('conntrack registration, as the 6.18 recording shows it', () => {
  const cases = recordedCases();
  it('the recording holds cases that track and cases that do not', () => {
    expect(cases.filter((c) => c.tracked).length).toBeGreaterThan(3);
    expect(cases.filter((c) => !c.tracked).length).toBeGreaterThan(3);
  });
  for (const c of cases) {
    it(`${c.label}: ${c.tracked ? 'tracked' : 'not tracked'}, as the kernel decided`, () => {
      const ruleset = parseRuleset({ text: c.text, file: CASES, lineOffset: 0, colOffset: 0 });
      // the recorder's traffic is IPv4: what the IPv4 hooks' tables ask for
      expect(conntrackWanted(tablesOfFamily(ruleset, NFPROTO_IPV4), [])).toBe(c.tracked);
    });
  }
});

describe('a stateful firewall without NAT (fixtures/seeds/stateful-firewall.yaml)', () => {
  const file = 'fixtures/seeds/stateful-firewall.yaml';
  const { world, events: out } = runWorld(parseScenario(readFileSync(file, 'utf8'), file));
  const app = world.appEvents.map((e) => `${e.host}: ${e.text}`);
  const forwardedToLan = out.filter((e): e is Extract<TraceEvent, { kind: 'transmit' }> => e.kind === 'transmit' && e.dev === 'eth1');

  it('passes both echo replies and completes the TCP connection', () => {
    expect(app.filter((t) => t.startsWith('pc1: ping: reply from 192.168.206.1'))).toHaveLength(2);
    expect(app.some((t) => t.startsWith('pc1: tcp 10.0.3.1:') && t.includes('connected after 1 SYN'))).toBe(true);
  });
  it('passes the UDP answer back to the LAN', () => {
    expect(forwardedToLan.some((e) => e.pkt.proto === 17 && e.pkt.sport === 53)).toBe(true);
  });
  it("drops the WAN host's SYNs by the forward chain's policy", () => {
    const drops = out.filter((e) => e.kind === 'drop' && e.reason === 'policy of chain forward');
    expect(drops.length).toBeGreaterThan(0);
    expect(forwardedToLan.some((e) => e.pkt.proto === 6 && e.pkt.dport === 22)).toBe(false);
  });
  it('keeps the entries in the table', () => {
    expect(world.hosts.get('rt1')!.nf.table.count).toBeGreaterThan(0);
  });
});
