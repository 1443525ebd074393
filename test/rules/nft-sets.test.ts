/**
 * nft sets and maps as kube-proxy's nftables mode writes them: concatenated keys compared
 * field by field, named and anonymous sets and verdict maps (a miss goes on with the next
 * rule), numgen drawing from the run's seeded PRNG, th ports; what is not modelled is refused
 * at its token; and the kube-proxy-nftables fixture carrying real traffic.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorOf, parse } from './helpers.js';
import { Hook, Verdict } from '../../src/netfilter/constants.js';
import { RuleContext } from '../../src/netfilter/rules/context.js';
import { evaluateChain } from '../../src/netfilter/rules/eval.js';
import { AddrType, type Table } from '../../src/netfilter/rules/model.js';
import { parseRuleset } from '../../src/netfilter/rules/parse.js';
import { Skb } from '../../src/netfilter/skb.js';
import { buildIcmpEcho, buildTcp, buildUdp } from '../../src/packet/build.js';
import { formatIpv4, parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { TcpFlag, type Ipv4Packet } from '../../src/packet/ipv4.js';
import { loadScenario } from '../../src/scenario/load.js';
import { Prng } from '../../src/sim/prng.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { runWorld } from '../support/run-world.js';

const ip = (s: string) => parseIpv4(s)!;
const LOCAL = ip('192.168.1.2');
const tcp = (dport: number, daddr = LOCAL) => buildTcp({ saddr: ip('10.0.0.1'), daddr, sport: 40000, dport, seq: 1, ack: 0, flags: TcpFlag.SYN, window: 100, ipId: 1, ttl: 64, payloadLength: 0 });
const udp = (dport: number) => buildUdp({ saddr: ip('10.0.0.1'), daddr: LOCAL, sport: 1000, dport, ipId: 1, ttl: 64, payload: new Uint8Array(4) });
const ping = () => buildIcmpEcho({ saddr: ip('10.0.0.1'), daddr: LOCAL, ipId: 1, ttl: 64, type: 8, echoId: 1, seq: 1, payload: new Uint8Array(0) });


/** A table `t` with `decls` (sets, maps, extra chains) and a forward chain `c` holding `rules`. */
function table(rules: string, decls = ''): Table {
  return parse(`table ip t {\n${decls}\n chain c { type filter hook forward priority 0; policy accept;\n${rules}\n }\n}`).tables[0]!;
}

/** Evaluates chain c of `t` on `pkt`; the same `prng` across calls, as one run draws from one. */
function evaluate(t: Table, pkt: Ipv4Packet, prng = new Prng(1)): { verdict: Verdict; mark: number } {
  const skb = new Skb(1, pkt, 0, 0, null);
  const env = { addrType: (a: number) => (a === LOCAL ? AddrType.Local : AddrType.Unicast), prng };
  const state = { hook: Hook.Forward, in: null, out: null, trace: null, notes: null };
  const outcome = evaluateChain(t, t.chains.get('c')!, new RuleContext(skb, state, env), () => Verdict.Accept);
  return { verdict: outcome.verdict, mark: skb.mark };
}

const verdictOf = (t: Table, pkt: Ipv4Packet) => evaluate(t, pkt).verdict;


