/**
 * xtables-monitor --trace's text for the cases log-trace-nft does not cover, as iptables 1.8.9
 * printed them on this machine for a ping and a UDP datagram with IP options sent to 127.0.0.1
 * through iptables-nft rules (a user chain's RETURN, a goto, DROP, the loopback link header, IP
 * options, the mark); the trace ids are natsim's own.
 */
import { describe, expect, it } from 'vitest';
import type { Rule, VerdictAction } from '../../src/netfilter/rules/model.js';
import { tracedHeaders, type NftTraceEvent, type NftTracePacket } from '../../src/netfilter/rules/nft-trace.js';
import { NFPROTO_IPV4, NFPROTO_IPV6 } from '../../src/netfilter/rules/model.js';
import { xtablesMonitorLines } from '../../src/trace/xtables-monitor.js';

const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
const rule = (text: string, handle: number): Rule => ({ matches: [], effects: [], action: null, place: { file: 'r' }, text, handle });

function event(over: Partial<NftTraceEvent> & { verdict: VerdictAction }): NftTraceEvent {
  return { id: 0x94c950c8, source: 'iptables-nft', family: 'ip', table: 'filter', chain: 'OUTPUT', type: 'rule', rule: null, mark: 0, packet: null, ...over };
}

// 127.0.0.1 → 127.0.0.1, id 16112, DF, options NOP NOP NOP EOL, UDP 34936 → 9
const UDP_OPTS = bytes('46000021 3ef0 4000 4011 0000 7f000001 7f000001 01010100 8878 0009 000d 0000 78');
const LO = { type: 'loopback' as const, header: { dest: new Uint8Array(6), source: new Uint8Array(6), proto: 0x0800 } };

describe('xtables-monitor --trace', () => {
  it('names the loopback link header, prints IP options, ports and the mark', () => {
    const packet: NftTracePacket = { iif: 'lo', oif: null, link: LO, nfproto: NFPROTO_IPV4, ...tracedHeaders(UDP_OPTS, NFPROTO_IPV4) };
    expect(xtablesMonitorLines(event({ table: 'raw', chain: 'PREROUTING', type: 'policy', verdict: { kind: 'accept' }, mark: 0x2a, packet }))).toEqual([
      'PACKET: 2 94c950c8 IN=lo LOOPBACK SRC=127.0.0.1 DST=127.0.0.1 LEN=33 TOS=0x0 TTL=64 ID=16112 DF OPT (01010100) SPORT=34936 DPORT=9 MARK=0x2a ',
      ' TRACE: 2 94c950c8 raw:PREROUTING:policy:ACCEPT ',
    ]);
  });

  it('prints nothing of ICMP beyond the IP header', () => {
    const ping = bytes('45000054 d7c8 4000 4001 0000 7f000001 7f000001 0800 0000 767e 0001');
    const packet: NftTracePacket = { iif: null, oif: 'lo', link: null, nfproto: NFPROTO_IPV4, ...tracedHeaders(ping, NFPROTO_IPV4) };
    expect(xtablesMonitorLines(event({ verdict: { kind: 'jump', chain: 'user' }, rule: rule('-A OUTPUT -j user', 6), packet }))).toEqual([
      'PACKET: 2 94c950c8 OUT=lo SRC=127.0.0.1 DST=127.0.0.1 LEN=84 TOS=0x0 TTL=64 ID=55240 DF ',
      ' TRACE: 2 94c950c8 filter:OUTPUT:rule:0x6:JUMP:user  -4 -t filter -A OUTPUT -j user',
    ]);
  });

  it('has no name for RETURN (its number), and prints GOTO and DROP', () => {
    const line = (verdict: VerdictAction, text: string, handle: number, chain = 'OUTPUT') => xtablesMonitorLines(event({ chain, verdict, rule: rule(text, handle) }));
    expect(line({ kind: 'return' }, '-A user -p icmp -j RETURN', 8, 'user')).toEqual([' TRACE: 2 94c950c8 filter:user:rule:0x8:0xfffffffb  -4 -t filter -A user -p icmp -j RETURN']);
    expect(line({ kind: 'goto', chain: 'gt' }, '-A OUTPUT -p icmp -g gt', 7)).toEqual([' TRACE: 2 94c950c8 filter:OUTPUT:rule:0x7:GOTO:gt  -4 -t filter -A OUTPUT -p icmp -g gt']);
    expect(line({ kind: 'drop' }, '[3:252] -A INPUT -p icmp -m icmp --icmp-type 0 -j DROP', 10, 'INPUT')).toEqual([' TRACE: 2 94c950c8 filter:INPUT:rule:0xa:DROP  -4 -t filter -A INPUT -p icmp -m icmp --icmp-type 0 -j DROP']);
  });

  it('IPv4 options past the 40 bytes the kernel sends: what was sent, and how much xtables-monitor read past it', () => {
    // ihl 15: 40 bytes of options (NOPs, then EOL); nf_trace_fill_pkt_info sends 40 bytes of network header
    const d = bytes(`4f00003c 0001 0000 4011 0000 7f000001 7f000001 ${'01'.repeat(39)}00 8878 0009 0008 0000`);
    const packet: NftTracePacket = { iif: null, oif: 'lo', link: null, nfproto: NFPROTO_IPV4, ...tracedHeaders(d, NFPROTO_IPV4) };
    expect(packet.network).toHaveLength(40);
    expect(xtablesMonitorLines(event({ type: 'policy', verdict: { kind: 'accept' }, packet }))[0]).toBe(
      `PACKET: 2 94c950c8 OUT=lo SRC=127.0.0.1 DST=127.0.0.1 LEN=60 TOS=0x0 TTL=64 ID=1 OPT (${'01'.repeat(20)} [natsim: 20 more bytes read past the 40 sent]) SPORT=34936 DPORT=9 `,
    );
  });

  it('an ip6 table: family 10 and -6; LEN is the payload length + 20 (as 1.8.9 prints it); no ports behind an extension header', () => {
    // fd00:3::1 → fd00:206::1, traffic class 0xb9, flow label 826805, a destination options header, then UDP 41002 → 9
    const withOpts = bytes('6b9c9db5 0017 3c40 fd000003000000000000000000000001 fd000206000000000000000000000001 1100010400000000 a02a0009000fb176 6578742d647374');
    const packet: NftTracePacket = { iif: 'eth1', oif: null, link: null, nfproto: NFPROTO_IPV6, ...tracedHeaders(withOpts, NFPROTO_IPV6) };
    const rule6 = rule('-A PREROUTING -i eth1 -p udp -j TRACE', 3);
    expect(xtablesMonitorLines(event({ family: 'ip6', table: 'raw', chain: 'PREROUTING', verdict: { kind: 'continue' }, rule: rule6, packet }))).toEqual([
      'PACKET: 10 94c950c8 IN=eth1 SRC=fd00:3::1 DST=fd00:206::1 LEN=43 TC=185 HOPLIMIT=64 FLOWLBL=826805 ',
      ' TRACE: 10 94c950c8 raw:PREROUTING:rule:0x3:CONTINUE  -6 -t raw -A PREROUTING -i eth1 -p udp -j TRACE',
    ]);
  });
});
