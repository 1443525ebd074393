/**
 * The small x_tables matches: -m ttl (ttl_mt), -m nfacct (nfacct_mt), -m pkttype
 * (pkttype_mt, from the frame's destination as eth_type_trans set it), -m mac (mac_mt), each
 * read as iptables-save writes it and evaluated on packets; and what their checkentry refuses.
 */
import { describe, expect, it } from 'vitest';
import { Hook, Verdict } from '../../src/netfilter/constants.js';
import { ETH_P_IP } from '../../src/capture/link-layer.js';
import { Ipv4Packet } from '../../src/packet/ipv4.js';
import { errorOf, parse } from './helpers.js';
import { buildIcmpEcho } from '../../src/packet/build.js';
import { Ipv6Packet } from '../../src/packet/ipv6.js';
import { Fib6, parseRoute6 } from '../../src/ipv6/route.js';
import { parseInet6Ifaddr, type Inet6Ifaddr } from '../../src/ipv6/addrconf.js';
import { ETH1, ip, runChain, udp, udp6, xt6Table, xtTable } from './xt-helpers.js';

const verdictOf = (rules: string, o: Parameters<typeof runChain>[2] = {}, ttl = 64) => runChain(xtTable(rules, { policy: 'DROP' }), udp('10.0.0.1', '192.168.1.2', { ttl }), o).verdict;

describe('-m ttl (xt_ttl.c ttl_mt)', () => {
  it.each([
    ['--ttl-eq 64', 64, true],
    ['--ttl-eq 64', 63, false],
    ['! --ttl-eq 64', 63, true],
    ['--ttl-lt 64', 63, true],
    ['--ttl-lt 64', 64, false],
    ['--ttl-gt 1', 2, true],
    ['--ttl-gt 1', 1, false],
  ] as const)('%s on TTL %i: %s', (opt, ttl, match) => {
    expect(verdictOf(`-A INPUT -m ttl ${opt} -j ACCEPT`, {}, ttl)).toBe(match ? Verdict.Accept : Verdict.Drop);
  });

  it('refuses what libxt_ttl refuses', () => {
    const save = (opts: string) => `*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m ttl ${opts} -j ACCEPT\nCOMMIT\n`;
    expect(errorOf(save('! --ttl-lt 3'))).toBe('r:3:19: -m ttl cannot invert --ttl-lt');
    expect(errorOf(save('--ttl-eq 256'))).toBe("r:3:17: --ttl-eq needs a whole number from 0 to 255, got '256'");
    expect(errorOf(save('--ttl-eq 1 --ttl-gt 2'))).toBe('r:3:28: -m ttl takes only one of --ttl-eq, --ttl-lt or --ttl-gt');
    expect(errorOf(save(''))).toBe('r:3:13: -m ttl needs one of --ttl-eq, --ttl-lt or --ttl-gt');
  });
});

describe('-m hl in ip6tables (xt_hl.c hl_mt6), -m ttl in iptables only', () => {
  it.each([
    ['--hl-eq 64', 64, true],
    ['! --hl-eq 64', 64, false],
    ['--hl-lt 64', 63, true],
    ['--hl-gt 64', 64, false],
  ] as const)('%s on hop limit %i: %s', (opt, hopLimit, match) => {
    const t = xt6Table(`-A INPUT -m hl ${opt} -j ACCEPT`, { policy: 'DROP' });
    expect(runChain(t, udp6('fd00:1::1', 'fd00:2::2', { hopLimit })).verdict).toBe(match ? Verdict.Accept : Verdict.Drop);
  });

  it('refuses each module in the other family, where the kernel has none of that name', () => {
    expect(() => xt6Table('-A INPUT -m ttl --ttl-eq 64 -j ACCEPT')).toThrow("r:5:13: -m ttl exists for iptables only (the kernel registers it for that family alone; ip6tables has -m hl)");
    expect(errorOf('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m hl --hl-eq 64 -j ACCEPT\nCOMMIT\n')).toBe("r:3:13: -m hl exists for ip6tables only (the kernel registers it for that family alone; iptables has -m ttl)");
  });
});

