/**
 * -m recent (xt_recent): its options as iptables-save prints them, what recent_mt_check
 * refuses (with line and column), recent_mt's commands on packets at given times, the table
 * shared by name, its 100-address limit, --reap and --rttl, and kube-proxy's session affinity
 * in iptables mode carried through a scenario.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorOf, parse, podSyns } from './helpers.js';
import { NetDevice } from '../../src/host/device.js';
import { Hook, Verdict } from '../../src/netfilter/constants.js';
import { RuleContext } from '../../src/netfilter/rules/context.js';
import { evaluateChain } from '../../src/netfilter/rules/eval.js';
import { AddrType, type Match, type Table } from '../../src/netfilter/rules/model.js';
import { IP_LIST_TOT } from '../../src/netfilter/rules/xt-recent.js';
import { Skb } from '../../src/netfilter/skb.js';
import { buildUdp } from '../../src/packet/build.js';
import { formatIpv4, parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { loadScenario } from '../../src/scenario/load.js';
import { Prng } from '../../src/sim/prng.js';
import { parseIpv6 } from '../../src/packet/ipv6-addr.js';
import { runChain, udp6, xt6Table } from './xt-helpers.js';

const S = 1e9;
const ip = (s: string) => parseIpv4(s)!;
const save = (rules: string) => `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${rules}\nCOMMIT\n`;
const filter = (rules: string): Table => parse(save(rules)).tables[0]!;


interface Packet {
  readonly saddr?: string;
  readonly daddr?: string;
  readonly ttl?: number;
  /** Forwarded (in on eth1, out on eth0) rather than seen at PRE_ROUTING. */
  readonly forwarded?: boolean;
}

const ETH0 = new NetDevice(2, 'eth0');
const ETH1 = new NetDevice(3, 'eth1');

/** Runs FORWARD of `t` on a UDP packet at `seconds`; true when it was dropped. */
function dropped(t: Table, seconds: number, p: Packet = {}): boolean {
  const pkt = buildUdp({ saddr: ip(p.saddr ?? '10.0.0.1'), daddr: ip(p.daddr ?? '192.168.1.2'), sport: 1000, dport: 53, ipId: 1, ttl: p.ttl ?? 64, payload: new Uint8Array(4) });
  const skb = new Skb(1, pkt, seconds * S, 0, p.forwarded ? ETH1 : null);
  const env = { addrType: () => AddrType.Unicast, prng: new Prng(1) };
  const state = { hook: Hook.Forward, in: p.forwarded ? ETH1 : null, out: p.forwarded ? ETH0 : null, trace: null, notes: null };
  const chain = t.chains.get('FORWARD')!;
  return evaluateChain(t, chain, new RuleContext(skb, state, env), () => Verdict.Accept).verdict === Verdict.Drop;
}

const recentOf = (m: readonly Match[]) => m.find((x): x is Extract<Match, { kind: 'recent' }> => x.kind === 'recent')!;

describe('-m recent as iptables-save prints it (libxt_recent recent_save)', () => {
  const nat = parse(readFileSync('fixtures/rulesets/kube-proxy-iptables-affinity.txt', 'utf8')).tables.find((t) => t.name === 'nat')!;

  it('reads the rcheck of the service chain and the set of the endpoint chain, one table per name', () => {
    const [, check] = nat.chains.get('KUBE-SVC-WEB')!.rules;
    const rcheck = recentOf(check!.matches);
    expect(rcheck).toMatchObject({ negate: false, side: 'src', command: { op: 'rcheck', check: { seconds: 10, hitCount: 0, reap: true, rttl: false } } });
    expect(rcheck.table).toMatchObject({ name: 'KUBE-SEP-AAAA', mask: 0xffffffff, nstampsMaxMask: 31 });
    expect(check!.action).toEqual({ kind: 'jump', chain: 'KUBE-SEP-AAAA' });
    const set = recentOf(nat.chains.get('KUBE-SEP-AAAA')!.rules[1]!.matches);
    expect(set.command).toEqual({ op: 'set' });
    expect(set.table).toBe(rcheck.table);
  });

  it('keeps the match where it stands among the others: after -p and the comment, before the tcp match', () => {
    const dnat = nat.chains.get('KUBE-SEP-AAAA')!.rules[1]!;
    expect(dnat.matches.map((m) => m.kind)).toEqual(['l4proto', 'recent']);
  });

  it('reads the options in kube-proxy’s own order too (pkg/proxy/iptables/proxier.go)', () => {
    const t = filter('-A FORWARD -m comment --comment ns1/svc1:p80 -m recent --name KUBE-SEP-SXIVWICOYRO3J4NJ --rcheck --seconds 10800 --reap -j DROP');
    expect(recentOf(t.chains.get('FORWARD')!.rules[0]!.matches)).toMatchObject({ table: { name: 'KUBE-SEP-SXIVWICOYRO3J4NJ' }, command: { op: 'rcheck', check: { seconds: 10800, reap: true } } });
  });

  it('reads `!`, --update, --hitcount, --rttl, --rdest and a --mask; the name defaults to DEFAULT', () => {
    const t = filter(['-A FORWARD -m recent ! --update --seconds 5 --hitcount 3 --rttl --name foo --mask 255.255.0.0 --rdest -j RETURN', '-A FORWARD -m recent --remove'].join('\n'));
    const [update, remove] = t.chains.get('FORWARD')!.rules;
    expect(recentOf(update!.matches)).toMatchObject({ negate: true, side: 'dst', table: { name: 'foo', mask: ip('255.255.0.0'), nstampsMaxMask: 3 }, command: { op: 'update', check: { seconds: 5, hitCount: 3, rttl: true, reap: false } } });
    expect(recentOf(remove!.matches)).toMatchObject({ table: { name: 'DEFAULT' }, command: { op: 'remove' } });
  });
});

