/**
 * Each match and target evaluated on packets that should and should not match: a one-rule
 * chain (iptables-save or nft text) run on a built packet, its verdict and effects checked.
 */
import { describe, expect, it } from 'vitest';
import { CtInfo, Conn, Status } from '../../src/netfilter/conntrack/conn.js';
import { invertTuple, tupleFromPacket } from '../../src/netfilter/conntrack/tuple.js';
import { connSlab } from '../../src/netfilter/conntrack/conn-record.js';
import { Hook, Verdict } from '../../src/netfilter/constants.js';
import { RuleContext } from '../../src/netfilter/rules/context.js';
import { evaluateChain } from '../../src/netfilter/rules/eval.js';
import { AddrType } from '../../src/netfilter/rules/model.js';
import { parseIpsets, parseRuleset } from '../../src/netfilter/rules/parse.js';
import { Skb } from '../../src/netfilter/skb.js';
import { NetDevice } from '../../src/host/device.js';
import { buildIcmpEcho, buildTcp, buildUdp } from '../../src/packet/build.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { TcpFlag, type Ipv4Packet } from '../../src/packet/ipv4.js';
import { Prng } from '../../src/sim/prng.js';
import type { NftTraceEvent } from '../../src/netfilter/rules/nft-trace.js';
import { nftMonitorLines } from '../../src/trace/nft-monitor.js';

const ip = (s: string) => parseIpv4(s)!;
const LOCAL = ip('192.168.1.2');

const tcp = (dport: number, flags: number = TcpFlag.SYN) => buildTcp({ saddr: ip('10.0.0.1'), daddr: LOCAL, sport: 40000, dport, seq: 1, ack: 0, flags, window: 100, ipId: 1, ttl: 64, payloadLength: 0 });
const udp = (daddr = LOCAL) => buildUdp({ saddr: ip('10.0.0.1'), daddr, sport: 1000, dport: 53, ipId: 1, ttl: 64, payload: new Uint8Array(4) });
const ping = (type = 8) => buildIcmpEcho({ saddr: ip('10.0.0.1'), daddr: LOCAL, ipId: 1, ttl: 64, type, echoId: 1, seq: 1, payload: new Uint8Array(0) });

interface Run {
  readonly verdict: Verdict;
  readonly skb: Skb;
}

/** Evaluates the FORWARD chain of `rules` (an iptables filter table's rules, or an nft chain body). */
function run(rules: string, pkt: Ipv4Packet, setup: (skb: Skb) => void = () => undefined, prng = new Prng(1), nft = false): Run {
  const text = nft
    ? `table ip t { chain c { type filter hook forward priority 0; policy accept;\n${rules}\n} }`
    : `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${rules}\nCOMMIT\n`;
  const table = parseRuleset({ text, file: 'r', lineOffset: 0, colOffset: 0 }).tables[0]!;
  const chain = [...table.chains.values()].find((c) => c.base?.hook === Hook.Forward)!;
  const skb = new Skb(1, pkt, 0, 0, null);
  setup(skb);
  const env = { addrType: (a: number) => (a === LOCAL ? AddrType.Local : AddrType.Unicast), prng };
  const state = { hook: Hook.Forward, in: null, out: null, trace: null, notes: null };
  const outcome = evaluateChain(table, chain, new RuleContext(skb, state, env), () => Verdict.Accept);
  return { verdict: outcome.verdict, skb };
}

const drops = (rules: string, pkt: Ipv4Packet, setup?: (skb: Skb) => void, nft = false) => run(rules, pkt, setup, new Prng(1), nft).verdict === Verdict.Drop;

function tracked(skb: Skb, ctinfo: CtInfo, status = 0): void {
  const orig = tupleFromPacket(skb.pkt);
  skb.ct = new Conn(connSlab(1), 1, orig, invertTuple(orig)!);
  skb.ct.status |= status;
  skb.ctinfo = ctinfo;
}