describe('-m nfacct (xt_nfacct.c nfacct_mt)', () => {
  it('counts packets and bytes in the object of the name, shared by the rules naming it, and always matches', () => {
    const t = xtTable(['-A INPUT -p udp --dport 53 -m nfacct --nfacct-name dns -j ACCEPT', '-A INPUT -m nfacct --nfacct-name dns'].join('\n'), { policy: 'DROP' });
    expect(runChain(t, udp()).notes).toEqual(['NFACCT dns: pkts 1 bytes 32 (rule "-A INPUT -p udp --dport 53 -m nfacct --nfacct-name dns -j ACCEPT")']);
    const second = runChain(t, udp('10.0.0.1', '192.168.1.2', { dport: 54 }));
    expect(second.verdict).toBe(Verdict.Drop);
    expect(second.notes).toEqual(['NFACCT dns: pkts 2 bytes 64 (rule "-A INPUT -m nfacct --nfacct-name dns")']);
  });

  it('refuses a name longer than NFACCT_NAME_MAX allows', () => {
    expect(errorOf(`*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m nfacct --nfacct-name ${'x'.repeat(32)}\nCOMMIT\n`)).toMatch(/^r:3:20: --nfacct-name needs 1 to 31 characters/);
  });
});

describe('-m pkttype (xt_pkttype.c pkttype_mt)', () => {
  const frame = (dest: number[]) => ({ dest: new Uint8Array(dest), source: new Uint8Array([2, 0, 0, 0, 0, 1]), proto: ETH_P_IP });

  it.each([
    ['broadcast', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], true],
    ['broadcast', [1, 0, 0x5e, 0, 0, 1], false],
    ['multicast', [1, 0, 0x5e, 0, 0, 1], true],
    ['unicast', [2, 0, 0, 0, 0, 0xe1], true],
    ['unicast', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], false],
  ] as const)('--pkt-type %s on a frame to %j: %s', (type, dest, match) => {
    expect(verdictOf(`-A INPUT -m pkttype --pkt-type ${type} -j ACCEPT`, { mac: frame([...dest]) })).toBe(match ? Verdict.Accept : Verdict.Drop);
  });

  it('sees a packet without a received frame (made here, or come over a link) as PACKET_HOST', () => {
    expect(verdictOf('-A INPUT -m pkttype ! --pkt-type unicast -j DROP\n-A INPUT -j ACCEPT', { indev: null })).toBe(Verdict.Accept);
  });
});

describe('-m mac (xt_mac.c mac_mt)', () => {
  const from = (source: number[]) => ({ mac: { dest: ETH1.mac, source: new Uint8Array(source), proto: ETH_P_IP } });
  const rules = '-A INPUT -m mac --mac-source 00:00:f1:05:a0:e0 -j ACCEPT';

  it('matches the source address of the received Ethernet header', () => {
    expect(verdictOf(rules, from([0, 0, 0xf1, 5, 0xa0, 0xe0]))).toBe(Verdict.Accept);
    expect(verdictOf(rules, from([0, 0, 0xf1, 5, 0xa0, 0xe1]))).toBe(Verdict.Drop);
    expect(verdictOf('-A INPUT -m mac ! --mac-source 00:00:f1:05:a0:e0 -j ACCEPT', from([0, 0, 0xf1, 5, 0xa0, 0xe1]))).toBe(Verdict.Accept);
  });

  it('never matches a packet without a header, inverted or not', () => {
    expect(verdictOf('-A INPUT -m mac ! --mac-source 00:00:f1:05:a0:e0 -j ACCEPT', { mac: null })).toBe(Verdict.Drop);
  });

  it('is refused where xt_mac is not registered (OUTPUT, POSTROUTING)', () => {
    expect(errorOf('*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -m mac --mac-source 00:00:f1:05:a0:e0 -j ACCEPT\nCOMMIT\n')).toBe('r:3:1: -m mac only works at prerouting, input, forward (this rule is reached from hook output)');
  });

  it('is evaluated at PRE_ROUTING too', () => {
    const t = xtTable(rules.replace('INPUT', 'PREROUTING'), { policy: 'DROP', table: 'raw', chains: ['PREROUTING'] });
    expect(runChain(t, udp(), { chain: 'PREROUTING', hook: Hook.PreRouting, ...from([0, 0, 0xf1, 5, 0xa0, 0xe0]) }).verdict).toBe(Verdict.Accept);
  });
});

describe('-m length (xt_length.c length_mt)', () => {
  it.each([
    ['--length 32', true],
    ['--length 0:31', false],
    ['--length 32:', true],
    [':100', true],
    ['! --length 1:40', false],
  ] as const)('%s on a 32-byte datagram: %s', (opt, match) => {
    const option = opt.startsWith(':') ? `--length ${opt}` : opt;
    expect(verdictOf(`-A INPUT -m length ${option} -j ACCEPT`)).toBe(match ? Verdict.Accept : Verdict.Drop);
  });

  it('refuses a range the wrong way round', () => {
    expect(errorOf('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m length --length 100:10\nCOMMIT\n')).toBe("r:3:20: bad --length '100:10' (N or N:M, 0 to 65535)");
  });
});