describe('what recent_mt_check refuses, at its token', () => {
  it.each([
    ['-A FORWARD -m recent -j DROP', 5, 15, '-m recent needs one of --set, --rcheck, --update or --remove'],
    ['-A FORWARD -m recent --set --rcheck -j DROP', 5, 28, 'only one of --set, --rcheck, --update or --remove may be given'],
    ['-A FORWARD -m recent --set --seconds 5 -j DROP', 5, 15, '--seconds, --hitcount, --reap and --rttl go with --rcheck or --update, not --set'],
    ['-A FORWARD -m recent --remove --rttl -j DROP', 5, 15, '--seconds, --hitcount, --reap and --rttl go with --rcheck or --update, not --remove'],
    ['-A FORWARD -m recent --rcheck --reap -j DROP', 5, 15, '--reap needs --seconds'],
    ['-A FORWARD -m recent --rcheck --hitcount 65536 -j DROP', 5, 31, "--hitcount needs a whole number up to 65535, got '65536'"],
    ['-A FORWARD -m recent --rcheck --seconds 1.5 -j DROP', 5, 31, "--seconds needs a whole number up to 4294967295, got '1.5'"],
    ['-A FORWARD -m recent --set --mask 255.255.0 -j DROP', 5, 28, "bad --mask '255.255.0' (expected A.B.C.D)"],
    ['-A FORWARD -m recent --set ! --name x -j DROP', 5, 30, "'!' cannot negate --name (it goes before --set, --rcheck, --update or --remove)"],
    ['-A FORWARD -m recent --set --name a/b -j DROP', 5, 28, "bad --name 'a/b' (1 to 199 characters, no '/', not '.' or '..')"],
  ])('%s', (rule, line, col, reason) => {
    expect(errorOf(save(rule))).toBe(`r:${line}:${col}: ${reason}`);
  });
});