describe('iptables matches', () => {
  it('-m mark --mark V/M', () => {
    const rule = '-A FORWARD -m mark --mark 0x4000/0x4000 -j DROP';
    expect(drops(rule, udp(), (s) => void (s.mark = 0x4001))).toBe(true);
    expect(drops(rule, udp(), (s) => void (s.mark = 0x1))).toBe(false);
    expect(drops('-A FORWARD -m mark ! --mark 0x4000/0x4000 -j DROP', udp())).toBe(true);
  });

  it('-m conntrack --ctstate and -m state', () => {
    const rule = '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j DROP';
    expect(drops(rule, udp(), (s) => tracked(s, CtInfo.EstablishedReply))).toBe(true);
    expect(drops(rule, udp(), (s) => tracked(s, CtInfo.Related))).toBe(true);
    expect(drops(rule, udp(), (s) => tracked(s, CtInfo.New))).toBe(false);
    expect(drops('-A FORWARD -m state --state INVALID -j DROP', udp())).toBe(true);
    expect(drops('-A FORWARD -m conntrack --ctstate DNAT -j DROP', udp(), (s) => tracked(s, CtInfo.New, Status.DstNat))).toBe(true);
    expect(drops('-A FORWARD -m conntrack --ctstate UNTRACKED -j DROP', udp(), (s) => void (s.untracked = true))).toBe(true);
  });

  it('-m addrtype --dst-type LOCAL', () => {
    const rule = '-A FORWARD -m addrtype --dst-type LOCAL -j DROP';
    expect(drops(rule, udp(LOCAL))).toBe(true);
    expect(drops(rule, udp(ip('8.8.8.8')))).toBe(false);
    expect(drops('-A FORWARD -m addrtype ! --dst-type LOCAL -j DROP', udp(ip('8.8.8.8')))).toBe(true);
  });

  it('-m physdev on a bridged packet: its ports in and (from FORWARD on) out, names with + as prefixes', () => {
    const c1 = new NetDevice(4, 'vethc1');
    const c2 = new NetDevice(5, 'vethc2');
    const atPrerouting = (skb: Skb) => void (skb.nfBridge = { physindev: c1, physoutdev: null, inPrerouting: true, ipv4Daddr: skb.pkt.daddr });
    const atForward = (skb: Skb) => void (skb.nfBridge = { physindev: c1, physoutdev: c2, inPrerouting: false, ipv4Daddr: skb.pkt.daddr });
    expect(drops('-A FORWARD -m physdev --physdev-is-bridged -j DROP', udp(), atForward)).toBe(true);
    expect(drops('-A FORWARD -m physdev --physdev-is-bridged -j DROP', udp(), atPrerouting)).toBe(false);
    expect(drops('-A FORWARD -m physdev --physdev-is-in -j DROP', udp(), atPrerouting)).toBe(true);
    expect(drops('-A FORWARD -m physdev --physdev-in vethc1 --physdev-out vethc2 -j DROP', udp(), atForward)).toBe(true);
    expect(drops('-A FORWARD -m physdev --physdev-in veth+ ! --physdev-out vethc2 -j DROP', udp(), atForward)).toBe(false);
    expect(drops('-A FORWARD -m physdev --physdev-out vethc2 -j DROP', udp(), atPrerouting)).toBe(false);
    expect(drops('-A FORWARD -m physdev ! --physdev-out vethc2 -j DROP', udp(), atPrerouting)).toBe(true);
  });

  it('-m physdev on a routed packet (br_netfilter did not hand it over): only inverted conditions hold, as physdev_mt says', () => {
    expect(drops('-A FORWARD -m physdev --physdev-is-bridged -j DROP', udp())).toBe(false);
    expect(drops('-A FORWARD -m physdev ! --physdev-is-bridged -j DROP', udp())).toBe(true);
    expect(drops('-A FORWARD -m physdev --physdev-in veth0 -j DROP', udp())).toBe(false);
    expect(drops('-A FORWARD -m physdev ! --physdev-in veth0 ! --physdev-is-out -j DROP', udp())).toBe(true);
    expect(drops('-A FORWARD -m physdev ! --physdev-in veth0 --physdev-is-out -j DROP', udp())).toBe(false);
  });

  it('-m statistic --mode random: 0x80000000 × p against 31 random bits of the seeded PRNG', () => {
    let hits = 0;
    const prng = new Prng(42);
    for (let i = 0; i < 2000; i++) if (run('-A FORWARD -m statistic --mode random --probability 0.25000000000 -j DROP', udp(), undefined, prng).verdict === Verdict.Drop) hits++;
    expect(hits).toBeGreaterThan(430);
    expect(hits).toBeLessThan(570);
    expect(drops('-A FORWARD -m statistic --mode random --probability 1.0 -j DROP', udp())).toBe(true);
    expect(drops('-A FORWARD -m statistic --mode random --probability 0 -j DROP', udp())).toBe(false);
  });

  it('-m statistic --mode nth: every Nth packet, the first one when --packet 0', () => {
    const text = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -m statistic --mode nth --every 3 --packet 0 -j DROP\nCOMMIT\n';
    const table = parseRuleset({ text, file: 'r', lineOffset: 0, colOffset: 0 }).tables[0]!;
    const chain = table.chains.get('FORWARD')!;
    const env = { addrType: () => AddrType.Unicast, prng: new Prng(1) };
    const verdicts = Array.from({ length: 7 }, () => evaluateChain(table, chain, new RuleContext(new Skb(1, udp(), 0, 0, null), { hook: Hook.Forward, in: null, out: null, trace: null, notes: null }, env), () => Verdict.Accept).verdict);
    expect(verdicts.map((v) => (v === Verdict.Drop ? 1 : 0))).toEqual([1, 0, 0, 1, 0, 0, 1]);
  });

  it('-m tcp --tcp-flags and --syn; -m icmp --icmp-type', () => {
    const syn = '-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST,ACK SYN -j DROP';
    expect(drops(syn, tcp(80, TcpFlag.SYN))).toBe(true);
    expect(drops(syn, tcp(80, TcpFlag.SYN | TcpFlag.ACK))).toBe(false);
    expect(drops('-A FORWARD -p tcp -m tcp --syn -j DROP', tcp(80, TcpFlag.ACK))).toBe(false);
    expect(drops('-A FORWARD -p icmp -m icmp --icmp-type 8 -j DROP', ping(8))).toBe(true);
    expect(drops('-A FORWARD -p icmp -m icmp --icmp-type echo-request -j DROP', ping(0))).toBe(false);
  });
});

