/**
 * The nft constructs the last refused corpus files needed (issue 16, part 2), each evaluated on
 * packets as the kernel evaluates it: catch-all elements (nft_set_catchall_lookup), redirect to a
 * port from a map (nft_redir_eval), constants in concatenated keys (nft_immediate), dynset with
 * map data, delete and per-element limits (nft_dynset.c), fib oif/oifname (nft_fib4_eval), the
 * IPv6 routing header (`rt type`, IPv6 only), ct zone. Each malformed variant is refused with
 * file:line:col.
 */
import { describe, expect, it } from 'vitest';
import { Fib, TABLE_LOCAL, TABLE_MAIN, type Route } from '../../src/host/fib.js';
import { NetDevice } from '../../src/host/device.js';
import { CtInfo, Conn } from '../../src/netfilter/conntrack/conn.js';
import { invertTuple, tupleFromPacket } from '../../src/netfilter/conntrack/tuple.js';
import { connSlab } from '../../src/netfilter/conntrack/conn-record.js';
import { Hook, Verdict } from '../../src/netfilter/constants.js';
import { RuleContext } from '../../src/netfilter/rules/context.js';
import { evaluateChain } from '../../src/netfilter/rules/eval.js';
import { AddrType, NatFlag, type Action, type Table } from '../../src/netfilter/rules/model.js';
import { lintRuleset } from '../../src/netfilter/rules/parse.js';
import { Skb } from '../../src/netfilter/skb.js';
import { buildTcp } from '../../src/packet/build.js';
import { TcpFlag, type Ipv4Packet } from '../../src/packet/ipv4.js';
import { Prng } from '../../src/sim/prng.js';
import { errorOf, parse } from './helpers.js';
import { ETH0, ETH1, ip, runChain, S, udp } from './xt-helpers.js';

const LO = new NetDevice(1, 'lo', null, null, 'loopback');

/** Table `t` of `family` with `decls` and a chain `c` at `hook` (a nat chain for NAT hooks) holding `rules`. */
function table(rules: string, decls = '', o: { family?: string; type?: string; hook?: string } = {}): Table {
  const text = `table ${o.family ?? 'ip'} t {\n${decls}\n chain c { type ${o.type ?? 'filter'} hook ${o.hook ?? 'forward'} priority 0; policy accept;\n${rules}\n }\n}`;
  return parse(text).tables[0]!;
}

const tcp = (saddr: string, dport: number) => buildTcp({ saddr: ip(saddr), daddr: ip('192.168.1.2'), sport: 40000, dport, seq: 1, ack: 0, flags: TcpFlag.SYN, window: 100, ipId: 1, ttl: 64, payloadLength: 0 });

/** Chain c at `hook` on `pkt` at `seconds`: the verdict, the NAT actions taken, the skb and the notes. */
function run(t: Table, pkt: Ipv4Packet, o: { seconds?: number; hook?: Hook; indev?: NetDevice | null; ct?: boolean } = {}) {
  const indev = o.indev === undefined ? ETH1 : o.indev;
  const skb = new Skb(1, pkt, (o.seconds ?? 0) * S, 0, indev);
  if (o.ct) {
    const orig = tupleFromPacket(pkt);
    skb.ct = new Conn(connSlab(1), 1, orig, invertTuple(orig)!);
    skb.ctinfo = CtInfo.New;
  }
  const notes: string[] = [];
  const state = { hook: o.hook ?? Hook.Forward, in: indev, out: ETH0, trace: null, notes };
  const nat: Action[] = [];
  const env = { addrType: () => AddrType.Unicast, prng: new Prng(1) };
  const verdict = evaluateChain(t, t.chains.get('c')!, new RuleContext(skb, state, env), (a) => {
    nat.push(a);
    return Verdict.Accept;
  }).verdict;
  return { verdict, nat, skb, notes };
}

const lint = (text: string) => lintRuleset(text, 'f.nft').map((e) => e.message);

