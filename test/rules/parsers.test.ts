/**
 * The two rule front-ends: the kernel recordings' own `nft list ruleset` and `iptables-save`
 * texts must give the same model, the syntax users paste must be read, and everything else
 * must be refused with the line and column of the offending token.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { Hook, Priority } from '../../src/netfilter/constants.js';
import { NatFlag, NFPROTO_IPV4, tablesOfFamily, type Match, type Ruleset } from '../../src/netfilter/rules/model.js';
import { parseRuleset } from '../../src/netfilter/rules/parse.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';

function parse(text: string, file = 'rules.txt'): Ruleset {
  return parseRuleset({ text, file, lineOffset: 0, colOffset: 0 });
}

function errorOf(text: string): { line?: number; col?: number; reason: string } {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof InputError) return { line: e.place.line, col: e.place.col, reason: e.reason };
    throw e;
  }
  throw new Error('no error');
}

/** The parts of a ruleset that decide what happens to packets, for comparing front-ends. */
function essence(r: Ruleset) {
  return r.tables.map((t) => ({
    chains: [...t.chains.values()].map((c) => ({ name: c.name, base: c.base, rules: c.rules.map((x) => ({ matches: x.matches, action: x.action })) })),
  }));
}

const kernelCase = (name: string, file: string): string => readFileSync(`fixtures/kernel/${name}/${file}`, 'utf8');

describe('the kernel recordings’ rulesets', () => {
  it.each(['masq-to-ports-multi-ip', 'port-range-exhaustion-udp', 'snat-fixed-port-clash'])('%s: nft list ruleset and iptables-save give the same rules', (name) => {
    const nft = parse(kernelCase(name, 'nft-ruleset.txt'));
    const ipt = parse(kernelCase(name, 'iptables-save.txt'));
    const post = (r: Ruleset) => essence(r)[0]!.chains.find((c) => c.name === 'POSTROUTING')!;
    // iptables says -p tcp where nft's `tcp dport` implies it (nft adds the l4proto check itself).
    const implied = (m: Match, all: readonly Match[]) => m.kind === 'l4proto' && all.some((o) => (o.kind === 'sport' || o.kind === 'dport') && m.protos.length === 1 && o.proto === m.protos[0] && !m.negate);
    const normalise = (c: ReturnType<typeof post>) =>
      c.rules.map((r) => ({ ...r, matches: r.matches.filter((m) => !implied(m, r.matches)).sort((a, b) => a.kind.localeCompare(b.kind)) }));
    expect(normalise(post(nft))).toEqual(normalise(post(ipt)));
    expect(post(nft).base).toEqual(post(ipt).base);
    expect(post(nft).base).toEqual({ type: 'nat', hook: Hook.PostRouting, priority: Priority.NatSrc, policy: 'accept' });
  });

  it('reads MASQUERADE --to-ports as a port range with PROTO_SPECIFIED', () => {
    const rule = parse(kernelCase('masq-to-ports-multi-ip', 'iptables-save.txt')).tables[0]!.chains.get('POSTROUTING')!.rules[0]!;
    expect(rule.action).toEqual({ kind: 'masquerade', range: { flags: NatFlag.ProtoSpecified, minAddr: 0, maxAddr: 0, minProto: 55666, maxProto: 55680, baseProto: 0 } });
    expect(rule.matches).toContainEqual({ kind: 'oifname', negate: true, name: 'docker0', prefix: false });
    expect(rule.place).toEqual({ file: 'rules.txt', line: 7, col: 1 });
  });

  it('reads snat to ADDR:PORT-PORT with MAP_IPS and PROTO_SPECIFIED', () => {
    const rule = parse(kernelCase('port-range-exhaustion-udp', 'nft-ruleset.txt')).tables[0]!.chains.get('POSTROUTING')!.rules[0]!;
    const a = parseIpv4('192.168.206.250')!;
    expect(rule.action).toEqual({ kind: 'snat', range: { flags: NatFlag.MapIps | NatFlag.ProtoSpecified, minAddr: a, maxAddr: a, minProto: 50000, maxProto: 50003, baseProto: 0 } });
  });
});