describe('iptables targets', () => {
  it('MARK: --set-xmark, --set-mark, --or-mark, --xor-mark, --and-mark, and evaluation goes on', () => {
    const mark = (target: string, start: number) => run(`-A FORWARD -j MARK ${target}\n-A FORWARD -j ACCEPT`, udp(), (s) => void (s.mark = start)).skb.mark;
    expect(mark('--set-xmark 0x4000/0x4000', 0x1)).toBe(0x4001);
    expect(mark('--set-xmark 0x4000/0x0', 0x4001)).toBe(0x1);
    expect(mark('--set-mark 0x10', 0xff)).toBe(0x10);
    expect(mark('--or-mark 0x2', 0x1)).toBe(0x3);
    expect(mark('--xor-mark 0x3', 0x1)).toBe(0x2);
    expect(mark('--and-mark 0x1', 0x3)).toBe(0x1);
  });

  it('CONNMARK: --set-xmark on the entry, --save-mark and --restore-mark between packet and entry; -m connmark', () => {
    const withCt = (mark: number, ctmark: number) => (s: Skb) => {
      tracked(s, CtInfo.New);
      s.mark = mark;
      s.ct!.mark = ctmark;
    };
    expect(run('-A FORWARD -j CONNMARK --set-xmark 0x10/0x10', udp(), withCt(0, 1)).skb.ct!.mark).toBe(0x11);
    expect(run('-A FORWARD -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff', udp(), withCt(0x42, 0)).skb.ct!.mark).toBe(0x42);
    expect(run('-A FORWARD -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff', udp(), withCt(0, 0x7)).skb.mark).toBe(0x7);
    expect(drops('-A FORWARD -m connmark --mark 0x7 -j DROP', udp(), withCt(0, 0x7))).toBe(true);
    expect(drops('-A FORWARD -m connmark --mark 0x7 -j DROP', udp())).toBe(false); // no entry, no connection mark
  });

  it('REJECT: drops and says what to answer', () => {
    const r = run('-A FORWARD -p tcp -j REJECT --reject-with tcp-reset', tcp(80));
    expect([r.verdict, r.skb.drop?.reject]).toEqual([Verdict.Drop, 'tcp-reset']);
    expect(run('-A FORWARD -j REJECT', udp()).skb.drop?.reject).toEqual({ icmpCode: 3, icmpv6Code: 4 });
    expect(run('-A FORWARD -j REJECT --reject-with icmp-host-prohibited', udp()).skb.drop?.reject).toEqual({ icmpCode: 10, icmpv6Code: 4 });
  });

  it('LOG goes on to the next rule', () => {
    expect(drops('-A FORWARD -j LOG --log-prefix "x: "\n-A FORWARD -j DROP', udp())).toBe(true);
  });
});