describe('catch-all elements (`*`, nft_set_catchall_lookup)', () => {
  const decls = ' map y {\n  type ipv4_addr : ipv4_addr\n  elements = { 10.141.0.1 : 192.168.0.2, * : 192.168.0.4 }\n }';

  it('a map lookup that finds no other element takes the catch-all element', () => {
    const t = table('snat to ip saddr map @y', decls, { type: 'nat', hook: 'postrouting' });
    const addr = (saddr: string) => (run(t, udp(saddr), { hook: Hook.PostRouting }).nat[0] as { range: { minAddr: number } } | undefined)?.range.minAddr;
    expect(addr('10.141.0.1')).toBe(ip('192.168.0.2'));
    expect(addr('10.9.9.9')).toBe(ip('192.168.0.4'));
  });

  it('verdict maps and sets take it too; 6.18 takes it before inverting, so `!=` never holds', () => {
    expect(run(table('ip saddr vmap { 10.0.0.1 : accept, * : drop }'), udp('10.0.0.1')).verdict).toBe(Verdict.Accept);
    expect(run(table('ip saddr vmap { 10.0.0.1 : accept, * : drop }'), udp('10.0.0.7')).verdict).toBe(Verdict.Drop);
    const set = ' set s { type ipv4_addr; elements = { 10.0.0.1, * } }';
    expect(run(table('ip saddr @s drop', set), udp('10.3.3.3')).verdict).toBe(Verdict.Drop);
    expect(run(table('ip saddr != @s drop', set), udp('10.3.3.3')).verdict).toBe(Verdict.Accept);
  });

  it('delete element … { * } takes it out: the lookup then misses and the rule ends', () => {
    const text = `table ip t {\n${decls}\n chain c { type nat hook postrouting priority 0;\n  snat to ip saddr map @y\n }\n}\ndelete element ip t y { * }\n`;
    const t = parse(text).tables[0]!;
    expect(run(t, udp('10.9.9.9'), { hook: Hook.PostRouting }).nat).toEqual([]);
    expect(run(t, udp('10.141.0.1'), { hook: Hook.PostRouting }).nat).toHaveLength(1);
    // written with its data, as `nft list` prints it, the element goes as well
    const withData = parse(`${text}delete element ip t y { 10.141.0.1 : 192.168.0.2 }\n`).tables[0]!;
    expect(run(withData, udp('10.141.0.1'), { hook: Hook.PostRouting }).nat).toEqual([]);
  });

  it('add @set never finds the catch-all element (nft_rhash_update): the key is added', () => {
    const t = table('add @s { ip saddr }', ' set s { type ipv4_addr; flags dynamic; elements = { * } }');
    expect(run(t, udp('10.0.0.5')).notes).toContain('SET @s: 10.0.0.5 added (rule "add @s { ip saddr }")');
  });

  it('a catch-all with a key after it is refused at its token', () => {
    expect(lint('table ip t {\n set s { type ipv4_addr; elements = { * . 80 } }\n}\n')).toEqual(["f.nft:2:41: unexpected '.' in a set element (natsim reads KEY [timeout T] [expires T] [counter] [comment \"…\"])"]);
  });
});