describe('concatenated set membership (nft_lookup, field by field)', () => {
  const SVC = ' set svc { type ipv4_addr . inet_proto . inet_service; elements = { 192.168.1.2 . tcp . 80, 192.168.1.2 . udp . 53 } }';

  it('ip daddr . meta l4proto . th dport @svc matches only when every field does', () => {
    const t = table('ip daddr . meta l4proto . th dport @svc drop', SVC);
    expect(verdictOf(t, tcp(80))).toBe(Verdict.Drop);
    expect(verdictOf(t, udp(53))).toBe(Verdict.Drop);
    expect(verdictOf(t, tcp(53))).toBe(Verdict.Accept);
    expect(verdictOf(t, udp(80))).toBe(Verdict.Accept);
    expect(verdictOf(t, tcp(80, ip('192.168.1.3')))).toBe(Verdict.Accept);
  });

  it('!= inverts the lookup; a tcp field on a udp packet fails even negated', () => {
    const t = table('ip daddr . meta l4proto . th dport != @svc drop', SVC);
    expect(verdictOf(t, tcp(80))).toBe(Verdict.Accept);
    expect(verdictOf(t, tcp(81))).toBe(Verdict.Drop);
    const dep = table('ip daddr . tcp dport != { 192.168.1.2 . 80 } drop');
    expect(verdictOf(dep, tcp(81))).toBe(Verdict.Drop);
    expect(verdictOf(dep, udp(81))).toBe(Verdict.Accept);
  });

  it('anonymous concatenations with prefixes and port ranges (pipapo-style ranges per field)', () => {
    const t = table('ip daddr . tcp dport { 192.168.0.0/16 . 8000-8080, 10.0.0.1 . 22 } drop');
    expect(verdictOf(t, tcp(8042))).toBe(Verdict.Drop);
    expect(verdictOf(t, tcp(8081))).toBe(Verdict.Accept);
    expect(verdictOf(t, tcp(22))).toBe(Verdict.Accept);
  });

  it('th dport reads the transport header whatever the protocol (no l4proto dependency)', () => {
    const t = table('th dport { 53, 80 } drop');
    expect(verdictOf(t, tcp(80))).toBe(Verdict.Drop);
    expect(verdictOf(t, udp(53))).toBe(Verdict.Drop);
    expect(verdictOf(t, udp(54))).toBe(Verdict.Accept);
  });
});

describe('verdict maps', () => {
  it('named map with flags: a hit takes the element verdict, a miss goes on with the next rule', () => {
    const decls = ' map ports { type inet_proto . inet_service : verdict; flags interval; elements = { tcp . 80-90 : drop, udp . 53 comment "dns" : accept } }';
    const t = table('meta l4proto . th dport vmap @ports\n tcp dport 95 drop', decls);
    expect(verdictOf(t, tcp(85))).toBe(Verdict.Drop);
    expect(verdictOf(t, tcp(95))).toBe(Verdict.Drop);
    expect(verdictOf(t, tcp(96))).toBe(Verdict.Accept);
    expect(verdictOf(t, udp(53))).toBe(Verdict.Accept);
  });

  it('anonymous vmap with jump, goto and continue; add element reaches a map already used', () => {
    const decls = ' chain j { meta mark set 0x1 }\n chain g { meta mark set 0x2 }';
    const t = table('ip daddr vmap { 192.168.1.2 : jump j, 10.9.9.9 : goto g }\n meta mark 0x1 drop', decls);
    expect(evaluate(t, tcp(1))).toEqual({ verdict: Verdict.Drop, mark: 1 });
    expect(evaluate(t, tcp(1, ip('10.9.9.9')))).toEqual({ verdict: Verdict.Accept, mark: 2 });
    expect(evaluate(t, tcp(1, ip('10.9.9.8')))).toEqual({ verdict: Verdict.Accept, mark: 0 });
    const cont = table('th dport vmap { 80 : continue }\n tcp dport 80 drop');
    expect(verdictOf(cont, tcp(80))).toBe(Verdict.Drop);

    const text = 'add table ip t\nadd map ip t m { type ipv4_addr : verdict ; }\nadd chain ip t c { type filter hook forward priority 0 ; }\nadd rule ip t c ip daddr vmap @m\nadd element ip t m { 192.168.1.2 : drop }\n';
    const late = parse(text).tables[0]!;
    expect(verdictOf(late, tcp(1))).toBe(Verdict.Drop);
  });

  it('the kernel checks jumps found in maps: unknown chains, loops, NAT outside its hooks', () => {
    expect(errorOf('table ip t { chain c { type filter hook input priority 0; ip daddr vmap { 1.2.3.4 : jump nowhere } } }')).toBe("r:1:59: no chain 'nowhere' in table ip t");
    expect(errorOf('table ip t { chain c { type filter hook input priority 0; jump d }\n chain d { th dport vmap { 1 : goto d } } }')).toBe("r:2:12: jump to 'd' makes a loop (c → d → d)");
    expect(errorOf('table ip t { chain c { type filter hook input priority 0; th dport vmap { 1 : goto d } }\n chain d { dnat to 1.2.3.4 } }')).toBe('r:2:12: dnat only works in a nat chain (this rule is reached from a filter chain)');
  });
});