describe('nft expressions', () => {
  it('meta mark, meta mark set … or, ct state, fib daddr type, icmp type, reject', () => {
    expect(drops('meta mark and 0x4000 == 0x4000 drop', udp(), (s) => void (s.mark = 0x4000), true)).toBe(true);
    expect(run('meta mark set mark or 0x4000 accept', udp(), (s) => void (s.mark = 1), new Prng(1), true).skb.mark).toBe(0x4001);
    expect(drops('ct state established,related drop', udp(), (s) => tracked(s, CtInfo.Established), true)).toBe(true);
    expect(drops('ct state { new } drop', udp(), (s) => tracked(s, CtInfo.Established), true)).toBe(false);
    expect(drops('fib daddr type local drop', udp(LOCAL), undefined, true)).toBe(true);
    expect(drops('icmp type echo-request drop', ping(8), undefined, true)).toBe(true);
    expect(run('reject with icmp type admin-prohibited', udp(), undefined, new Prng(1), true).skb.drop?.reject).toEqual({ icmpCode: 13, icmpv6Code: 4 });
    const ct = (s: Skb) => {
      tracked(s, CtInfo.New);
      s.ct!.mark = 0x5;
    };
    expect(drops('ct mark 0x5 drop', udp(), ct, true)).toBe(true);
    expect(run('meta mark set ct mark accept', udp(), ct, new Prng(1), true).skb.mark).toBe(0x5);
    // ct mark := packet mark | 0x10 (the packet's mark is 0 here)
    expect(run('ct mark set mark or 0x10 accept', udp(), ct, new Prng(1), true).skb.ct!.mark).toBe(0x10);
  });

  it('tcp flags as nft list ruleset prints them: FLAGS / MASK, & MASK == FLAGS, == FLAGS, one flag alone', () => {
    const synAck = tcp(80, TcpFlag.SYN | TcpFlag.ACK);
    expect(drops('tcp flags syn / syn,rst,ack drop', tcp(80, TcpFlag.SYN), undefined, true)).toBe(true);
    expect(drops('tcp flags syn / syn,rst,ack drop', synAck, undefined, true)).toBe(false);
    expect(drops('tcp flags != syn / syn,rst,ack drop', synAck, undefined, true)).toBe(true);
    expect(drops('tcp flags & fin == fin drop', tcp(80, TcpFlag.FIN | TcpFlag.ACK), undefined, true)).toBe(true);
    expect(drops('tcp flags == syn drop', synAck, undefined, true)).toBe(false);
    expect(drops('tcp flags ack drop', synAck, undefined, true)).toBe(true);
    expect(drops('tcp flags ack drop', udp(), undefined, true)).toBe(false);
    // several flags alone: any of them (nft's `tcp flags & (syn|ack) != 0`)
    expect(drops('tcp flags syn,ack drop', tcp(80, TcpFlag.ACK), undefined, true)).toBe(true);
    expect(drops('tcp flags syn,rst drop', tcp(80, TcpFlag.ACK), undefined, true)).toBe(false);
    expect(drops('tcp flags & (fin | syn | rst | ack) == syn drop', tcp(80, TcpFlag.SYN), undefined, true)).toBe(true);
    expect(drops('tcp flags & (fin | syn | rst | ack) == syn drop', synAck, undefined, true)).toBe(false);
    expect(() => run('tcp flags syn / bogus drop', synAck, undefined, new Prng(1), true)).toThrow("r:2:17: bad tcp_flag 'bogus'");
  });
});