describe('redirect to :EXPR map (nft_redir_eval with sreg_proto_min)', () => {
  const t = table('redirect to :tcp dport map { 83 : 8083, 84 : 8084-8090 }', '', { type: 'nat', hook: 'prerouting' });

  it('redirects to the port (range) of the element the key finds; a miss ends the rule', () => {
    const r = run(t, tcp('10.0.0.1', 83), { hook: Hook.PreRouting });
    expect(r.nat[0]).toMatchObject({ kind: 'redirect', range: { minProto: 8083, maxProto: 8083 } });
    expect(((r.nat[0] as { range: { flags: number } }).range.flags & NatFlag.ProtoSpecified) !== 0).toBe(true);
    expect(run(t, tcp('10.0.0.1', 84), { hook: Hook.PreRouting }).nat[0]).toMatchObject({ range: { minProto: 8084, maxProto: 8090 } });
    expect(run(t, tcp('10.0.0.1', 85), { hook: Hook.PreRouting }).nat).toEqual([]);
  });

  it('tcp dport carries its meta l4proto tcp dependency: UDP to port 83 is not redirected', () => {
    expect(run(t, udp('10.0.0.1', '192.168.1.2', { dport: 83 }), { hook: Hook.PreRouting }).nat).toEqual([]);
  });

  it('a map of addresses, or address data, is refused with file:line:col', () => {
    expect(errorOf('table ip t {\n map m { type inet_service : ipv4_addr; }\n chain c { type nat hook prerouting priority 0;\n  redirect to :tcp dport map @m\n }\n}')).toBe('r:4:16: redirect to a map needs data inet_service (this map holds ipv4_addr)');
    expect(errorOf('table ip t {\n chain c { type nat hook prerouting priority 0;\n  redirect to :tcp dport map { 83 : 1.2.3.4 }\n }\n}')).toBe("r:3:37: bad inet_service '1.2.3.4'");
  });
});

describe('constants in concatenated keys (nft_immediate into the field register)', () => {
  const decls = ' set s {\n  type ipv4_addr . iface_index\n  flags interval\n  elements = { 127.0.0.1 . "lo" }\n }\n set svc { type ipv4_addr . inet_service; flags dynamic,timeout; }';

  it('ip saddr . "lo" @s: the constant takes the set\'s type at its place, whatever the device', () => {
    const t = table('ip saddr . "lo" @s accept\n drop', decls);
    expect(run(t, udp('127.0.0.1')).verdict).toBe(Verdict.Accept);
    expect(run(t, udp('127.0.0.2')).verdict).toBe(Verdict.Drop);
    // the same element read with the packet's own input device
    const byIif = table('ip saddr . iif @s accept\n drop', decls);
    expect(run(byIif, udp('127.0.0.1'), { indev: LO }).verdict).toBe(Verdict.Accept);
    expect(run(byIif, udp('127.0.0.1'), { indev: ETH1 }).verdict).toBe(Verdict.Drop);
  });

  it('port knocking: add @svc { ip saddr . 10002 timeout 1s } opens the next port for a second', () => {
    const t = table('tcp dport 10001 add @svc { ip saddr . 10002 timeout 1s }\n ip saddr . tcp dport @svc accept\n drop', decls);
    expect(run(t, tcp('10.0.0.1', 10002)).verdict).toBe(Verdict.Drop);
    expect(run(t, tcp('10.0.0.1', 10001), { seconds: 1 }).verdict).toBe(Verdict.Drop);
    expect(run(t, tcp('10.0.0.1', 10002), { seconds: 1.5 }).verdict).toBe(Verdict.Accept);
    expect(run(t, tcp('10.0.0.2', 10002), { seconds: 1.5 }).verdict).toBe(Verdict.Drop);
    expect(run(t, tcp('10.0.0.1', 10002), { seconds: 2.5 }).verdict).toBe(Verdict.Drop);
  });

  it('a constant without a named set, of the wrong type, or past the key, is refused at its token', () => {
    expect(errorOf('table ip t {\n chain c {\n  ip saddr . 80 { 1.2.3.4 . 80 } drop\n }\n}')).toBe("r:3:14: expected an expression, found '80' (a constant in a key takes its type from the named set it is looked up in or added to)");
    expect(errorOf(`table ip t {\n${decls}\n chain c {\n  ip saddr . "www" @svc drop\n }\n}`)).toBe("r:9:14: bad inet_service constant 'www'");
    expect(errorOf(`table ip t {\n${decls}\n chain c {\n  add @svc { ip saddr . 80 . 90 }\n }\n}`)).toBe("r:9:30: the set's key has 2 fields; '90' would be field 3");
  });
});

