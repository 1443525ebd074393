/**
 * nft sets with timeouts and the rules that fill them (nft_dynset): the declarations and
 * elements as `nft list ruleset` prints them read back to the same text, nft's time syntax,
 * what nft_add_set_elem and nft_dynset_init refuse (with line and column), lookups that skip
 * expired elements, `add` vs `update`, the set's size, and kube-proxy's session affinity
 * carried through a scenario.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorOf, parse, podSyns } from './helpers.js';
import { Hook, Verdict } from '../../src/netfilter/constants.js';
import { RuleContext } from '../../src/netfilter/rules/context.js';
import { evaluateChain } from '../../src/netfilter/rules/eval.js';
import { AddrType, type Table } from '../../src/netfilter/rules/model.js';
import { SetFlag, type NftSet } from '../../src/netfilter/rules/nft-set.js';
import { formatNftTime, parseNftTime } from '../../src/netfilter/rules/nft-time.js';
import { Skb } from '../../src/netfilter/skb.js';
import { buildTcp, buildUdp } from '../../src/packet/build.js';
import { formatIpv4, parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { TcpFlag } from '../../src/packet/ipv4.js';
import { loadScenario } from '../../src/scenario/load.js';
import { Prng } from '../../src/sim/prng.js';
import { runChain, udp6 } from './xt-helpers.js';

const S = 1e9;
const ip = (s: string) => parseIpv4(s)!;


/** A table `t` with `decls` and a forward chain `c` holding `rules`. */
function table(rules: string, decls: string): Table {
  return parse(`table ip t {\n${decls}\n chain c { type filter hook forward priority 0; policy accept;\n${rules}\n }\n}`).tables[0]!;
}

const tcpFrom = (saddr: string, dport = 80) => buildTcp({ saddr: ip(saddr), daddr: ip('192.168.1.2'), sport: 40000, dport, seq: 1, ack: 0, flags: TcpFlag.SYN, window: 100, ipId: 1, ttl: 64, payloadLength: 0 });
const udpFrom = (saddr: string) => buildUdp({ saddr: ip(saddr), daddr: ip('192.168.1.2'), sport: 1000, dport: 80, ipId: 1, ttl: 64, payload: new Uint8Array(4) });

/** Evaluates chain c of `t` on a packet at virtual time `at` (seconds); the verdict and the packet's mark. */
function at(t: Table, seconds: number, pkt = tcpFrom('10.0.0.1')): { verdict: Verdict; mark: number } {
  const skb = new Skb(1, pkt, seconds * S, 0, null);
  const env = { addrType: () => AddrType.Unicast, prng: new Prng(1) };
  const state = { hook: Hook.Forward, in: null, out: null, trace: null, notes: null };
  const outcome = evaluateChain(t, t.chains.get('c')!, new RuleContext(skb, state, env), () => Verdict.Accept);
  return { verdict: outcome.verdict, mark: skb.mark };
}

function setOf(t: Table, name: string): NftSet {
  for (const chain of t.chains.values()) {
    for (const rule of chain.rules) {
      for (const m of rule.matches) if ((m.kind === 'lookup' || m.kind === 'dynset') && m.set.name === name) return m.set;
      if (rule.action?.kind === 'vmap' && rule.action.map.name === name) return rule.action.map;
    }
  }
  throw new Error(`no rule uses set ${name}`);
}

/** An element list as `nft list ruleset` prints it at virtual time `now` (comments aside). */
function printElements(set: NftSet, now: number): string {
  const parts = set.elements.map((e) => {
    const key = e.key.map((f, i) => (set.key[i] === 'ipv4_addr' ? formatIpv4(f.min as number) : set.key[i] === 'inet_proto' ? 'tcp' : String(f.min))).join(' . ');
    const timeout = e.expiry && e.expiry.timeout !== set.timeout ? ` timeout ${formatNftTime(e.expiry.timeout)}` : '';
    const expires = e.expiry ? ` expires ${formatNftTime(e.expiry.expiration - now)}` : '';
    return `${key}${timeout}${expires}`;
  });
  return `elements = { ${parts.join(', ')} }`;
}