describe('nft named sets', () => {
  const table = (body: string) => `table ip t {\n set blocked { type ipv4_addr; flags interval; elements = { 10.0.0.0/24, 192.0.2.7 } }\n set web { type inet_service; elements = { 80, 443, 8000-8080 } }\n chain c { type filter hook forward priority 0; policy accept;\n${body}\n }\n}`;
  const evalText = (text: string, pkt: Ipv4Packet) => {
    const ruleset = parseRuleset({ text, file: 'r', lineOffset: 0, colOffset: 0 });
    const t = ruleset.tables[0]!;
    const state = { hook: Hook.Forward, in: null, out: null, trace: null, notes: null };
    return evaluateChain(t, t.chains.get('c')!, new RuleContext(new Skb(1, pkt, 0, 0, null), state, { addrType: () => AddrType.Unicast, prng: new Prng(1) }), () => Verdict.Accept).verdict;
  };

  it('ip saddr @set and tcp dport @set match their elements', () => {
    expect(evalText(table('ip saddr @blocked drop'), udp())).toBe(Verdict.Drop); // 10.0.0.1
    expect(evalText(table('ip saddr != @blocked drop'), udp())).toBe(Verdict.Accept);
    expect(evalText(table('tcp dport @web drop'), tcp(8001))).toBe(Verdict.Drop);
    expect(evalText(table('tcp dport @web drop'), tcp(22))).toBe(Verdict.Accept);
  });

  it('add element reaches rules already written; an unknown set is an error', () => {
    const text = 'add table ip t\nadd set ip t s { type ipv4_addr; }\nadd chain ip t c { type filter hook forward priority 0; }\nadd rule ip t c ip daddr @s drop\nadd element ip t s { 192.168.1.2 }\n';
    expect(evalText(text, udp())).toBe(Verdict.Drop);
    expect(() => parseRuleset({ text: table('ip saddr @nope drop'), file: 'r', lineOffset: 0, colOffset: 0 })).toThrow("no set 'nope' in this table");
  });
});

