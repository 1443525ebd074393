/**
 * Scenario TCP and UDP over IPv6: the [IPV6]:PORT step syntax and its malformed forms; segments
 * and datagrams in IPv6 packets with the IPv6 pseudo-header checksum; an unbound socket's source
 * from IPv6 source selection; and the seed ip6-masq-sockets, whose conntrack events and final
 * table are checked against the kernel recording fixtures/kernel/ip6-masq-router it mirrors.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import { buildTcp6, buildUdp6 } from '../../src/packet/build.js';
import { TcpFlag } from '../../src/packet/ipv4.js';
import { ipv6Bytes, parseIpv6 } from '../../src/packet/ipv6-addr.js';
import { Ipv6Packet } from '../../src/packet/ipv6.js';
import { PacketDirection, readCaptureSync } from '../../src/capture/index.js';
import type { L3Packet } from '../../src/packet/l3-packet.js';
import { Ipv4Packet } from '../../src/packet/ipv4.js';
import { conntrackEventText, conntrackListLine } from '../../src/report/conntrack-list.js';
import { viewEntry } from '../../src/trace/events.js';
import { parseAction } from '../../src/world/actions.js';
import { runWorld } from '../support/run-world.js';

const v6 = (text: string) => parseIpv6(text)!;

/** Two hosts on one IPv6 link; `step` runs on a. */
function scenario(step: string, aAddrs = '[fd00::1/64 nodad]'): string {
  return `natsim: 1
seed: 1
hosts:
  a:
    interfaces: { eth0: { addr: ${aAddrs}, link: lan } }
    routes: [default via fd00::2]
  b:
    interfaces: { eth0: { addr: [fd00::2/64 nodad], link: lan } }
trace: [a]
run:
  - { at: 0s, on: b, do: tcp listen 80 }
  - { at: 0s, on: a, do: "${step}" }
`;
}

describe('[IPV6]:PORT in steps', () => {
  const step = (action: string) => parseAction({ at: 0, on: 'a', action, place: { file: 'f.yaml', line: 3, col: 5 } });

  it('reads [fd00::1]:80, as ss and nc print it, and from forms of the same family', () => {
    expect(step('tcp connect [fd00::1]:80')).toMatchObject({ kind: 'tcp connect', remote: { addr: v6('fd00::1'), port: 80 }, from: {} });
    expect(step('tcp connect [fd00::1]:80 from [fd00::9]:5000')).toMatchObject({ from: { addr: v6('fd00::9'), port: 5000 } });
    expect(step('tcp connect [fd00::1]:80 from fd00::9')).toMatchObject({ from: { addr: v6('fd00::9') } });
    expect(step('tcp connect [fd00::1]:80 from ::1')).toMatchObject({ from: { addr: v6('::1') } });
    expect(step('tcp connect [fd00::1]:80 from :5000')).toMatchObject({ from: { port: 5000 } });
    expect(step('udp send [::ffff:10.0.0.1]:53')).toMatchObject({ kind: 'udp send', remote: { addr: v6('::ffff:10.0.0.1'), port: 53 } });
    // IPv4 as before
    expect(step('tcp connect 10.0.0.1:80 from 10.0.0.9:5000')).toMatchObject({ remote: { addr: 0x0a000001, port: 80 }, from: { addr: 0x0a000009, port: 5000 } });
  });

  it.each([
    ['tcp connect [fd00::1:80', "'[fd00::1:80' has no ']': an IPv6 address and port are written [IPV6]:PORT"],
    ['tcp connect [fd00::1]80', "'[fd00::1]80' needs ':PORT' after ']' (the form [IPV6]:PORT)"],
    ['tcp connect [fd00::1]', "'[fd00::1]' needs ':PORT' after ']' (the form [IPV6]:PORT)"],
    ['tcp connect [fd00::1]:', "'' is not a port (1-65535)"],
    ['tcp connect [fd00::1]:0', "'0' is not a port (1-65535)"],
    ['udp send [fd00::1]:65536', "'65536' is not a port (1-65535)"],
    ['udp send [fd00::1]:http', "'http' is not a port (1-65535)"],
    ['tcp connect [10.0.0.1]:80', "'[10.0.0.1]:80': '10.0.0.1' in the brackets is not an IPv6 address"],
    ['tcp connect []:80', "'[]:80': '' in the brackets is not an IPv6 address"],
    ['tcp connect fd00::1:80', "'fd00::1:80': an IPv6 address with a port is written in brackets, [IPV6]:PORT"],
    ['tcp connect [fd00::1]:80 from 10.0.0.1', "'from 10.0.0.1' is not of the family of [fd00::1]:80 (a socket is IPv4 or IPv6)"],
    ['tcp connect 10.0.0.1:80 from [fd00::9]:1', "'from [fd00::9]:1' is not of the family of 10.0.0.1:80 (a socket is IPv4 or IPv6)"],
  ])('refuses %s with its place', (action, reason) => {
    expect(() => step(action)).toThrow(`f.yaml:3:5: ${reason}`);
  });

  it('refuses a malformed endpoint when the scenario is loaded, at the step\'s line and column', () => {
    expect(() => runWorld(parseScenario(scenario('tcp connect [fd00::2:80'), 's.yaml'))).toThrow("s.yaml:12:5: '[fd00::2:80' has no ']'");
  });
});

