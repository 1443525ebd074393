/**
 * Hand-written iptables rules as iptables-restore reads them (fixtures/kernel-experiments/iptables-implicit-proto,
 * recorded with iptables 1.8.9 on Linux 6.18): a protocol's options without its -m load the
 * protocol's match (`-p tcp --syn` is `-p tcp -m tcp --syn`, as iptables-save writes it back),
 * libxt_tcp knows six flag names with ALL for those six, and what iptables-restore refused
 * natsim refuses.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIptablesSave } from '../../src/netfilter/rules/iptables-parser.js';
import { lintRuleset } from '../../src/netfilter/rules/parse.js';
import { NFPROTO_IPV4, NFPROTO_IPV6, type NfProto } from '../../src/netfilter/rules/model.js';

const DIR = 'fixtures/kernel-experiments/iptables-implicit-proto';
const read = (name: string) => readFileSync(`${DIR}/${name}`, 'utf8');

/**
 * Every rule's matches and action, chain by chain (the places differ between the two texts). The
 * matches are sorted: one xt tcp match holds --dport and --tcp-flags whichever order the text
 * gave them in (iptables-save writes the ports first), and natsim's matches have no side effects.
 */
function rules(text: string, nfproto: NfProto): unknown[] {
  const ruleset = parseIptablesSave(text, 'rules', null, new Map(), nfproto);
  const sorted = (matches: readonly unknown[]) => matches.map((m) => JSON.stringify(m)).sort();
  return ruleset.tables.flatMap((t) => [...t.chains.values()].flatMap((c) => c.rules.map((r) => ({ chain: c.name, matches: sorted(r.matches), action: r.action }))));
}

describe('iptables-restore of hand-written rules', () => {
  it.each([
    ['implicit', NFPROTO_IPV4],
    ['implicit6', NFPROTO_IPV6],
  ] as const)('%s.rules reads as the iptables-save text the kernel gave back', (name, nfproto) => {
    const written = rules(read(`${name}.rules`), nfproto);
    expect(written.length).toBeGreaterThan(2);
    expect(written).toEqual(rules(read(`${name}.saved`), nfproto));
  });

  it('--tcp-flags ALL is FIN,SYN,RST,PSH,ACK,URG, not ECE or CWR', () => {
    const flags = rules(read('implicit.rules'), NFPROTO_IPV4).flatMap((r) => (r as { matches: string[] }).matches.filter((m) => m.includes('tcpflags')));
    // NONE, and FIN,PSH,URG: the null and xmas scans, under the six flags' mask
    expect(flags).toContain(JSON.stringify({ kind: 'tcpflags', negate: false, mask: 0x3f, comp: 0 }));
    expect(flags).toContain(JSON.stringify({ kind: 'tcpflags', negate: false, mask: 0x3f, comp: 0x29 }));
  });

  it.each(['refused-udp-syn', 'refused-ece', 'refused-cwr'])('%s: refused by iptables-restore, refused by natsim at the option', (name) => {
    expect(read(`${name}.saved`)).toBe('refused\n');
    const kernel = read(`${name}.saved.err`).split('\n')[0]!;
    const problems = lintRuleset(read(`${name}.rules`), `${name}.rules`);
    expect(problems.map((p) => p.message)).toHaveLength(1);
    // the option or flag iptables named is the one natsim names
    const named = /"(--[a-z-]+)"|`([A-Z]+)'/.exec(kernel)!;
    expect(problems[0]!.message).toContain(named[1] ?? named[2]);
  });
});
