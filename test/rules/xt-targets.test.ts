/**
 * The x_tables targets that let evaluation go on: NFLOG (nflog_tg with no nfnetlink_log
 * listener), CHECKSUM (checksum_tg completing a CHECKSUM_PARTIAL checksum), TCPMSS
 * (tcpmss_mangle_packet: rewrite, clamp to the route MTUs, add the option) and CT (--notrack,
 * --helper as xt_ct_set_helper checks it); and what their checkentry refuses.
 */
import { describe, expect, it } from 'vitest';
import { NetDevice } from '../../src/host/device.js';
import type { Route } from '../../src/host/fib.js';
import { Hook, IPPROTO, Verdict } from '../../src/netfilter/constants.js';
import { pseudoHeaderSum } from '../../src/packet/checksum.js';
import { buildTcp } from '../../src/packet/build.js';
import { Ipv4Packet, readU16, TcpFlag, writeU16 } from '../../src/packet/ipv4.js';
import type { L3Packet } from '../../src/packet/l3-packet.js';
import { conntrackWanted } from '../../src/netfilter/conntrack/netns.js';
import { errorOf, parse } from './helpers.js';
import { ipv6Frames } from '../ipv6/capture6.js';
import { parseIptablesSave } from '../../src/netfilter/rules/iptables-parser.js';
import { NFPROTO_IPV6 } from '../../src/netfilter/rules/model.js';
import { ETH0, ETH1, ip, LEGACY, runChain, udp, xtTable } from './xt-helpers.js';

const route = (dev: typeof ETH0): Route => ({ table: 254, type: 'unicast', dst: 0, prefixLen: 0, dev, gateway: 0, prefsrc: 0, metric: 0, scope: 0 });
const forward = { chain: 'FORWARD', hook: Hook.Forward, outdev: ETH0, route: route(ETH0), routeTo: () => route(ETH1) };

describe('NFLOG (xt_NFLOG.c nflog_tg)', () => {
  it('sends nothing without a listener on the group, says so, and lets the packet go on', () => {
    const t = xtTable('-A INPUT -j NFLOG --nflog-group 2 --nflog-prefix "L_DROP: " --nflog-size 123 --nflog-threshold 5\n-A INPUT -j DROP');
    const run = runChain(t, udp());
    expect(run.verdict).toBe(Verdict.Drop);
    expect(run.notes).toEqual(['NFLOG group 2 prefix "L_DROP: ": no nfnetlink_log listener bound to the group, nothing sent; the packet goes on (rule "-A INPUT -j NFLOG --nflog-group 2 --nflog-prefix "L_DROP: " --nflog-size 123 --nflog-threshold 5")']);
  });

  it('refuses a prefix longer than xt_nflog_info holds', () => {
    expect(errorOf(`*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j NFLOG --nflog-prefix ${'p'.repeat(64)}\nCOMMIT\n`)).toBe('r:3:19: --nflog-prefix takes at most 63 characters');
  });
});