describe("nft's time syntax (time_parse / time_print)", () => {
  it.each([
    ['3h', 3 * 3600],
    ['10800s', 10800],
    ['1d2h3m4s5ms', 86400 + 2 * 3600 + 3 * 60 + 4.005],
    ['2h59m58s520ms', 3 * 3600 - 1.48],
    ['30', 30],
    ['5ms', 0.005],
    ['1s1d', 86401],
  ])('%s is %d s', (text, seconds) => {
    expect(parseNftTime(text)).toBeCloseTo(seconds * S, 0);
  });

  it.each(['', '3x', '1h1h', 'h', '123456789s', '1.5s', '-1s'])('%j is not a time', (text) => {
    expect(parseNftTime(text)).toBeNull();
  });

  it('prints days to milliseconds, zero parts left out, as nft does', () => {
    expect(['3h', '10800s', '1d2h3m4s5ms', '2h59m58s520ms', '90s', '0s'].map((t) => formatNftTime(parseNftTime(t)!))).toEqual(['3h', '3h', '1d2h3m4s5ms', '2h59m58s520ms', '1m30s', '0s']);
  });
});

describe('sets with timeouts as nft list ruleset prints them', () => {
  const text = readFileSync('fixtures/rulesets/nft-dynamic-sets.txt', 'utf8');
  const t = parse(text).tables[0]!;

  it('reads type and typeof declarations, size, flags and the default timeout', () => {
    const aff = setOf(t, 'aff');
    expect(aff).toMatchObject({ key: ['ipv4_addr'], size: 65535, timeout: 3 * 3600 * S, flags: SetFlag.Eval | SetFlag.Timeout });
    const tf = setOf(t, 'tf');
    expect(tf).toMatchObject({ key: ['ipv4_addr', 'inet_service'], size: 100, timeout: parseNftTime('1d2h3m4s4ms'), flags: SetFlag.Eval | SetFlag.Timeout });
  });

  it('prints the elements back as they were listed: timeout only where it differs from the set’s, then what was left', () => {
    for (const [name, line] of [
      ['aff', 'elements = { 1.2.3.4 expires 2h59m59s996ms, 1.2.3.5 timeout 1m expires 29s996ms }'],
      ['tf', 'elements = { 10.0.0.1 . 80 timeout 3h expires 2h57m40s140ms, 10.0.0.2 . 81 expires 1d2h45s624ms, 10.0.0.9 . 99 timeout 1h expires 9m59s944ms }'],
    ] as const) {
      expect(printElements(setOf(t, name), 0)).toBe(line);
    }
  });

  it('reads typeof maps, interval and constant sets, and the add/update statements', () => {
    const declared = parse(text.replace('ip saddr @aff goto e', 'ip saddr @aff goto e\n\t\tip saddr vmap @m\n\t\tip saddr @ti accept\n\t\tmeta l4proto . th dport @tc accept')).tables[0]!;
    expect(setOf(declared, 'm')).toMatchObject({ verdictMap: true, key: ['ipv4_addr'], timeout: 60 * S, flags: SetFlag.Timeout });
    expect(setOf(declared, 'ti')).toMatchObject({ flags: SetFlag.Interval, elements: [{ key: [{ min: ip('10.0.0.0'), max: ip('10.255.255.255') }], expiry: null }] });
    expect(setOf(declared, 'tc')).toMatchObject({ key: ['inet_proto', 'inet_service'], flags: SetFlag.Constant });
    const rules = t.chains.get('c')!.rules;
    expect(rules.map((r) => r.matches[0]!.kind)).toEqual(['lookup', 'dynset', 'dynset', 'dynset', 'dynset']);
    expect(rules[2]!.matches[0]).toMatchObject({ op: 'add', key: [{ kind: 'daddr' }, { kind: 'dport', proto: 6 }], timeout: 10 * S, set: { name: 'tf' } });
    expect(rules[4]!.matches[0]).toMatchObject({ op: 'update', timeout: 0, set: { name: 'tf' } });
  });

  it('reads kube-proxy’s own transaction (pkg/proxy/nftables/proxier_test.go, svc5)', () => {
    const ep = 'endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80';
    const aff = 'affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80';
    const svc = 'service-HVFWP5L3-ns5/svc5/tcp/p80';
    const kp = parse(
      [
        'add table ip kube-proxy { comment "rules for kube-proxy" ; }',
        'add chain ip kube-proxy mark-for-masquerade',
        `add chain ip kube-proxy ${svc}`,
        `add chain ip kube-proxy ${ep}`,
        `add set ip kube-proxy ${aff} { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }`,
        `add rule ip kube-proxy ${svc} ip saddr @${aff} goto ${ep}`,
        `add rule ip kube-proxy ${svc} numgen random mod 1 vmap { 0 : goto ${ep} }`,
        `add rule ip kube-proxy ${ep} ip saddr 10.180.0.3 jump mark-for-masquerade`,
        `add rule ip kube-proxy ${ep} update @${aff} { ip saddr }`,
        `add rule ip kube-proxy ${ep} meta l4proto tcp dnat to 10.180.0.3:80`,
      ].join('\n'),
    ).tables[0]!;
    expect(kp.chains.get(ep)!.rules[1]!.matches[0]).toMatchObject({ kind: 'dynset', op: 'update', set: { name: aff, timeout: 10800 * S, size: 0 } });
  });
});