describe('nft syntax', () => {
  it('takes named priorities with offsets, policies, sets, ranges, wildcards and flags', () => {
    const r = parse(`
      table inet t {
        chain pre { type nat hook prerouting priority dstnat - 5; policy accept; }
        chain post {
          type nat hook postrouting priority srcnat + 10; policy accept;
          meta nftrace set 1
          iifname "veth*" ip daddr != { 10.0.0.0/8, 192.168.0.0/16 } tcp dport { 80, 8000-8080 } counter packets 3 bytes 180 masquerade to :1024-2047 random,persistent comment "k8s"
          jump more
        }
        chain more { udp sport 53 return; ip protocol icmp snat ip to 1.2.3.4-1.2.3.9 fully-random }
        chain fwd { type filter hook forward priority filter; policy drop; }
      }`);
    const t = r.tables[0]!;
    expect(t.family).toBe('inet');
    expect(t.chains.get('pre')!.base!.priority).toBe(-105);
    expect(t.chains.get('post')!.base!.priority).toBe(110);
    expect(t.chains.get('fwd')!.base).toEqual({ type: 'filter', hook: Hook.Forward, priority: 0, policy: 'drop' });
    const [trace, masq, jump] = t.chains.get('post')!.rules;
    expect(trace).toMatchObject({ matches: [], action: null, text: 'meta nftrace set 1' });
    expect(masq!.matches).toEqual([
      { kind: 'iifname', negate: false, name: 'veth', prefix: true },
      { kind: 'daddr', negate: true, prefixes: [{ addr: parseIpv4('10.0.0.0'), len: 8 }, { addr: parseIpv4('192.168.0.0'), len: 16 }] },
      { kind: 'dport', negate: false, proto: 6, ranges: [{ min: 80, max: 80 }, { min: 8000, max: 8080 }] },
    ]);
    expect(masq!.action).toMatchObject({ kind: 'masquerade', range: { flags: NatFlag.ProtoSpecified | NatFlag.ProtoRandom | NatFlag.Persistent, minProto: 1024, maxProto: 2047 } });
    expect(jump!.action).toEqual({ kind: 'jump', chain: 'more' });
    const [ret, snat] = t.chains.get('more')!.rules;
    expect(ret!.action).toEqual({ kind: 'return' });
    expect(snat!.action).toMatchObject({ kind: 'snat', range: { flags: NatFlag.MapIps | NatFlag.ProtoRandomFully, minAddr: parseIpv4('1.2.3.4'), maxAddr: parseIpv4('1.2.3.9') } });
  });

  it('takes nft -f command form and flush ruleset, and keeps ip6 tables off the IPv4 hooks', () => {
    const r = parse(`flush ruleset
add table ip nat
add chain ip nat POSTROUTING { type nat hook postrouting priority 100 ; policy accept ; }
add rule ip nat POSTROUTING oifname "eth0" masquerade
insert rule ip nat POSTROUTING ip saddr 10.0.0.1 accept
table ip6 nat { chain x { type nat hook postrouting priority 100; ip6 saddr ::1 masquerade } }
add rule ip6 nat x ip6 saddr ::2 masquerade
`);
    expect(r.tables.map((t) => t.family)).toEqual(['ip', 'ip6']);
    expect(r.tables[1]!.chains.get('x')!.rules).toHaveLength(2);
    const ipv4 = tablesOfFamily(r, NFPROTO_IPV4);
    expect(ipv4.map((t) => t.family)).toEqual(['ip']);
    expect(ipv4[0]!.chains.get('POSTROUTING')!.rules.map((x) => x.action?.kind)).toEqual(['accept', 'masquerade']);
  });

  it.each([
    ['table ip t { chain c { type nat hook postrouting priority srcnat; ip saddr 10.0.0.300 masquerade } }', 1, 76, "bad IPv4 address or prefix '10.0.0.300'"],
    ['table ip t {\n chain c {\n  type nat hook postrouting priority srcnat;\n  tproxy to :1\n }\n}', 4, 3, 'tproxy (transparent proxying to a local socket, nft_tproxy) is not modelled'],
    ['table ip t { chain c { type filter hook input priority 0; ct helper "ftp" accept } }', 1, 62, 'ct helper is not modelled (natsim reads ct state|status|direction|mark|l3proto|protocol|expiration|zone)'],
    ['table ip t { chain c { type nat hook forward priority 0; } }', 1, 38, 'nat chains cannot hook forward (the kernel has no NAT op there)'],
    ['table ip t { chain c { type nat hook prerouting priority dstnat; masquerade } }', 1, 66, 'masquerade only works at postrouting (this rule is reached from hook prerouting)'],
    ['table ip t { chain c { type filter hook input priority 0; jump d }\n chain d { snat to 1.2.3.4 } }', 2, 12, 'snat only works in a nat chain (this rule is reached from a filter chain)'],
    ['table ip t { chain c { type filter hook input priority 0; jump d }\n chain d { jump c } }', 2, 12, "cannot jump to base chain 'c'"],
    ['table ip t { chain c { type filter hook input priority 0; jump d }\n chain d { jump e }\n chain e { goto d } }', 3, 12, "jump to 'd' makes a loop (c → d → e → d)"],
    ['table ip t { chain c { type filter hook input priority 0; jump nowhere } }', 1, 59, "no chain 'nowhere' in table ip t"],
    ['table ip t { chain c { type nat hook postrouting priority srcnat; snat to 1.2.3.4:9-8 } }', 1, 75, "bad port or port range '9-8'"],
    ['table ip t { chain c { type nat hook postrouting priority srcnat; masquerade to 1.2.3.4 } }', 1, 81, 'masquerade takes only ports: to :PORT[-PORT]'],
    ['table ip t { chain c { type nat hook postrouting priority sideways; } }', 1, 59, "bad priority 'sideways' (a number, or raw, mangle, dstnat, filter, security, srcnat with an optional +/- N)"],
    ['table ip t { chain c { accept drop } }', 1, 31, "nothing may follow a verdict or NAT statement (found 'drop')"],
    ['table netdev t { }', 1, 7, 'family netdev is not modelled by natsim (its hooks see IPv4 packets before routing)'],
    ['table ip t { chain c { iifname "eth0 } }', 1, 32, 'unterminated string'],
    ['table ip t { chain c {', 1, 23, "chain c is missing its '}'"],
  ])('refuses %j at %i:%i', (text, line, col, reason) => {
    expect(errorOf(text)).toEqual({ line, col, reason });
  });
});