describe('dynset with map data, delete, and per-element statements (nft_dynset.c)', () => {
  const map = (size = '') => ` map dm {\n  typeof ip saddr : meta mark\n  flags dynamic\n  ${size}\n }`;

  it('add @m { KEY : DATA } gives the new element its data; delete @m takes it out at once', () => {
    const t = table('meta l4proto udp add @dm { ip saddr : 0x00000001 }\n meta l4proto tcp ip saddr @dm delete @dm { ip saddr : 0x00000001 }\n meta mark set ip saddr map @dm accept', map());
    const first = run(t, udp('10.0.0.1'));
    expect([first.verdict, first.skb.mark]).toEqual([Verdict.Accept, 1]);
    expect(first.notes).toContain('SET @dm: 10.0.0.1 : 1 added (rule "meta l4proto udp add @dm { ip saddr : 0x00000001 }")');
    // the TCP packet deletes the element: its own mark lookup already misses
    const del = run(t, tcp('10.0.0.1', 80), { seconds: 1 });
    expect([del.verdict, del.skb.mark]).toEqual([Verdict.Accept, 0]);
    expect(run(t, tcp('10.0.0.1', 80), { seconds: 2 }).skb.mark).toBe(0);
  });

  it('a deleted element counts against the size until garbage collection (nft_rhash_gc)', () => {
    const t = table('meta l4proto udp add @dm { ip saddr : 0x2 }\n meta l4proto tcp delete @dm { ip saddr : 0x2 }', map('size 1'));
    run(t, udp('10.0.0.1'), { seconds: 0.1 });
    run(t, tcp('10.0.0.1', 80), { seconds: 0.2 });
    expect(run(t, udp('10.0.0.2'), { seconds: 0.3 }).notes).toContain('SET @dm: full (1 elements), the rule ends (rule "meta l4proto udp add @dm { ip saddr : 0x2 }")');
    expect(run(t, udp('10.0.0.2'), { seconds: 1.1 }).notes).toContain('SET @dm: 10.0.0.2 : 2 added (rule "meta l4proto udp add @dm { ip saddr : 0x2 }")');
  });

  it('a constant key with a timeout and data: add @m { 10.2.3.4 timeout 2s : 0x2 }', () => {
    const decls = ' map dm {\n  typeof ip daddr : meta mark\n  timeout 5m\n }';
    const t = table('meta l4proto udp add @dm { 10.2.3.4 timeout 2s : 0x00000002 }\n meta mark set ip saddr map @dm accept', decls);
    // any UDP packet adds the element; a TCP packet from 10.2.3.4 reads it until it times out
    expect(run(t, udp('10.9.9.9')).skb.mark).toBe(0);
    expect(run(t, tcp('10.2.3.4', 80), { seconds: 1 }).skb.mark).toBe(2);
    expect(run(t, tcp('10.2.3.4', 80), { seconds: 3 }).skb.mark).toBe(0);
  });

  it('update @s { ip saddr limit … }: each element its own bucket (nft_limit_clone), run on the element found', () => {
    const t = table('update @s { ip saddr limit rate 1/second burst 2 packets } accept\n drop', ' set s { type ipv4_addr; flags dynamic; }');
    const at = (saddr: string, seconds: number) => run(t, udp(saddr), { seconds }).verdict;
    expect([at('10.0.0.1', 0), at('10.0.0.1', 0), at('10.0.0.1', 0)]).toEqual([Verdict.Accept, Verdict.Accept, Verdict.Drop]);
    expect(at('10.0.0.2', 0)).toBe(Verdict.Accept);
    expect([at('10.0.0.1', 1), at('10.0.0.1', 1)]).toEqual([Verdict.Accept, Verdict.Drop]);
  });

  it("a lookup runs the element's limit too (nft_set_elem_update_expr)", () => {
    const t = table('ip saddr @s accept\n add @s { ip saddr limit rate 1/second burst 1 packets }\n drop', ' set s { type ipv4_addr; flags dynamic; }');
    const at = (seconds: number) => run(t, udp('10.0.0.1'), { seconds }).verdict;
    // added (and its one token taken) by the add; then over the rate until a token comes back
    expect([at(0), at(0.5), at(1)]).toEqual([Verdict.Drop, Verdict.Drop, Verdict.Accept]);
  });

  it('what nft_dynset_init refuses, and what natsim does not model, at its token', () => {
    expect(errorOf(`table ip t {\n${map()}\n chain c {\n  add @dm { ip saddr }\n }\n}`)).toBe("r:8:7: 'dm' is a map: add @dm { KEY : DATA } gives its elements their data (nft_dynset_init: EINVAL)");
    expect(errorOf('table ip t {\n set s { type ipv4_addr; flags dynamic; }\n chain c {\n  add @s { ip saddr : 1 }\n }\n}')).toBe("r:4:21: 's' is a set: its elements hold no data");
    expect(errorOf('table ip t {\n set s { type ipv4_addr; }\n chain c {\n  add @s { ip saddr limit rate 1/second }\n }\n}')).toBe("r:4:21: statements in add @s { … } need a set with 'flags dynamic' (nft_dynset_init: EINVAL)");
    expect(errorOf('table ip t {\n set s { type ipv4_addr; flags dynamic; }\n chain c {\n  add @s { ip saddr quota 10 bytes }\n }\n}')).toBe("r:4:21: an element's own quota (nft_quota_clone) is not modelled (set 's')");
    expect(errorOf('table ip t {\n set s { type ipv4_addr; flags dynamic; }\n chain c {\n  add @s { ip saddr ct count 2 }\n }\n}')).toBe("r:4:21: an element's ct count (nft_connlimit: connections counted per element) is not modelled (set 's')");
    // the set's declared counter is what each element carries: a rule may give that counter, or nothing
    const counted = ' set s { type ipv4_addr; flags dynamic; counter; }';
    expect(errorOf(`table ip t {\n${counted}\n chain c {\n  add @s { ip saddr limit rate 1/second }\n }\n}`)).toBe("r:4:21: set 's' declares counter: the statements in add @s { … } must be that counter (nft_dynset_init: EOPNOTSUPP)");
    expect(run(table('add @s { ip saddr counter }\n add @s { ip saddr } accept', counted), udp()).verdict).toBe(Verdict.Accept);
  });
});