describe('what nft_add_set_elem and nft_dynset_init refuse, at its token', () => {
  const set = (body: string, rule = '') => `table ip t {\n set s {\n  ${body}\n }\n chain c {\n  ${rule}\n }\n}`;
  it.each([
    [set('type ipv4_addr\n  elements = { 10.0.0.1 timeout 1m }'), "r:4:25: 'timeout' needs a set with timeouts (s has no 'flags timeout' and no 'timeout')"],
    [set('type ipv4_addr; timeout 1m\n  elements = { 10.0.0.1 expires 2m }'), "r:4:25: 'expires' cannot exceed the element's timeout"],
    [set('type ipv4_addr; flags timeout\n  elements = { 10.0.0.1 expires 2m }'), "r:4:25: 'expires' needs a timeout (the element's or the set's)"],
    [set('type ipv4_addr; timeout 3x'), "r:3:27: bad time '3x' (nft writes e.g. 3h, 10800s, 1d2h3m4s5ms)"],
    [set('type ipv4_addr; flags dynamic,interval'), "r:2:6: set s: no set backend takes both 'dynamic' and 'interval' (nft_set_rhash, the one rules add to, holds single values)"],
    [set('type ipv4_addr\n  elements = { 10.0.0.1 }\n  timeout 1m'), "r:5:3: 'timeout' must come before 'elements'"],
    [set('type ipv4_addr; flags constant', 'update @s { ip saddr }'), "r:6:10: set 's' is constant: rules cannot add to it"],
    [set('type ipv4_addr; flags interval', 'add @s { ip saddr }'), "r:6:7: set 's' has flags interval: rules add only to hash sets (nft_set_rhash)"],
    [set('type ipv4_addr', 'update @s { ip saddr timeout 1s }'), "r:6:24: set 's' has no timeouts ('flags timeout' or a 'timeout')"],
    [set('type ipv4_addr; timeout 1m', 'update @s { ip saddr counter }'), "r:6:24: statements in update @s { … } need a set with 'flags dynamic' (nft_dynset_init: EINVAL)"],
    [set('type ipv4_addr; timeout 1m', 'update s { ip saddr }'), "r:6:10: expected '@SET' after 'update' (natsim reads update @SET { KEY [timeout T] [: DATA] })"],
    [set('type ipv4_addr; timeout 1m', 'update @s { tcp dport }'), "r:6:10: set 's' holds ipv4_addr, not inet_service"],
    [set('type ipv4_addr; timeout 1m', 'update @nope { ip saddr }'), "r:6:10: no set 'nope' in this table (define it before the rules that use it)"],
    ['table ip t {\n map m { type ipv4_addr : verdict; }\n chain c {\n  add @m { ip saddr }\n }\n}', "r:4:7: rules cannot add to verdict map 'm' (the kernel takes no verdict data from rules)"],
  ])('%j', (text, message) => {
    expect(errorOf(text)).toBe(message);
  });
});