describe('recent_mt', () => {
  const SET = '-A FORWARD -m recent --set --name t -j RETURN';
  /** Records the source of packets to 192.168.1.9 only. */
  const SET_TO_9 = '-A FORWARD -d 192.168.1.9 -m recent --set --name t -j RETURN';

  it('--set records the source; --rcheck --seconds matches while the sighting is that recent', () => {
    const t = filter(['-A FORWARD -m recent --rcheck --seconds 10 --name t -j DROP', SET].join('\n'));
    expect(dropped(t, 0)).toBe(false); // not seen yet, recorded now
    expect(dropped(t, 10)).toBe(true); // seen exactly 10 s ago still counts
    expect(dropped(t, 10.001, { saddr: '10.0.0.2' })).toBe(false);
    const late = filter(['-A FORWARD -m recent --rcheck --seconds 10 --name t -j DROP', SET].join('\n'));
    dropped(late, 0);
    expect(dropped(late, 10.001)).toBe(false); // and records it again
    expect(dropped(late, 11)).toBe(true);
  });

  it('without --seconds any sighting counts; `!` inverts, an unknown address included', () => {
    const t = filter(['-A FORWARD -m recent ! --rcheck --name t -j DROP', SET].join('\n'));
    expect(dropped(t, 0)).toBe(true);
    const seen = filter([SET_TO_9, '-A FORWARD -m recent --rcheck --name t -j DROP'].join('\n'));
    dropped(seen, 0, { daddr: '192.168.1.9' });
    expect(dropped(seen, 1e6)).toBe(true);
  });

  it('--update records a sighting only when it matched, so a regular visitor stays', () => {
    const t = filter(['-A FORWARD -m recent --update --seconds 10 --name t -j DROP', SET].join('\n'));
    dropped(t, 0);
    expect([dropped(t, 9), dropped(t, 18), dropped(t, 27), dropped(t, 38)]).toEqual([true, true, true, false]);
  });

  it('`! --update` records the sighting when the address was not seen recently (ret, not the hit, decides)', () => {
    const t = filter([SET_TO_9, '-A FORWARD -m recent ! --update --seconds 5 --name t -j RETURN', '-A FORWARD -m recent --rcheck --seconds 5 --name t -j DROP'].join('\n'));
    dropped(t, 0, { daddr: '192.168.1.9' });
    expect(dropped(t, 10)).toBe(false); // stale: the inverted update matches, and records 10 s
    expect(dropped(t, 12)).toBe(true); // so the rcheck finds a sighting 2 s old
  });

  it('--remove forgets the address', () => {
    const t = filter([SET_TO_9, '-A FORWARD -d 192.168.1.8 -m recent --remove --name t -j RETURN', '-A FORWARD -m recent --rcheck --name t -j DROP'].join('\n'));
    dropped(t, 0, { daddr: '192.168.1.9' });
    expect(dropped(t, 1)).toBe(true);
    dropped(t, 2, { daddr: '192.168.1.8' });
    expect(dropped(t, 3)).toBe(false);
  });

  it('--hitcount N wants N sightings within --seconds', () => {
    const t = filter(['-A FORWARD -m recent --rcheck --seconds 10 --hitcount 3 --name t -j DROP', SET].join('\n'));
    expect([0, 1, 2, 3].map((s) => dropped(t, s))).toEqual([false, false, false, true]);
    expect(dropped(t, 11.5)).toBe(false); // seen at 0, 1 and 2 s (3 s was dropped before --set): 1 recent
  });

  it('--rdest and --mask: the destination, masked with the mask of the rule that created the table', () => {
    const t = filter(['-A FORWARD -d 192.168.7.1 -m recent --set --name d --mask 255.255.255.0 --rdest -j RETURN', '-A FORWARD -m recent --rcheck --name d --mask 255.255.255.255 --rdest -j DROP'].join('\n'));
    dropped(t, 0, { daddr: '192.168.7.1' });
    expect(dropped(t, 1, { daddr: '192.168.7.200' })).toBe(true);
    expect(dropped(t, 1, { daddr: '192.168.8.1' })).toBe(false);
  });

  it('rules of one ruleset naming the same table share it, across tables of iptables-save', () => {
    const text = save('-A FORWARD -m recent --rcheck --name shared -j DROP').replace('*filter', '*mangle\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m recent --set --name shared -j RETURN\nCOMMIT\n*filter');
    const [mangle, filt] = parse(text).tables;
    expect(recentOf(mangle!.chains.get('FORWARD')!.rules[0]!.matches).table).toBe(recentOf(filt!.chains.get('FORWARD')!.rules[0]!.matches).table);
    dropped(mangle!, 0);
    expect(dropped(filt!, 1)).toBe(true);
  });

  it(`remembers at most ${IP_LIST_TOT} addresses (ip_list_tot), forgetting the least recently seen`, () => {
    const t = filter(['-A FORWARD -m recent --rcheck --name t -j DROP', SET].join('\n'));
    for (let i = 0; i <= IP_LIST_TOT; i++) dropped(t, i / 1000, { saddr: `10.1.${i >> 8}.${i & 255}` });
    expect(dropped(t, 1, { saddr: '10.1.0.0' })).toBe(false);
    expect(dropped(t, 1, { saddr: '10.1.0.2' })).toBe(true);
  });

  it('--reap, checking a known address, forgets the least recently seen one if older than --seconds — only that one', () => {
    const t = filter([SET_TO_9, '-A FORWARD -m recent --rcheck --seconds 5 --reap --name t -j DROP', '-A FORWARD -m recent --rcheck --name t -j DROP'].join('\n'));
    dropped(t, 0, { saddr: '10.0.0.1', daddr: '192.168.1.9' });
    dropped(t, 1, { saddr: '10.0.0.2', daddr: '192.168.1.9' });
    expect(dropped(t, 3, { saddr: '10.0.0.2' })).toBe(true); // 10.0.0.1, 3 s old, stays
    expect(recentTable(t).has(ip('10.0.0.1'))).toBe(true);
    expect(dropped(t, 10, { saddr: '10.0.0.2' })).toBe(true); // too old for the reaping rule, known to the next
    expect(recentTable(t).has(ip('10.0.0.1'))).toBe(false);
    expect(recentTable(t).has(ip('10.0.0.2'))).toBe(true);
  });

  it('--rttl: only the TTL it was recorded with; forwarded packets are seen with the TTL before forwarding', () => {
    const t = filter([SET_TO_9, '-A FORWARD -m recent --rcheck --rttl --name t -j DROP'].join('\n'));
    dropped(t, 0, { daddr: '192.168.1.9', ttl: 64 });
    expect(dropped(t, 1, { ttl: 63 })).toBe(false);
    expect(dropped(t, 1, { ttl: 64 })).toBe(true);
    expect(dropped(t, 1, { ttl: 63, forwarded: true })).toBe(true);
  });
});