describe('fib saddr|daddr [. iif|oif] oif|oifname (nft_fib4_eval)', () => {
  const fib = new Fib();
  const route = (dst: string, prefixLen: number, dev: NetDevice, type: Route['type'] = 'unicast', t = TABLE_MAIN): Route => ({ table: t, type, dst: ip(dst), prefixLen, dev, gateway: 0, prefsrc: 0, metric: 0, scope: 0 });
  fib.add(route('10.0.0.0', 8, ETH1));
  fib.add(route('192.168.1.0', 24, ETH0));
  fib.add(route('192.168.1.1', 32, ETH0, 'local', TABLE_LOCAL));
  fib.add(route('203.0.113.0', 24, ETH0, 'blackhole'));
  const routeTo = (a: number) => fib.lookup(a);
  const rpf = table('fib saddr . iif oif 0 drop', '', { family: 'inet', hook: 'prerouting' });
  const at = (t: Table, pkt: Ipv4Packet, indev: NetDevice = ETH1, hook = Hook.PreRouting) => runChain(t, pkt, { chain: 'c', hook, indev, outdev: ETH0, routeTo }).verdict;

  it('the reverse-path check: a source routed back out the input device passes; spoofed, unroutable or own sources do not', () => {
    expect(at(rpf, udp('10.0.0.1'))).toBe(Verdict.Accept);
    expect(at(rpf, udp('192.168.1.7'))).toBe(Verdict.Drop);
    expect(at(rpf, udp('192.168.1.7'), ETH0)).toBe(Verdict.Accept);
    expect(at(rpf, udp('8.8.8.8'))).toBe(Verdict.Drop);
    // RTN_LOCAL: the source is one of the host's addresses
    expect(at(rpf, udp('192.168.1.1'), ETH0)).toBe(Verdict.Drop);
    // fib_lookup fails on a blackhole route
    expect(at(rpf, udp('203.0.113.5'), ETH0)).toBe(Verdict.Drop);
  });

  it('a DHCP discover from 0.0.0.0 to the broadcast address, and loopback at prerouting, give their own device', () => {
    expect(at(rpf, udp('0.0.0.0', '255.255.255.255'))).toBe(Verdict.Accept);
    expect(at(rpf, udp('8.8.8.8'), LO)).toBe(Verdict.Accept);
  });

  it('oifname: the name, to compare or look up in an ifname set; daddr looks toward the destination', () => {
    expect(at(table('fib saddr oifname "eth0" accept\n drop', '', { family: 'inet' }), udp('192.168.1.7'), ETH1, Hook.Forward)).toBe(Verdict.Accept);
    const set = ' set s { type ifname; elements = { "eth1" } }';
    expect(at(table('fib saddr oifname @s accept\n drop', set, { family: 'inet' }), udp('10.0.0.1'), ETH1, Hook.Forward)).toBe(Verdict.Accept);
    expect(at(table('fib saddr oifname @s accept\n drop', set, { family: 'inet' }), udp('192.168.1.7'), ETH1, Hook.Forward)).toBe(Verdict.Drop);
    expect(at(table('fib daddr . oif oif "eth0" accept\n drop', '', { family: 'inet' }), udp('10.0.0.1', '192.168.1.9'), ETH1, Hook.Forward)).toBe(Verdict.Accept);
    expect(at(table('fib daddr . oif oif "eth0" accept\n drop', '', { family: 'inet' }), udp('192.168.1.9', '10.0.0.9'), ETH1, Hook.Forward)).toBe(Verdict.Drop);
  });

  it('malformed fib expressions are refused at their token', () => {
    expect(errorOf('table inet t {\n chain c {\n  fib saddr . iif . oif oif 0 drop\n }\n}')).toBe("r:3:7: fib takes 'iif' or 'oif', not both");
    expect(errorOf('table inet t {\n chain c {\n  fib saddr . iif nexthop 0 drop\n }\n}')).toBe("r:3:19: unknown fib result 'nexthop' (oif, oifname, type)");
    expect(errorOf('table inet t {\n chain c {\n  fib saddr . iif type local drop\n }\n}')).toBe("r:3:19: natsim reads 'fib saddr|daddr type' without iif, oif or mark flags");
  });
});