describe('lookups skip expired elements (nft_rhash_cmp, __nft_set_elem_expired)', () => {
  it('an element loaded with `expires 5s` matches until 5 s, not at 5 s', () => {
    const t = table('ip saddr @s drop', ' set s { type ipv4_addr; timeout 1m; elements = { 10.0.0.1 expires 5s, 10.0.0.2 } }');
    expect(at(t, 4.999).verdict).toBe(Verdict.Drop);
    expect(at(t, 5).verdict).toBe(Verdict.Accept);
    expect(at(t, 59.9, tcpFrom('10.0.0.2')).verdict).toBe(Verdict.Drop);
    expect(at(t, 60, tcpFrom('10.0.0.2')).verdict).toBe(Verdict.Accept);
  });

  it('a verdict map’s expired element is a miss too', () => {
    const t = table('ip saddr vmap @m', ' map m { type ipv4_addr : verdict; flags timeout; elements = { 10.0.0.1 timeout 2s : drop } }');
    expect(at(t, 1).verdict).toBe(Verdict.Drop);
    expect(at(t, 2).verdict).toBe(Verdict.Accept);
  });

  it('an element of a timeout set without a timeout of its own or the set’s never expires', () => {
    const t = table('ip saddr @s drop', ' set s { type ipv4_addr; flags timeout; elements = { 10.0.0.1 } }');
    expect(at(t, 1e6).verdict).toBe(Verdict.Drop);
  });
});

describe('add @set and update @set (nft_dynset_eval)', () => {
  const AFFINITY = ' set s { type ipv4_addr; flags dynamic,timeout; timeout 10s; }';
  /** Marks 1 when the source is in @s, then records it. */
  const rules = (stmt: string) => `ip saddr @s meta mark set 1\n ${stmt}`;

  it('update: the address holds for the set’s timeout, each sighting restarting it', () => {
    const t = table(rules('update @s { ip saddr }'), AFFINITY);
    expect(at(t, 0).mark).toBe(0);
    expect(at(t, 9.9).mark).toBe(1); // restarted: now until 19.9 s
    expect(at(t, 19.8).mark).toBe(1); // restarted: until 29.8 s
    expect(at(t, 29.8).mark).toBe(0); // lapsed; a new element from here
    expect(at(t, 30).mark).toBe(1);
    expect(setOf(t, 's').elements.filter((e) => e.expiry!.expiration > 30 * S)).toHaveLength(1);
  });

  it('add: a found element keeps its expiry; after it lapses a new one is added', () => {
    const t = table(rules('add @s { ip saddr }'), AFFINITY);
    at(t, 0);
    expect(at(t, 9.9).mark).toBe(1);
    expect(at(t, 10).mark).toBe(0); // not restarted at 9.9 s
    expect(at(t, 15).mark).toBe(1);
  });

  it('the statement’s timeout overrides the set’s, for new and restarted elements', () => {
    const t = table(rules('update @s { ip saddr timeout 2s }'), AFFINITY);
    at(t, 0);
    expect(at(t, 1.9).mark).toBe(1);
    expect(at(t, 3.8).mark).toBe(1);
    expect(at(t, 5.9).mark).toBe(0);
    expect(setOf(t, 's').elements.at(-1)!.expiry!.timeout).toBe(2 * S);
  });

  it('update does not give a timeout to an element that has none', () => {
    const t = table('update @s { ip saddr }', ' set s { type ipv4_addr; flags timeout; elements = { 10.0.0.1 } }');
    at(t, 5);
    expect(setOf(t, 's').elements).toEqual([{ key: [{ min: ip('10.0.0.1'), max: ip('10.0.0.1') }], verdict: null, data: null, expiry: null }]);
  });

  it('a set without timeouts keeps what rules add for good', () => {
    const t = table(rules('add @s { ip saddr }'), ' set s { type ipv4_addr; }');
    at(t, 0);
    expect(at(t, 1e6).mark).toBe(1);
  });

  it('concatenated keys; a field that cannot be loaded ends the rule before the set is touched', () => {
    const t = table('add @s { ip saddr . tcp dport } meta mark set 7', ' set s { typeof ip saddr . tcp dport; timeout 1m; }');
    expect(at(t, 0, tcpFrom('10.0.0.1', 443)).mark).toBe(7);
    expect(at(t, 0, udpFrom('10.0.0.1')).mark).toBe(0);
    expect(setOf(t, 's').elements.map((e) => e.key.map((f) => f.min))).toEqual([[ip('10.0.0.1'), 443]]);
  });

  it('a full set ends the rule (NFT_BREAK); expired elements fill it until garbage collection takes them', () => {
    const t = table('add @s { ip saddr } meta mark set 7', ' set s { type ipv4_addr; size 2; timeout 3s; }');
    expect([at(t, 0, tcpFrom('10.0.0.1')).mark, at(t, 0, tcpFrom('10.0.0.2')).mark, at(t, 0, tcpFrom('10.0.0.3')).mark]).toEqual([7, 7, 0]);
    // expired at 3 s, collected by the gc run at 3 s (one a second from load): room again
    expect(at(t, 3.5, tcpFrom('10.0.0.3')).mark).toBe(7);
  });

  it('an element expiring between two gc runs still counts until the next one', () => {
    const t = table('add @s { ip saddr } meta mark set 7', ' set s { type ipv4_addr; size 1; timeout 1500ms; }');
    at(t, 0, tcpFrom('10.0.0.1'));
    expect(at(t, 1.7, tcpFrom('10.0.0.2')).mark).toBe(0); // expired at 1.5 s, the gc at 1 s was too early
    expect(at(t, 2, tcpFrom('10.0.0.2')).mark).toBe(7);
  });

  it('gc-interval sets how often expired elements are collected', () => {
    const t = table('add @s { ip saddr } meta mark set 7', ' set s { type ipv4_addr; size 1; timeout 1s; gc-interval 10s; }');
    at(t, 0, tcpFrom('10.0.0.1'));
    expect(at(t, 9, tcpFrom('10.0.0.2')).mark).toBe(0);
    expect(at(t, 10, tcpFrom('10.0.0.2')).mark).toBe(7);
  });
});