function recentTable(t: Table): ReadonlyMap<number, unknown> {
  return recentOf(t.chains.get('FORWARD')!.rules[0]!.matches).table.entries;
}

describe('kube-proxy session affinity in iptables mode (fixtures/seeds/kube-proxy-iptables-affinity.yaml)', () => {
  it('the second connection goes to the first one’s pod within --seconds, the third to the statistic rule’s pick after', () => {
    const syns = podSyns(loadScenario('fixtures/seeds/kube-proxy-iptables-affinity.yaml'));
    expect(syns.map((e) => formatIpv4(e.pkt.daddr))).toEqual(['10.244.0.5', '10.244.0.5', '10.244.0.6']);
  });
});

describe('-m recent in ip6tables (recent_mt with NFPROTO_IPV6: the IPv6 address, its --mask, the hop limit)', () => {
  const ALL = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
  const filter6 = (rules: string): Table => xt6Table(rules);
  /** Runs FORWARD of `t` on an IPv6 UDP packet at `seconds`, traced; the verdict's drop and the notes. */
  const run6 = (t: Table, seconds: number, saddr: string, daddr = 'fd00:2::2', hopLimit = 64) => runChain(t, udp6(saddr, daddr, { hopLimit }), { chain: 'FORWARD', hook: Hook.Forward, seconds, indev: null });

  it('reads --mask as an IPv6 address, the form ip6tables-save prints it in', () => {
    const t = filter6(`-A FORWARD -m recent --set --name v6 --mask ${ALL} --rsource -j RETURN`);
    expect(recentOf(t.chains.get('FORWARD')!.rules[0]!.matches).table.mask).toBe(parseIpv6(ALL));
    expect(() => filter6('-A FORWARD -m recent --set --name v6 --mask 255.255.255.255 --rsource')).toThrow("r:5:38: bad --mask '255.255.255.255' (expected an IPv6 address)");
  });

  it('records the whole IPv6 source and finds only that address, naming it in the trace', () => {
    const t = filter6([`-A FORWARD -m recent --rcheck --seconds 10 --name v6 --mask ${ALL} --rsource -j DROP`, `-A FORWARD -m recent --set --name v6 --mask ${ALL} --rsource -j RETURN`].join('\n'));
    expect(run6(t, 0, 'fd00:1::1').notes).toContain('RECENT v6: fd00:1::1 recorded (rule "-A FORWARD -m recent --set --name v6 --mask ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff --rsource -j RETURN")');
    const again = run6(t, 1, 'fd00:1::1');
    expect(again.verdict).toBe(Verdict.Drop);
    expect(again.notes[0]).toMatch(/^RECENT v6: fd00:1::1 seen 1\.000 s ago/);
    // the same low 32 bits in another /64: another address
    expect(run6(t, 1, 'fd00:9::1').verdict).toBe(Verdict.Accept);
  });

  it('--mask ffff:ffff:ffff:ffff:: keeps one entry per /64 (nf_inet_addr_mask)', () => {
    const t = filter6(['-A FORWARD -m recent --rcheck --name n --mask ffff:ffff:ffff:ffff:: --rdest -j DROP', '-A FORWARD -m recent --set --name n --mask ffff:ffff:ffff:ffff:: --rdest -j RETURN'].join('\n'));
    expect(run6(t, 0, 'fd00:1::1', 'fd00:2::7').notes).toContain('RECENT n: fd00:2:: recorded (rule "-A FORWARD -m recent --set --name n --mask ffff:ffff:ffff:ffff:: --rdest -j RETURN")');
    expect(run6(t, 1, 'fd00:1::1', 'fd00:2::abcd:1').verdict).toBe(Verdict.Drop);
    expect(run6(t, 1, 'fd00:1::1', 'fd00:2:0:1::7').verdict).toBe(Verdict.Accept);
  });

  it('--rttl compares the hop limit', () => {
    const t = filter6([`-A FORWARD -m recent --rcheck --rttl --name h --mask ${ALL} --rsource -j DROP`, `-A FORWARD -d fd00:2::9/128 -m recent --set --name h --mask ${ALL} --rsource -j RETURN`].join('\n'));
    run6(t, 0, 'fd00:1::1', 'fd00:2::9', 64);
    expect(run6(t, 1, 'fd00:1::1', 'fd00:2::2', 63).verdict).toBe(Verdict.Accept);
    expect(run6(t, 1, 'fd00:1::1', 'fd00:2::2', 64).verdict).toBe(Verdict.Drop);
  });
});