describe('CHECKSUM (xt_CHECKSUM.c checksum_tg)', () => {
  const partial = (): Ipv4Packet => {
    const p = udp('192.168.122.1', '192.168.122.50', { sport: 67, dport: 68 });
    const d = p.data.slice();
    writeU16(d, 26, pseudoHeaderSum(p.saddr, p.daddr, IPPROTO.UDP, d.length - 20));
    return Ipv4Packet.decode(d) as Ipv4Packet;
  };
  const t = () => xtTable('-A POSTROUTING -o virbr0 -p udp -m udp --dport 68 -j CHECKSUM --checksum-fill', { table: 'mangle', chains: ['POSTROUTING'] });
  const post = { chain: 'POSTROUTING', hook: Hook.PostRouting, indev: null };

  it('completes a CHECKSUM_PARTIAL checksum, as skb_checksum_help does', () => {
    const p = partial();
    expect(p.csumPartial).toBe(true);
    const run = runChain(t(), p, { ...post, outdev: new NetDevice(4, 'virbr0') });
    expect(run.skb.pkt.csumPartial).toBe(false);
    expect(run.skb.pkt.checksumsValid()).toBe(true);
    expect(readU16(run.skb.pkt.data, 26)).toBe(readU16(udp('192.168.122.1', '192.168.122.50', { sport: 67, dport: 68 }).data, 26));
    expect(run.notes[0]).toMatch(/^CHECKSUM: partial UDP checksum completed/);
  });

  it('completes an IPv6 one over the IPv6 pseudo-header (ip6tables; a partial UDP datagram of the ip6-masq-router recording)', async () => {
    const frames = await ipv6Frames('fixtures/kernel/ip6-masq-router/capture.pcap');
    const p = frames.map((f) => f.pkt).find((x) => x.proto === IPPROTO.UDP && x.csumPartial)!;
    const sumAt = p.l4off + 6;
    const t6 = parseIptablesSave('*mangle\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -p udp -j CHECKSUM --checksum-fill\nCOMMIT\n', 'r', null, new Map(), NFPROTO_IPV6).tables[0]!;
    const run = runChain(t6, p, { ...post, outdev: ETH0 });
    expect(run.skb.pkt.csumPartial).toBe(false);
    expect(run.skb.pkt.checksumsValid()).toBe(true);
    // only the checksum changed: the partial sum (the pseudo-header's) became the full one
    expect(readU16(run.skb.pkt.data, sumAt)).not.toBe(readU16(p.data, sumAt));
    expect([...run.skb.pkt.data.subarray(0, sumAt)]).toEqual([...p.data.subarray(0, sumAt)]);
    expect([...run.skb.pkt.data.subarray(sumAt + 2)]).toEqual([...p.data.subarray(sumAt + 2)]);
    expect(run.notes[0]).toMatch(/^CHECKSUM: partial UDP checksum completed/);
  });

  it('is refused outside the mangle table, and without --checksum-fill', () => {
    expect(errorOf('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j CHECKSUM --checksum-fill\nCOMMIT\n')).toBe('r:3:13: CHECKSUM is only valid in the mangle table');
    expect(errorOf('*mangle\n:INPUT ACCEPT [0:0]\n-A INPUT -j CHECKSUM\nCOMMIT\n')).toBe('r:3:13: CHECKSUM needs --checksum-fill');
  });
});

describe('TCPMSS (xt_TCPMSS.c tcpmss_tg4)', () => {
  const syn = (mss: number | null) => buildTcp({ saddr: ip('10.0.0.1'), daddr: ip('192.168.1.2'), sport: 40000, dport: 80, seq: 1, ack: 0, flags: TcpFlag.SYN, window: 64240, ipId: 1, ttl: 63, payloadLength: 0, ...(mss === null ? {} : { syn: { mss, wscale: 7 } }) });
  const mssOf = (p: L3Packet) => readU16(p.data, p.l4off + 22);
  const clamp = (legacy = false) => xtTable('-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu', { legacy });

  it('clamps the MSS to the smaller route MTU less 40, with the checksum updated', () => {
    const run = runChain(clamp(), syn(65495), forward);
    expect(mssOf(run.skb.pkt)).toBe(1460);
    expect(run.skb.pkt.checksumsValid()).toBe(true);
    expect(run.notes).toEqual(['TCPMSS: MSS 65495 -> 1460']);
  });

  it('never raises it', () => {
    const run = runChain(xtTable('-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1400'), syn(1200), forward);
    expect(mssOf(run.skb.pkt)).toBe(1200);
    expect(run.notes).toEqual([]);
  });

  it('adds the option to a SYN without one: at most 536 (RFC 1122), 4 bytes longer, checksums right', () => {
    const before = syn(null);
    const run = runChain(clamp(), before, forward);
    const p = run.skb.pkt;
    expect(p.length).toBe(before.length + 4);
    expect(p.tcpHeaderLength).toBe(24);
    expect([...p.data.subarray(40, 44)]).toEqual([2, 4, 536 >> 8, 536 & 0xff]);
    expect(p.checksumsValid()).toBe(true);
  });

  it('is refused at INPUT with --clamp-mss-to-pmtu, and by x_tables without a SYN match', () => {
    expect(errorOf('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --syn -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n')).toBe('r:3:1: TCPMSS only works at forward, output, postrouting (this rule is reached from hook input)');
    expect(errorOf(`${LEGACY}*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -p tcp -j TCPMSS --set-mss 1400\nCOMMIT\n`)).toBe('r:4:22: TCPMSS only works on TCP SYN packets: the rule needs --syn or --tcp-flags with SYN compared');
    // nft_compat (iptables-nft) skips find_syn_match
    expect(xtTable('-A FORWARD -p tcp -j TCPMSS --set-mss 1400').chains.get('FORWARD')!.rules).toHaveLength(1);
    expect(errorOf('*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j TCPMSS --set-mss 1400\nCOMMIT\n')).toBe('r:3:15: TCPMSS is only valid with -p tcp');
  });
});