describe('kube-proxy session affinity in nftables mode (fixtures/seeds/kube-proxy-nftables-affinity.yaml)', () => {
  it('the second connection goes to the first one’s pod while the affinity element lives, the third to numgen’s pick after it expired', () => {
    const syns = podSyns(loadScenario('fixtures/seeds/kube-proxy-nftables-affinity.yaml'));
    expect(syns.map((e) => [e.time / S, formatIpv4(e.pkt.daddr)])).toEqual([
      [expect.closeTo(0.1, 3), '10.244.0.5'],
      [expect.closeTo(3, 3), '10.244.0.5'],
      [expect.closeTo(20, 3), '10.244.0.6'],
    ]);
  });

  it('without the affinity rules, the same seed sends the second connection elsewhere', () => {
    const spec = loadScenario('fixtures/seeds/kube-proxy-nftables-affinity.yaml');
    const ruleset = spec.hosts.find((h) => h.name === 'node')!.ruleset!;
    const text = ruleset.text.replace(/^\t\tip saddr @affinity-.*\n/gm, '');
    const pods = podSyns({ ...spec, hosts: spec.hosts.map((h) => (h.name === 'node' ? { ...h, ruleset: { ...ruleset, text } } : h)) }).map((e) => formatIpv4(e.pkt.daddr));
    expect(pods[1]).not.toBe(pods[0]);
  });
});

describe('a set of IPv6 addresses filled from the packet (ip6 saddr)', () => {
  it('names the added element as nft prints an ipv6_addr, not as its register', () => {
    const t = parse('table ip6 t {\n set seen { type ipv6_addr; flags dynamic,timeout; timeout 10s; }\n chain c { type filter hook forward priority 0; policy accept;\n update @seen { ip6 saddr }\n }\n}').tables[0]!;
    const run = runChain(t, udp6('fd00:1::abcd'), { chain: 'c', hook: Hook.Forward });
    expect(run.notes[0]).toBe('SET @seen: fd00:1::abcd added, expires in 10s (rule "update @seen { ip6 saddr }")');
  });
});