describe('numgen', () => {
  it('random mod N offset K: one get_random_u32 per evaluation, reciprocal_scale, K added', () => {
    const decls = ' chain a { meta mark set 10 }\n chain b { meta mark set 11 }\n chain x { meta mark set 12 }';
    const t = table('numgen random mod 3 offset 10 vmap { 10 : goto a, 11 : goto b, 12 : goto x }', decls);
    const prng = new Prng(42);
    const twin = new Prng(42);
    const counts = new Map<number, number>();
    for (let i = 0; i < 3000; i++) {
      const { mark } = evaluate(t, tcp(80), prng);
      expect(mark).toBe(Math.floor((twin.u32() * 3) / 2 ** 32) + 10);
      counts.set(mark, (counts.get(mark) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([10, 11, 12]);
    for (const n of counts.values()) expect(n).toBeGreaterThan(900);
  });

  it('numgen as a match, and the modulus bound: mod 2 never gives 2', () => {
    const t = table('numgen random mod 2 { 0, 1 } accept\n drop');
    const prng = new Prng(7);
    for (let i = 0; i < 200; i++) expect(evaluate(t, tcp(80), prng).verdict).toBe(Verdict.Accept);
    const never = table('numgen random mod 2 2 drop');
    for (let i = 0; i < 200; i++) expect(evaluate(never, tcp(80), prng).verdict).toBe(Verdict.Accept);
  });

  it('inc counts 0, 1, 2, 0 … (nft_ng_inc_init starts the counter at N - 1)', () => {
    const decls = ' chain a { meta mark set 1 }\n chain b { meta mark set 2 }\n chain x { meta mark set 3 }';
    const t = table('numgen inc mod 3 vmap { 0 : goto a, 1 : goto b, 2 : goto x }', decls);
    expect([0, 1, 2, 3, 4].map(() => evaluate(t, ping()).mark)).toEqual([1, 2, 3, 1, 2]);
  });
});

describe('what is not modelled is refused at its token', () => {
  it.each([
    ['table ip t {\n map m {\n  type inet_service : verdict\n  elements = { 80 : queue }\n }\n}', "r:4:21: unsupported verdict 'queue' (accept, drop, return, continue, jump CHAIN, goto CHAIN)"],
    ['table ip t {\n map m {\n  type inet_service : verdict\n  elements = { 80 timeout 10s : drop }\n }\n}', "r:4:19: 'timeout' needs a set with timeouts (m has no 'flags timeout' and no 'timeout')"],
    ['table ip t {\n set s {\n  type ipv4_addr\n  elements = { 10.0.0.1 : drop }\n }\n}', 'r:4:25: unexpected \':\' in a set element (natsim reads KEY [timeout T] [expires T] [counter] [comment "…"])'],
    ['table ip t {\n map m {\n  type ipv4_addr : counter\n }\n}', 'r:3:20: maps of counter objects are not modelled (natsim evaluates verdict maps and maps of values)'],
    ['table ip t {\n set s {\n  type arphrd\n }\n}', "r:3:8: set type 'arphrd' is not modelled (ipv4_addr, ipv6_addr, inet_proto, inet_service, mark, ifname, iface_index, ct_state, ct_status, ct_dir, nf_proto, pkt_type, tcp_flag, icmp_type, icmpv6_type, day, hour, time, ether_addr)"],
    ['table ip t {\n set s {\n  type ipv4_addr\n  flags dynamic,sometimes\n }\n}', "r:4:17: unknown set flag 'sometimes' (constant, interval, timeout, dynamic)"],
    ['table ip t {\n chain c {\n  numgen random mod 2 vmap { 0 : goto a, 1 : queue }\n }\n}', "r:3:46: unsupported verdict 'queue' (accept, drop, return, continue, jump CHAIN, goto CHAIN)"],
    ['table ip t {\n chain c {\n  numgen random mod 0 vmap { 0 : drop }\n }\n}', 'r:3:21: numgen modulus must be at least 1'],
    ['table ip t {\n set s { type ipv4_addr; }\n chain c {\n  ip daddr . th dport @s drop\n }\n}', "r:4:23: set 's' holds ipv4_addr, not ipv4_addr . inet_service"],
    ['table ip t {\n set s { type ipv4_addr; }\n chain c {\n  ip daddr vmap @s\n }\n}', "r:4:17: 's' is not a verdict map"],
    ['table ip t {\n set s { type ipv4_addr; flags constant; }\n chain c {\n  delete @s { ip saddr }\n }\n}', "r:4:10: set 's' is constant: rules cannot delete from it"],
    ['table ip t {\n chain c {\n  ip daddr . meta secmark { 1.2.3.4 . 1 } drop\n }\n}', 'r:3:19: meta secmark is not modelled (natsim reads meta nfproto|iifname|oifname|iif|oif|iiftype|oiftype|mark|random|time|day|hour|pkttype|length|protocol|cpu|skuid|skgid, l4proto)'],
  ])('%j', (text, message) => {
    expect(errorOf(text)).toBe(message);
  });
});

describe('the kube-proxy-nftables fixture', () => {
  type Tx = Extract<TraceEvent, { kind: 'transmit' }>;

  it('parses as nft list ruleset prints it: sets, verdict maps, numgen', () => {
    const t = parseRuleset({ text: readFixture(), file: 'kp', lineOffset: 0, colOffset: 0 }).tables[0]!;
    expect(t.chains.get('nat-prerouting')!.base).toEqual({ type: 'nat', hook: Hook.PreRouting, priority: -100, policy: 'accept' });
    expect(t.chains.get('filter-prerouting-pre-dnat')!.base!.priority).toBe(-110);
    const [byIp, byNodePort] = t.chains.get('services')!.rules;
    expect(byIp!.action).toMatchObject({ kind: 'vmap', key: [{ kind: 'daddr' }, { kind: 'l4proto' }, { kind: 'dport', proto: null }], map: { name: 'service-ips', verdictMap: true } });
    expect(byNodePort!.matches[0]).toMatchObject({ kind: 'lookup', set: { name: 'nodeport-ips' } });
  });

  it('NodePort: DNAT to an endpoint, masqueraded; the pod calling the ClusterIP reaches itself masqueraded', () => {
    const { world, events } = runWorld(loadScenario('fixtures/seeds/kube-proxy-nftables.yaml'), { trace: ['node'] });
    expect(world.appEvents.map((e) => e.text)).toEqual(expect.arrayContaining([expect.stringMatching(/^tcp 192\.168\.1\.10:\d+ > 192\.168\.1\.2:30080: connected/), expect.stringMatching(/^tcp 10\.244\.0\.5:\d+ > 10\.96\.0\.10:80: connected/)]));
    const toPods = events.filter((e): e is Tx => e.kind === 'transmit' && e.host === 'node' && e.pkt.dport === 8080);
    const flows = new Set(toPods.map((e) => `${formatIpv4(e.pkt.saddr)} > ${formatIpv4(e.pkt.daddr)}`));
    expect([...flows].sort()).toEqual(['10.244.0.1 > 10.244.0.5', '10.244.0.1 > 10.244.0.6']);
    // the hairpin (pod-a's call at 1 s, landing on pod-a): masqueraded to cni0's address too
    const hairpin = new Set(toPods.filter((e) => e.time >= 1e9).map((e) => `${formatIpv4(e.pkt.saddr)} > ${formatIpv4(e.pkt.daddr)}`));
    expect([...hairpin]).toEqual(['10.244.0.1 > 10.244.0.5']);
    const replies = events.filter((e): e is Tx => e.kind === 'transmit' && e.host === 'node' && e.pkt.sport !== 8080 && e.pkt.daddr === ip('192.168.1.10'));
    expect(new Set(replies.map((e) => `${formatIpv4(e.pkt.saddr)}:${e.pkt.sport}`))).toEqual(new Set(['192.168.1.2:30080']));
  });
});

function readFixture(): string {
  return readFileSync('fixtures/rulesets/kube-proxy-nftables.txt', 'utf8');
}