describe('rt (the IPv6 routing header) and ct zone', () => {
  it('rt type 0 carries meta nfproto ipv6: it never matches an IPv4 packet; rt nexthop (nft_rt) stays refused', () => {
    expect(run(table('rt type 0 drop', '', { family: 'inet' }), udp()).verdict).toBe(Verdict.Accept);
    expect(lint('table inet t {\n chain c {\n  rt nexthop 10.0.0.1 drop\n }\n}\n')).toEqual(['f.nft:3:3: rt (routing header / route metadata, nft_rt) is not modelled']);
  });

  it('ct zone: 0 for every entry (natsim puts none elsewhere); no entry ends the rule; ct zone set stays refused', () => {
    const t = table('ct zone @z accept\n drop', ' set z { typeof ct zone; elements = { 0, 2 } }', { family: 'inet' });
    expect(run(t, udp(), { ct: true }).verdict).toBe(Verdict.Accept);
    expect(run(t, udp(), { ct: false }).verdict).toBe(Verdict.Drop);
    expect(run(table('ct zone 1 accept\n drop', '', { family: 'inet' }), udp(), { ct: true }).verdict).toBe(Verdict.Drop);
    expect(lint('table inet t {\n map cz { typeof iifname : ct zone; elements = { "eth0" : 1 } }\n chain c {\n  ct zone set 1\n }\n}\n')).toEqual(['f.nft:4:6: ct zone set is not modelled (conntrack zones are not modelled: natsim keeps every entry in zone 0)']);
    expect(lint('table inet t {\n map h { type ipv4_addr : ct helper; }\n}\n')).toEqual(['f.nft:2:27: maps of ct objects are not modelled (natsim evaluates verdict maps and maps of values)']);
  });
});
