/**
 * Bad IPv6 input (issue 18): an invalid IPv6 address in a scenario, a ruleset (nft, inline
 * ip6tables), a snapshot's ip-addr.json or ip6tables-save.txt is refused at file:line:col with
 * the reason; property tests (fixed seed, sized by runs) that garbage where nft, ip6tables or a
 * NAT target wants an IPv6 address gives the project's InputError or a rule, never another
 * exception, and that an nft IPv6 prefix (as register intervals) holds exactly the addresses
 * ipv6_prefix_equal says it does.
 */
import fc from 'fast-check';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { loadNode, nodeScenario } from '../../src/node/snapshot.js';
import { NFPROTO_IPV6 } from '../../src/netfilter/rules/model.js';
import { parseField, ipv6Register } from '../../src/netfilter/rules/nft-datatype.js';
import { parseRuleset } from '../../src/netfilter/rules/parse.js';
import { parseNatTarget } from '../../src/netfilter/rules/syntax.js';
import { handleOfWords, ipv6PrefixEqual, ipv6Word } from '../../src/packet/ipv6-addr.js';
import { parseScenario } from '../../src/scenario/load.js';
import { World } from '../../src/world/world.js';

const SEED = 20261202;
const tmp = mkdtempSync(join(tmpdir(), 'natsim-ipv6-input-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The InputError message building a world from the scenario text gives ('ok' when none). */
function scenarioError(text: string): string {
  try {
    new World(parseScenario(text, 's.yaml'), {});
  } catch (e) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
  return 'ok';
}

const scenario = (addr: string, extra = ''): string => `natsim: 1\nname: t\nhosts:\n  rt:\n    interfaces:\n      eth0: { addr: [${addr}] }\n${extra}`;

describe('a bad IPv6 address says where it is', () => {
  it.each([
    [scenario('fd00::zz/64'), "s.yaml:6:22: bad address 'fd00::zz/64': 'fd00::zz/64' is not an IPv6 address/prefix length"],
    [scenario('fd00::1/129'), "s.yaml:6:22: bad address 'fd00::1/129': 'fd00::1/129' is not an IPv6 address/prefix length"],
    [scenario('10.0.0.1/24', '    ip6tables: |\n      *filter\n      :FORWARD ACCEPT [0:0]\n      -A FORWARD -s fd00::g -j DROP\n      COMMIT\n'), "s.yaml:10:21: bad address 'fd00::g' (expected an IPv6 address[/LEN])"],
    [scenario('10.0.0.1/24', '    ruleset: |\n      table ip6 t {\n        chain c {\n          ip6 daddr fd00:::1 drop\n        }\n      }\n'), "s.yaml:10:21: bad ipv6_addr 'fd00:::1'"],
    [scenario('10.0.0.1/24', '    ip6tables: |\n      table ip6 t { }\n'), 's.yaml:8:7: expected ip6tables-save text (a table header such as *nat first); nft rules go in the ruleset, with their family'],
  ])('scenario %#', (text, message) => {
    expect(scenarioError(text)).toBe(message);
  });

  it('a snapshot: ip6tables-save.txt with a bad address, ip-addr.json with a bad inet6 local', () => {
    const node = join(tmp, 'ip6tables-masq');
    cpSync('fixtures/kernel/ip6tables-masq', node, { recursive: true });
    writeFileSync(join(node, 'ip6tables-save.txt'), readFileSync(join(node, 'ip6tables-save.txt'), 'utf8').replace('-A POSTROUTING -o eth0 -j MASQUERADE', '-A POSTROUTING -d fd00::1::2 -j MASQUERADE'));
    const snap = loadNode(node);
    expect(snap.rulesetChoice).toBe('using ip6tables-save.txt (nft-ruleset.txt shows the same tables)');
    expect(() => new World(nodeScenario(snap), {})).toThrow(`${node}/ip6tables-save.txt:7:19: bad address 'fd00::1::2' (expected an IPv6 address[/LEN])`);
    writeFileSync(join(node, 'ip-addr.json'), readFileSync(join(node, 'ip-addr.json'), 'utf8').replace('"fd00:206::250"', '"fd00:206::25x"'));
    // ip -j addr's JSON has no lines natsim keeps: the error names the file, as for IPv4 addresses
    expect(() => new World(nodeScenario(loadNode(node)), {})).toThrow(`${node}/ip-addr.json: bad address 'fd00:206::25x/64 nodad': 'fd00:206::25x/64' is not an IPv6 address/prefix length`);
  });
});

/** Text that is often almost an IPv6 address. */
const addressish = fc.oneof(
  fc.stringMatching(/^[0-9a-fA-F:.[\]/-]{0,44}$/),
  fc.tuple(fc.array(fc.integer({ min: 0, max: 0x1ffff }), { minLength: 1, maxLength: 9 }), fc.boolean()).map(([g, compress]) => (compress ? `${g.slice(0, 2).map((x) => x.toString(16)).join(':')}::${g.slice(2).map((x) => x.toString(16)).join(':')}` : g.map((x) => x.toString(16)).join(':'))),
  fc.string({ maxLength: 12 }),
);

/** Runs `read`; only an InputError (or nothing) may come out. */
function refusedOrRead(read: () => unknown): 'read' | 'refused' {
  try {
    read();
    return 'read';
  } catch (e) {
    if (e instanceof InputError) return 'refused';
    throw e;
  }
}

describe('garbage where an IPv6 address goes (property, fixed seed)', () => {
  it('nft ip6 saddr, ip6tables -s and --to-destination: a rule or an InputError, nothing else', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(addressish, fc.constantFrom('nft', 'ip6tables', 'nat'), (text, where) => {
        const spec = (t: string) => ({ text: t, file: 'r', lineOffset: 0, colOffset: 0 });
        const quoted = text.replace(/["\n\\]/g, '');
        const read =
          where === 'nft'
            ? () => parseRuleset(spec(`table inet t {\n chain c {\n  ip6 saddr ${quoted} drop\n }\n}\n`))
            : where === 'ip6tables'
              ? () => parseRuleset(spec(`*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -s ${quoted.replace(/\s/g, '') || '::'} -j DROP\nCOMMIT\n`), new Map(), NFPROTO_IPV6)
              : () => parseRuleset(spec(`*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp -j DNAT --to-destination ${quoted.replace(/\s/g, '') || '::'}\nCOMMIT\n`), new Map(), NFPROTO_IPV6);
        const outcome = refusedOrRead(read);
        seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
      }),
      { seed: SEED, numRuns: 600 },
    );
    // the generator reaches both outcomes
    expect(seen.get('read')).toBeGreaterThan(20);
    expect(seen.get('refused')).toBeGreaterThan(20);
  });

  it('parseNatTarget for IPv6 never throws: a range or a reason', () => {
    fc.assert(
      fc.property(addressish, (text) => {
        const r = parseNatTarget(text, 0, 'ipv6');
        expect(typeof r === 'string' || r.minAddr >= 0).toBe(true);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe('an nft IPv6 prefix is the interval of its addresses (property, fixed seed)', () => {
  const words = fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 4, maxLength: 4 }).map((w) => handleOfWords(Uint32Array.from(w)));
  it('a register lies in ADDR/LEN exactly when its first LEN bits are ADDR\'s', () => {
    fc.assert(
      fc.property(words, words, fc.integer({ min: 0, max: 128 }), fc.integer({ min: 0, max: 128 }), (prefix, other, len, keep) => {
        // half the time an address that shares `keep` bits with the prefix, to reach the edges
        const w = new Uint32Array(4);
        for (let i = 0; i < 4; i++) {
          const bits = Math.max(0, Math.min(32, keep - 32 * i));
          const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
          w[i] = ((ipv6Word(prefix, i) & mask) | (ipv6Word(other, i) & ~mask)) >>> 0;
        }
        const addr = handleOfWords(w);
        const range = parseField('ipv6_addr', `${formatHex(prefix)}/${len}`)!;
        const reg = ipv6Register(addr);
        expect(reg >= range.min && reg <= range.max).toBe(ipv6PrefixEqual(addr, prefix, len));
      }),
      { seed: SEED, numRuns: 400 },
    );
  });
});

/** The full eight-group text of an address (every group written), which parseIpv6 reads back. */
function formatHex(h: number): string {
  return ipv6Register(h).match(/.{4}/g)!.join(':');
}