describe('iptables-save syntax', () => {
  const save = (rules: string, chains = '') => `*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n${chains}${rules}\nCOMMIT\n`;

  it('builds the nat and filter tables at the iptables-nft priorities', () => {
    const r = parse(save('') + '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [5:300]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n');
    const bases = r.tables.flatMap((t) => [...t.chains.values()].map((c) => `${t.name} ${c.name} ${c.base!.priority} ${c.base!.policy}`));
    expect(bases).toEqual(['nat PREROUTING -100 accept', 'nat INPUT 100 accept', 'nat OUTPUT -100 accept', 'nat POSTROUTING 100 accept', 'filter INPUT 0 accept', 'filter FORWARD 0 drop', 'filter OUTPUT 0 accept']);
  });

  it('reads kube-proxy style rules: user chains, multiport, comments, masks, negation, DNAT', () => {
    const r = parse(
      save(
        [
          '[7:420] -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
          '-A KUBE-SERVICES -d 10.96.0.10/255.255.255.255 -p udp -m udp --dport 53 -j KUBE-SVC-DNS',
          '-A KUBE-SVC-DNS ! -s 10.244.0.0/16 -p udp -m multiport --dports 53,5300:5310 -j DNAT --to-destination 10.244.1.5:53',
          '-A POSTROUTING -o eth+ -p tcp -j SNAT --to-source 1.2.3.4-1.2.3.6:1000-2000 --random-fully --persistent',
          '-A OUTPUT -g KUBE-SERVICES',
        ].join('\n'),
        ':KUBE-SERVICES - [0:0]\n:KUBE-SVC-DNS - [0:0]\n',
      ),
    );
    const nat = r.tables[0]!;
    expect(nat.chains.get('PREROUTING')!.rules[0]!.action).toEqual({ kind: 'jump', chain: 'KUBE-SERVICES' });
    expect(nat.chains.get('KUBE-SERVICES')!.rules[0]!.matches).toContainEqual({ kind: 'daddr', negate: false, prefixes: [{ addr: parseIpv4('10.96.0.10'), len: 32 }] });
    const dnat = nat.chains.get('KUBE-SVC-DNS')!.rules[0]!;
    expect(dnat.matches).toContainEqual({ kind: 'saddr', negate: true, prefixes: [{ addr: parseIpv4('10.244.0.0'), len: 16 }] });
    expect(dnat.matches).toContainEqual({ kind: 'dport', negate: false, proto: 17, ranges: [{ min: 53, max: 53 }, { min: 5300, max: 5310 }] });
    expect(dnat.action).toMatchObject({ kind: 'dnat', range: { flags: NatFlag.MapIps | NatFlag.ProtoSpecified, minAddr: parseIpv4('10.244.1.5'), minProto: 53, maxProto: 53 } });
    const [snat] = nat.chains.get('POSTROUTING')!.rules;
    const [go] = nat.chains.get('OUTPUT')!.rules;
    expect(snat!.matches).toContainEqual({ kind: 'oifname', negate: false, name: 'eth', prefix: true });
    expect(snat!.action).toMatchObject({ kind: 'snat', range: { flags: NatFlag.MapIps | NatFlag.ProtoSpecified | NatFlag.ProtoRandomFully | NatFlag.Persistent, minProto: 1000, maxProto: 2000 } });
    expect(go!.action).toEqual({ kind: 'goto', chain: 'KUBE-SERVICES' });
  });

  it.each([
    [save('-A PREROUTING -j TPROXY --on-port 1'), 6, 18, "'TPROXY' is neither a declared chain nor a target natsim evaluates (ACCEPT, DROP, RETURN, MASQUERADE, SNAT, DNAT, REDIRECT, REJECT, MARK, CONNMARK, LOG, TRACE, NOTRACK, NFLOG, CHECKSUM, TCPMSS, CT)"],
    [save('-A POSTROUTING -m connbytes --connbytes 10 -j ACCEPT'), 6, 19, "match module 'connbytes' is not supported yet (natsim evaluates tcp, udp, multiport, comment, statistic, recent, mark, connmark, state, addrtype, set, physdev, icmp, icmp6, conntrack, limit, hashlimit, iprange, nfacct, ttl, hl, pkttype, quota, rpfilter, mac, length, dscp, tos, owner, tcpmss, string, time)"],
    [save('-A POSTROUTING -m hashlimit --hashlimit-upto 1/sec -j ACCEPT'), 6, 19, '-m hashlimit needs --hashlimit-name'],
    [save('-A POSTROUTING --dport 80 -j MASQUERADE'), 6, 16, '--dport needs -p tcp or -p udp'],
    [save('-A POSTROUTING -j MASQUERADE --to-ports 1000-2000'), 6, 41, 'a port range needs -p tcp, udp, sctp or dccp'],
    [save('-A PREROUTING -s 10.0.0.0/33 -j ACCEPT'), 6, 18, "bad address '10.0.0.0/33' (expected A.B.C.D[/LEN or /MASK])"],
    [save('-A NOPE -j ACCEPT'), 6, 4, "chain 'NOPE' is not declared in table nat"],
    [save('-A PREROUTING -j MASQUERADE'), 6, 1, 'masquerade only works at postrouting (this rule is reached from hook prerouting)'],
    [save('-A POSTROUTING -s'), 6, 16, 'option -s needs a value'],
    [save('-A POSTROUTING -p tcp !'), 6, 23, "'!' at the end of the rule negates nothing"],
    ['*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -j ACCEPT\n', 1, 1, 'table nat is not closed by COMMIT'],
    ['*broute\nCOMMIT\n', 1, 2, "unknown table 'broute' (raw, mangle, nat, filter, security)"],
    ['*nat\n:FOO ACCEPT [0:0]\nCOMMIT\n', 2, 1, "FOO is not a built-in chain of table nat, so its policy must be '-'"],
  ])('refuses bad input (%#)', (text, line, col, reason) => {
    expect(errorOf(text)).toEqual({ line, col, reason });
  });
});

describe('malformed rule text', () => {
  const seedTexts = [kernelCase('masq-to-ports-multi-ip', 'nft-ruleset.txt'), kernelCase('masq-to-ports-multi-ip', 'iptables-save.txt')];

  it('never crashes: every mutation parses or fails with an InputError that has a line', () => {
    fc.assert(
      fc.property(fc.constantFrom(...seedTexts), fc.nat(), fc.nat({ max: 8 }), fc.string({ maxLength: 6 }), (text, at, cut, insert) => {
        const i = at % (text.length + 1);
        const mutated = text.slice(0, i) + insert + text.slice(i + cut);
        try {
          parse(mutated);
        } catch (e) {
          expect(e).toBeInstanceOf(InputError);
          expect((e as InputError).place.line).toBeGreaterThanOrEqual(1);
        }
      }),
      { seed: 20261125, numRuns: 2000 },
    );
  });
});
