/**
 * The small x_tables matches: -m ttl (ttl_mt), -m nfacct (nfacct_mt), -m pkttype
 * (pkttype_mt, from the frame's destination as eth_type_trans set it), -m mac (mac_mt), each
 * read as iptables-save writes it and evaluated on packets; and what their checkentry refuses.
 */
import { describe, expect, it } from 'vitest';
import { Hook, Verdict } from '../../src/netfilter/constants.js';
import { ETH_P_IP } from '../../src/capture/link-layer.js';
import { errorOf } from './helpers.js';
import { ETH1, runChain, udp, xtTable } from './xt-helpers.js';

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