describe('-m dscp and -m tos (xt_dscp.c dscp_mt, tos_mt)', () => {
  const withTos = (tos: number) => {
    const p = udp();
    const d = p.data.slice();
    d[1] = tos;
    return Ipv4Packet.decode(d) as Ipv4Packet;
  };
  const run = (rule: string, tos: number) => runChain(xtTable(rule, { policy: 'DROP' }), withTos(tos)).verdict;

  it('compares the upper six bits with --dscp and --dscp-class', () => {
    expect(run('-A INPUT -m dscp --dscp 0x2e -j ACCEPT', 0xb8)).toBe(Verdict.Accept);
    expect(run('-A INPUT -m dscp --dscp-class EF -j ACCEPT', 0xb9)).toBe(Verdict.Accept);
    expect(run('-A INPUT -m dscp ! --dscp 0x2e -j ACCEPT', 0xb8)).toBe(Verdict.Drop);
  });

  it('compares tos & mask with --tos, symbolic values under the mask 0x3f', () => {
    expect(run('-A INPUT -m tos --tos 0x10/0x3f -j ACCEPT', 0xd0)).toBe(Verdict.Accept);
    expect(run('-A INPUT -m tos --tos Minimize-Delay -j ACCEPT', 0x10)).toBe(Verdict.Accept);
    expect(run('-A INPUT -m tos --tos 0x10 -j ACCEPT', 0xd0)).toBe(Verdict.Drop);
  });

  it('reads the traffic class of an IPv6 packet (dscp_mt6, ipv6_get_dsfield), split across its first two bytes', () => {
    // traffic class 0xb8 (DSCP EF): version 6 and 0xb in byte 0, 0x8 and the flow label's top in byte 1
    const p = udp6();
    const d = p.data.slice();
    d[0] = 0x6b;
    d[1] = 0x85;
    const ef = Ipv6Packet.adopt(d) as Ipv6Packet;
    const run6 = (rule: string) => runChain(xt6Table(rule, { policy: 'DROP' }), ef).verdict;
    expect(run6('-A INPUT -m dscp --dscp-class EF -j ACCEPT')).toBe(Verdict.Accept);
    expect(run6('-A INPUT -m tos --tos 0xb8/0xff -j ACCEPT')).toBe(Verdict.Accept);
    expect(run6('-A INPUT -m dscp --dscp 0x21 -j ACCEPT')).toBe(Verdict.Drop);
  });
});

describe('-m owner (xt_owner.c owner_mt)', () => {
  const out = (rule: string, appSocket: boolean) => {
    const t = xtTable(rule.replace('INPUT', 'OUTPUT'), { policy: 'DROP' });
    return runChain(t, udp(), { chain: 'OUTPUT', hook: Hook.LocalOut, indev: null, outdev: ETH1, appSocket }).verdict;
  };

  it("matches the sending application's uid and gid (natsim's applications run as root)", () => {
    expect(out('-A INPUT -m owner --uid-owner 0 -j ACCEPT', true)).toBe(Verdict.Accept);
    expect(out('-A INPUT -m owner --uid-owner root --gid-owner 0 -j ACCEPT', true)).toBe(Verdict.Accept);
    expect(out('-A INPUT -m owner --uid-owner 1000-2000 -j ACCEPT', true)).toBe(Verdict.Drop);
    expect(out('-A INPUT -m owner ! --uid-owner 0 -j ACCEPT', true)).toBe(Verdict.Drop);
  });

  it('matches a packet without an application socket only where every condition is inverted', () => {
    expect(out('-A INPUT -m owner --uid-owner 0 -j ACCEPT', false)).toBe(Verdict.Drop);
    expect(out('-A INPUT -m owner ! --uid-owner 0 -j ACCEPT', false)).toBe(Verdict.Accept);
    expect(out('-A INPUT -m owner ! --uid-owner 0 --gid-owner 0 -j ACCEPT', false)).toBe(Verdict.Drop);
  });

  it('is refused at INPUT, and with --socket-exists', () => {
    expect(errorOf('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m owner --uid-owner 0 -j ACCEPT\nCOMMIT\n')).toBe('r:3:1: -m owner only works at output, postrouting (this rule is reached from hook input)');
    expect(errorOf('*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -m owner --socket-exists -j ACCEPT\nCOMMIT\n')).toMatch(/^r:3:20: -m owner --socket-exists is not modelled/);
  });
});