/** RFC 8200 8.1's checksum, summed here apart from natsim's: pseudo-header (addresses, upper-layer length, next header) and the upper layer. */
function rfcChecksumOk(p: Ipv6Packet): boolean {
  const l4 = p.data.subarray(40);
  const bytes = [...ipv6Bytes(p.saddr), ...ipv6Bytes(p.daddr), 0, 0, l4.length >> 8, l4.length & 255, 0, 0, 0, p.proto, ...l4];
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

describe('IPv6 segments and datagrams', () => {
  const saddr = v6('fd00:3::1');
  const daddr = v6('fd00:206::1');

  it('a SYN: IPv6 header with hop limit 64, TCP header with mss, sackOK, wscale, checksum over the IPv6 pseudo-header', () => {
    const syn = buildTcp6({ saddr, daddr, sport: 43000, dport: 80, seq: 1467095582, ack: 0, flags: TcpFlag.SYN, window: 64800, ipId: 0, ttl: 64, syn: { mss: 1440, wscale: 7 }, payloadLength: 0 });
    expect([syn.saddr, syn.daddr, syn.proto, syn.ttl, syn.length, syn.flowLabel, syn.trafficClass]).toEqual([saddr, daddr, 6, 64, 72, 0, 0]);
    expect([syn.sport, syn.dport, syn.tcpSeq, syn.tcpFlags, syn.tcpWindow, syn.tcpHeaderLength]).toEqual([43000, 80, 1467095582, TcpFlag.SYN, 64800, 32]);
    expect([...syn.data.subarray(60, 72)]).toEqual([2, 4, 1440 >> 8, 1440 & 255, 1, 1, 4, 2, 1, 3, 3, 7]);
    expect(rfcChecksumOk(syn)).toBe(true);
    expect(syn.l4ChecksumBad()).toBe(false);
  });

  it('a datagram, with data, and one whose sum is 0 is sent as 0xffff', () => {
    const d = buildUdp6({ saddr, daddr, sport: 40053, dport: 53, ipId: 0, ttl: 64, payload: new Uint8Array([1, 2, 3, 4, 5]) });
    expect([d.proto, d.length, d.sport, d.dport, d.ttl]).toEqual([17, 53, 40053, 53, 64]);
    expect(rfcChecksumOk(d)).toBe(true);
    // find a payload word that makes the sum 0, then check the field holds 0xffff (RFC 8200: 0 is not sent)
    const probe = buildUdp6({ saddr, daddr, sport: 1, dport: 2, ipId: 0, ttl: 64, payload: new Uint8Array(2) });
    const field = (probe.data[46]! << 8) | probe.data[47]!;
    const zeroing = buildUdp6({ saddr, daddr, sport: 1, dport: 2, ipId: 0, ttl: 64, payload: new Uint8Array([field >> 8, field & 255]) });
    expect((zeroing.data[46]! << 8) | zeroing.data[47]!).toBe(0xffff);
    expect(rfcChecksumOk(zeroing)).toBe(true);
  });
});

describe('an unbound IPv6 socket', () => {
  /** Host a's packets out of eth0 (their source), the SYN's bytes kept as sent. */
  function sent(step: string, aAddrs: string): Ipv6Packet[] {
    const out: Ipv6Packet[] = [];
    runWorld(parseScenario(scenario(step, aAddrs), 's.yaml'), { tap: (dir, _dev, pkt) => dir === PacketDirection.Outgoing && out.push(Ipv6Packet.decode(pkt.data.slice()) as Ipv6Packet) });
    return out;
  }

  it('takes its source by ipv6_dev_get_saddr (rule 8, the longest matching prefix) and a bound one keeps its own', () => {
    const addrs = '[fd00:3::1/64 nodad, fd00::7/64 nodad]';
    expect(sent('tcp connect [fd00::2]:80', addrs).map((p) => p.saddr)).toEqual(Array(2).fill(v6('fd00::7')));
    expect(sent('tcp connect [fd00::2]:80 from fd00:3::1', addrs)[0]!.saddr).toBe(v6('fd00:3::1'));
    expect(sent('udp send [fd00::2]:53', addrs)[0]!.saddr).toBe(v6('fd00::7'));
  });

  it('SYN, ACK and no FIN (no hold): the SYN announces mss 1440 and win 64800, as the kernel recording does', () => {
    const [syn, ack] = sent('tcp connect [fd00::2]:80', '[fd00::1/64 nodad]');
    expect([syn!.tcpFlags, syn!.tcpWindow, (syn!.data[62]! << 8) | syn!.data[63]!]).toEqual([TcpFlag.SYN, 64800, 1440]);
    expect(ack!.tcpFlags).toBe(TcpFlag.ACK);
    expect([syn, ack].every((p) => rfcChecksumOk(p!))).toBe(true);
  });

  it('a SYN to a closed port gets tcp_v6_send_reset\'s RST and the connect is refused', () => {
    const spec = parseScenario(scenario('tcp connect [fd00::2]:81'), 's.yaml');
    const { world } = runWorld(spec);
    expect(world.appEvents.map((e) => e.text)).toEqual([expect.stringMatching(/^tcp \[fd00::1\]:\d+ > \[fd00::2\]:81: connection refused \(RST\)$/)]);
    expect(world.sockets.get('b')!.mib.nonZero()).toEqual([['TcpOutRsts', 1]]);
  });
});

describe('windows and options against the kernel experiment ip6-tcp-windows (Linux 6.18, tcp_timestamps=0 on both ends)', () => {
  /** Handshake and first data segment: flags, window and TCP options of each, by family. */
  const shape = (p: L3Packet) => `${p.family} ${p.tcpFlags} ${p.tcpWindow} ${Buffer.from(p.data.subarray(p.l4off + 20, p.l4off + p.tcpHeaderLength)).toString('hex')} hl=${p.ttl}`;
  const firstFour = (packets: L3Packet[], family: 4 | 6) => packets.filter((p) => p.family === family).slice(0, 4).map(shape);
  const kernel: L3Packet[] = [];
  readCaptureSync('fixtures/kernel-experiments/ip6-tcp-windows/capture.pcap', (r) => void kernel.push((r.protocol === 0x86dd ? Ipv6Packet.decode(r.payload.slice()) : Ipv4Packet.decode(r.payload.slice())) as L3Packet));
  const text = `natsim: 1
seed: 1
hosts:
  a:
    sysctl: { net.ipv4.tcp_timestamps: 0 }
    interfaces: { eth0: { addr: [10.9.0.1/24, fd00::1/64 nodad], link: lan } }
  b:
    sysctl: { net.ipv4.tcp_timestamps: 0 }
    interfaces: { eth0: { addr: [10.9.0.2/24, fd00::2/64 nodad], link: lan } }
trace: [b]
run:
  - { at: 0s, on: b, do: tcp listen 80 }
  - { at: 1s, on: a, do: tcp connect 10.9.0.2:80 send 4 }
  - { at: 2s, on: a, do: "tcp connect [fd00::2]:80 send 4" }
`;
  const ours: L3Packet[] = [];
  // b is traced: its packets in and out, as tcpdump on b saw them
  runWorld(parseScenario(text, 's.yaml'), { tap: (_dir, _dev, pkt) => void ours.push(pkt.copy()) });

  it.each([4, 6] as const)('IPv%i: SYN, SYN-ACK, ACK, data as the kernel sent them (64800/1440/507 over IPv6)', (family) => {
    expect(kernel).toHaveLength(18);
    expect(firstFour(ours, family)).toEqual(firstFour(kernel, family));
    expect(firstFour(kernel, family)[0]).toBe(family === 6 ? `6 ${TcpFlag.SYN} 64800 020405a00101040201030307 hl=64` : `4 ${TcpFlag.SYN} 64240 020405b40101040201030307 hl=64`);
  });
});

describe('errors an IPv6 socket meets', () => {
  it('tcp_v6_err: an ICMPv6 port unreachable (nft reject at b) ends the SYN_SENT connect with ECONNREFUSED', () => {
    const text = scenario('tcp connect [fd00::2]:81').replace(
      "    interfaces: { eth0: { addr: [fd00::2/64 nodad], link: lan } }\n",
      "    interfaces: { eth0: { addr: [fd00::2/64 nodad], link: lan } }\n    ruleset: |\n      table ip6 f {\n        chain input {\n          type filter hook input priority 0; policy accept;\n          tcp dport 81 reject\n        }\n      }\n",
    );
    const { world } = runWorld(parseScenario(text, 's.yaml'));
    expect(world.appEvents.map((e) => e.text)).toEqual([expect.stringMatching(/: connect failed: ECONNREFUSED \(connection refused\) \(ICMPv6 destination unreachable, code 4\)$/)]);
    expect(world.sockets.get('a')!.mib.nonZero()).toEqual([['TcpActiveOpens', 1], ['TcpAttemptFails', 1]]);
  });

  it('a datagram over the MTU is dropped by name: an IPv6 socket\'s own fragmentation (ip6_append_data) is not modelled', () => {
    const { events } = runWorld(parseScenario(scenario('udp send [fd00::2]:53 bytes 1500'), 's.yaml'));
    expect(events.filter((e) => e.kind === 'drop').map((e) => e.kind === 'drop' && e.reason)).toEqual(['locally made packet of 1548 bytes over the MTU 1500 of eth0: a socket\'s own fragmentation (ip6_append_data) is not modelled']);
  });
});

describe('seed ip6-masq-sockets against the recording ip6-masq-router', () => {
  const file = 'fixtures/seeds/ip6-masq-sockets.yaml';
  const { world, events } = runWorld(parseScenario(readFileSync(file, 'utf8'), file));
  const ours = events.flatMap((e) => (e.kind === 'conntrack' ? [conntrackEventText(e.event, e.entry)] : []));
  const recorded = readFileSync('fixtures/kernel/ip6-masq-router/conntrack-E.txt', 'utf8').trim().split('\n').map((l) => l.split('\t')[1]!.trim());
  const ofFlow = (lines: string[], port: string) => lines.filter((l) => l.includes(`sport=${port} `));

  it('the UDP query and its answer, and the datagram to the closed port: the recorded events', () => {
    expect(ofFlow(ours, '40053')).toEqual(ofFlow(recorded, '40053'));
    expect(ofFlow(ours, '40001')).toEqual(ofFlow(recorded, '40001'));
    expect(ofFlow(ours, '40053')).toHaveLength(2);
  });

  it('the TCP connection: the recorded events, SYN_SENT 120 → … → TIME_WAIT 120 [ASSURED], no CLOSE_WAIT', () => {
    const tcp = ofFlow(ours, '43000');
    // the server closes as it reads EOF, before its delayed ACK of the FIN (tcp_fin): its FIN carries the ACK
    expect(tcp.map((l) => / 6 (\d+) (\w+) /.exec(l)!.slice(1).join(' '))).toEqual(['120 SYN_SENT', '60 SYN_RECV', '432000 ESTABLISHED', '120 FIN_WAIT', '30 LAST_ACK', '120 TIME_WAIT']);
    expect(tcp).toEqual(ofFlow(recorded, '43000'));
  });

  it('conntrack -L at the end: the recorded entries, timeouts aside, and the unbound socket\'s ephemeral port', () => {
    const untimed = (l: string) => l.replace(/^(\w+ +\d+ )\d+ /, '$1');
    const listed = [...world.hosts.get('rt1')!.nf.table.connections()].map((ct) => untimed(conntrackListLine(viewEntry(ct, world.queue.now))));
    const kernel = readFileSync('fixtures/kernel/ip6-masq-router/conntrack-L-ipv6.txt', 'utf8').trim().split('\n').map(untimed);
    expect(listed.filter((l) => !l.includes('dport=5353'))).toEqual(expect.arrayContaining(kernel.filter((l) => /sport=(43000|40053|40001) /.test(l))));
    expect(listed).toHaveLength(4);
    expect(listed.find((l) => l.includes('dport=5353'))).toMatch(/^udp +17 src=fd00:3::1 dst=fd00:206::1 sport=(\d+) dport=5353 \[UNREPLIED\] src=fd00:206::1 dst=fd00:206::250 sport=5353 dport=\1 mark=0 use=1$/);
  });

  it('the port unreachable is RELATED and de-NATed to pc1 (the recording\'s case 5)', () => {
    const related = events.filter((e) => e.kind === 'transmit' && e.pkt.proto === 58 && e.dev === 'eth1');
    expect(related.map((e) => e.kind === 'transmit' && [e.pkt.saddr, e.pkt.daddr, e.pkt.icmpType, e.pkt.icmpCode, e.pkt.ttl])).toEqual(Array(2).fill([v6('fd00:206::1'), v6('fd00:3::1'), 1, 4, 63]));
  });
});