describe('ipset and -m set', () => {
  const IPSETS = [
    'create KUBE-LOOP-BACK hash:ip,port,ip family inet hashsize 1024 maxelem 65536',
    'add KUBE-LOOP-BACK 10.244.0.5,tcp:8080,10.244.0.5',
    'create BLOCK hash:net family inet',
    'add BLOCK 10.0.0.0/8',
    'create V6 hash:ip family inet6',
    '',
  ].join('\n');

  function drop(rule: string, pkt: Ipv4Packet): boolean {
    const sets = parseIpsets({ text: IPSETS, file: 'sets', lineOffset: 0, colOffset: 0 });
    const text = `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${rule}\nCOMMIT\n`;
    const table = parseRuleset({ text, file: 'r', lineOffset: 0, colOffset: 0 }, sets).tables[0]!;
    const state = { hook: Hook.Forward, in: null, out: null, trace: null, notes: null };
    return evaluateChain(table, table.chains.get('FORWARD')!, new RuleContext(new Skb(1, pkt, 0, 0, null), state, { addrType: () => AddrType.Unicast, prng: new Prng(1) }), () => Verdict.Accept).verdict === Verdict.Drop;
  }

  it('hash:net against the source', () => {
    expect(drop('-A FORWARD -m set --match-set BLOCK src -j DROP', udp())).toBe(true);
    expect(drop('-A FORWARD -m set ! --match-set BLOCK src -j DROP', udp())).toBe(false);
    expect(drop('-A FORWARD -m set --match-set BLOCK dst -j DROP', udp())).toBe(false);
  });

  it('hash:ip,port,ip as kube-proxy ipvs mode uses it (dst,dst,src), and too few directions never match', () => {
    const hairpin = buildTcp({ saddr: ip('10.244.0.5'), daddr: ip('10.244.0.5'), sport: 40000, dport: 8080, seq: 1, ack: 0, flags: TcpFlag.SYN, window: 100, ipId: 1, ttl: 64, payloadLength: 0 });
    expect(drop('-A FORWARD -m set --match-set KUBE-LOOP-BACK dst,dst,src -j DROP', hairpin)).toBe(true);
    expect(drop('-A FORWARD -m set --match-set KUBE-LOOP-BACK dst,dst -j DROP', hairpin)).toBe(false);
  });

  it('names the problem: an unknown set, a bad element, an unmodelled type', () => {
    expect(() => drop('-A FORWARD -m set --match-set NOPE src -j DROP', udp())).toThrow("no ip set 'NOPE'");
    expect(() => parseIpsets({ text: 'create S hash:ip\nadd S 10.0.0.300\n', file: 'sets', lineOffset: 0, colOffset: 0 })).toThrow("sets:2:7: bad hash:ip element '10.0.0.300'");
    expect(() => parseIpsets({ text: 'create S list:set\n', file: 'sets', lineOffset: 0, colOffset: 0 })).toThrow("ipset type 'list:set' is not modelled");
  });
});

describe('meta nftrace set 1', () => {
  it('prints nft monitor trace lines: the packet once, each matching rule with its verdict, the policy', () => {
    const text = 'table ip t {\n chain c { type filter hook forward priority 0; policy accept;\n  meta nftrace set 1\n  udp dport 53 jump dns\n }\n chain dns {\n  counter\n }\n}';
    const ruleset = parseRuleset({ text, file: 'r', lineOffset: 0, colOffset: 0 });
    const t = ruleset.tables[0]!;
    const notes: string[] = [];
    const nftTrace: NftTraceEvent[] = [];
    const state = { hook: Hook.Forward, in: null, out: null, trace: { notes, logs: [], nftTrace, nat: null, rule: null }, notes };
    evaluateChain(t, t.chains.get('c')!, new RuleContext(new Skb(1, udp(), 0, 0, null), state, { addrType: () => AddrType.Unicast, prng: new Prng(1) }), () => Verdict.Accept);
    expect(notes).toEqual([]);
    // the raw payload in hex without leading zeros (xinteger_type_print's "0x%Zx": nft 1.0.6 printed
    // "@th,64,32 0x1" for the data 00 00 00 01, scripts/record/nft-trace-probe.sh)
    expect(nftTrace.flatMap((e) => nftMonitorLines(e, 'zero')).map((n) => n.replace(/^trace id \w+ /, ''))).toEqual([
      'ip t c packet: ip saddr 10.0.0.1 ip daddr 192.168.1.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 1 ip length 32 udp sport 1000 udp dport 53 udp length 12 @th,64,32 0x0 ',
      'ip t c rule meta nftrace set 1 (verdict continue)',
      'ip t c rule udp dport 53 jump dns (verdict jump dns)',
      'ip t dns rule counter packets 0 bytes 0 (verdict continue)',
      'ip t c policy accept ',
    ]);
  });
});