describe('-m icmp --icmp-type names (libxt_icmp icmp_codes)', () => {
  const ping = () => buildIcmpEcho({ saddr: ip('10.0.0.1'), daddr: ip('192.168.1.2'), ipId: 1, ttl: 64, type: 8, echoId: 1, seq: 1, payload: new Uint8Array(8) });
  const run = (type: string) => runChain(xtTable(`-A INPUT -p icmp -m icmp --icmp-type ${type} -j ACCEPT`, { policy: 'DROP' }), ping()).verdict;

  it('takes names, aliases and unambiguous beginnings; any matches every type', () => {
    expect(run('echo-request')).toBe(Verdict.Accept);
    expect(run('ping')).toBe(Verdict.Accept);
    expect(run('echo-req')).toBe(Verdict.Accept);
    expect(run('any')).toBe(Verdict.Accept);
    expect(run('8/0')).toBe(Verdict.Accept);
    expect(run('pong')).toBe(Verdict.Drop);
  });

  it('refuses an ambiguous beginning, as libxt_icmp does', () => {
    expect(errorOf('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p icmp -m icmp --icmp-type host-un -j ACCEPT\nCOMMIT\n')).toBe("r:3:26: ambiguous ICMP type 'host-un': host-unreachable or host-unknown?");
  });
});

describe('-m addrtype and nft fib type on IPv6 (xt_addrtype.c match_type6, __nft_fib6_eval_type)', () => {
  // the router's eth1: fd00:3::254/64 (a local route for the address, the /64 on-link), and a blackhole
  const fib = new Fib6();
  fib.addAddressRoutes(ETH1, parseInet6Ifaddr('fd00:3::254/64 nodad') as Inet6Ifaddr);
  fib.add(parseRoute6('blackhole fd00:99::/64', [ETH1]));
  const to = (daddr: string) => udp6('fd00:3::1', daddr);
  const routeTo = (addr: number) => fib.lookup(addr);
  const xt6 = (types: string, daddr: string) => runChain(xt6Table(`-A INPUT -m addrtype --dst-type ${types} -j ACCEPT`, { policy: 'DROP' }), to(daddr), { routeTo }).verdict === Verdict.Accept;

  it('LOCAL by the route: the router’s own address, not another of its /64 (which the IPv4 FIB never knew)', () => {
    expect(xt6('LOCAL', 'fd00:3::254')).toBe(true);
    expect(xt6('LOCAL', 'fd00:3::1')).toBe(false);
    expect(xt6('UNICAST', 'fd00:3::1')).toBe(true);
    expect(xt6('MULTICAST', 'ff02::1')).toBe(true);
  });

  it('the conditions all hold (UNICAST and LOCAL), the subnet-router anycast and a reject route by the route', () => {
    expect(xt6('UNICAST,LOCAL', 'fd00:3::254')).toBe(true);
    expect(xt6('MULTICAST,LOCAL', 'fd00:3::254')).toBe(false);
    expect(xt6('ANYCAST', 'fd00:3::')).toBe(true);
    expect(xt6('UNREACHABLE', 'fd00:99::1')).toBe(true);
    expect(xt6('UNREACHABLE', 'fd00:3::1')).toBe(false);
  });

  it('nft fib daddr type: the one type of the address', () => {
    const nft = (type: string, daddr: string) => {
      const t = parse(`table ip6 t {\n chain c { type filter hook input priority 0; policy drop;\n  fib daddr type ${type} accept\n }\n}`).tables[0]!;
      return runChain(t, to(daddr), { chain: 'c', routeTo }).verdict === Verdict.Accept;
    };
    expect(nft('local', 'fd00:3::254')).toBe(true);
    expect(nft('local', 'fd00:3::1')).toBe(false);
    expect(nft('unicast', 'fd00:3::1')).toBe(true);
    expect(nft('unicast', 'fd00:3::254')).toBe(false);
    expect(nft('blackhole', 'fd00:99::1')).toBe(true);
  });

  it('refuses what addrtype_mt_checkentry refuses for IPv6', () => {
    expect(() => xt6Table('-A INPUT -m addrtype --dst-type BROADCAST -j ACCEPT')).toThrow('r:5:22: --dst-type: the kernel refuses BROADCAST, BLACKHOLE and PROHIBIT matching for IPv6 (addrtype_mt_checkentry)');
  });
});

describe('nft meta pkttype on IPv6', () => {
  it('multicast for a multicast destination, host otherwise (no broadcast in IPv6)', () => {
    const t = parse('table ip6 t {\n chain c { type filter hook input priority 0; policy drop;\n  meta pkttype multicast accept\n }\n}').tables[0]!;
    expect(runChain(t, udp6('fd00:3::1', 'ff02::1'), { chain: 'c' }).verdict).toBe(Verdict.Accept);
    expect(runChain(t, udp6('fd00:3::1', 'fd00:3::254'), { chain: 'c' }).verdict).toBe(Verdict.Drop);
  });
});