describe('CT (xt_CT.c)', () => {
  const raw = (rule: string) => `*raw\n:PREROUTING ACCEPT [0:0]\n${rule}\nCOMMIT\n`;

  it('leaves the packet untracked with --notrack', () => {
    const t = xtTable('-A PREROUTING -j CT --notrack', { table: 'raw', chains: ['PREROUTING'] });
    expect(runChain(t, udp(), { chain: 'PREROUTING', hook: Hook.PreRouting }).skb.untracked).toBe(true);
  });

  it('sets a helper the kernel has for the protocol, saying helpers are not modelled', () => {
    const t = xtTable('-A PREROUTING -p tcp -m tcp --dport 1723 -j CT --helper pptp', { table: 'raw', chains: ['PREROUTING'] });
    const run = runChain(t, syn1723(), { chain: 'PREROUTING', hook: Hook.PreRouting });
    expect(run.skb.untracked).toBe(false);
    expect(run.notes[0]).toMatch(/^CT: conntrack helper "pptp" set on the connection's template; natsim does not model helpers/);
  });

  it('refuses what xt_ct_tg_check refuses, and what natsim does not model', () => {
    expect(errorOf(raw('-A PREROUTING -j CT --helper ftp'))).toBe("r:3:18: CT --helper ftp: the kernel wants a layer-4 protocol (-p, not inverted) for a helper");
    expect(errorOf(raw('-A PREROUTING -p udp -j CT --helper ftp'))).toMatch(/^r:3:25: CT --helper ftp: the kernel has no such helper for this protocol/);
    expect(errorOf(raw('-A PREROUTING -j CT --zone 1'))).toBe('r:3:21: CT --zone: conntrack zones are not modelled by natsim');
    expect(errorOf('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j CT --notrack\nCOMMIT\n')).toBe('r:3:13: CT is only valid in the raw table');
  });
});

function syn1723(): Ipv4Packet {
  return buildTcp({ saddr: ip('10.0.0.1'), daddr: ip('192.168.1.2'), sport: 40000, dport: 1723, seq: 1, ack: 0, flags: TcpFlag.SYN, window: 64240, ipId: 1, ttl: 64, payloadLength: 0 });
}

describe('which x_tables modules make the namespace track connections (nf_ct_netns_get)', () => {
  const wanted = (rules: string, table = 'raw', chain = 'PREROUTING') => conntrackWanted(parse(`*${table}\n:${chain} ACCEPT [0:0]\n${rules}\nCOMMIT\n`).tables, []);

  it('CT with a helper or none does (xt_ct_tg_check), CT --notrack does not', () => {
    expect(wanted('-A PREROUTING -p tcp -m tcp --dport 21 -j CT --helper ftp')).toBe(true);
    expect(wanted('-A PREROUTING -j CT')).toBe(true);
    expect(wanted('-A PREROUTING -j CT --notrack')).toBe(false);
  });

  it('the rate, counting and header matches and NFLOG do not', () => {
    expect(wanted('-A INPUT -m limit --limit 1/s -m hashlimit --hashlimit-upto 1/s --hashlimit-name t -m nfacct --nfacct-name n -m ttl --ttl-eq 1 -j NFLOG', 'filter', 'INPUT')).toBe(false);
  });
});
