/**
 * Hosts' sockets as Linux behaves: the 6.x SYN retransmission schedule and connect timeout
 * (tcp_syn_linear_timeouts, tcp_syn_retries) and the older kernels' doubling, RST for a closed
 * TCP port, ICMP port unreachable for a closed UDP port with icmp_ratelimit's burst of 6.
 */
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import type { World } from '../../src/world/world.js';
import { TcpFlag } from '../../src/packet/ipv4.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { runWorld } from '../support/run-world.js';

const S = 1e9;

/**
 * Two hosts on one link; `steps` run on `client` (or on `server` when prefixed "server: "); client
 * is traced. The client's gateway is a black hole: it answers ARP but does not forward
 * (ip_forward 0: ip_error drops silently, counting IpInAddrErrors).
 */
function world(steps: string[], clientSysctl = '{}', kernel = '6.18'): { world: World; out: TraceEvent[] } {
  const text = `natsim: 1
name: t
seed: 3
kernel: "${kernel}"
hosts:
  client:
    sysctl: ${clientSysctl}
    interfaces: { eth0: { addr: [10.0.0.1/24], link: lan } }
    routes: [default via 10.0.0.254]
  server:
    interfaces: { eth0: { addr: [10.0.0.2/24], link: lan } }
  gw:
    interfaces: { eth0: { addr: [10.0.0.254/24], link: lan } }
trace: [client]
run:
${steps.map((s) => (s.startsWith('server: ') ? `  - { at: 0s, on: server, do: ${s.slice(8)} }` : `  - { at: 0.1s, on: client, do: ${s} }`)).join('\n')}
`;
  const { world, events } = runWorld(parseScenario(text, 't.yaml'));
  return { world, out: events };
}

const sent = (out: TraceEvent[]) => out.filter((e): e is Extract<TraceEvent, { kind: 'transmit' }> => e.kind === 'transmit');

describe('connect() to a black hole', () => {
  it('with tcp_syn_retries 2 sends 6 SYNs a second apart and gives up at 7 s (snat-fixed-port-clash)', () => {
    const { world: w, out } = world(['tcp connect 192.0.2.1:80'], '{ net.ipv4.tcp_syn_retries: 2 }');
    expect(sent(out).map((e) => e.time / S - 0.1)).toEqual([0, 1, 2, 3, 4, 5].map((t) => expect.closeTo(t, 9)));
    expect(w.appEvents.map((e) => [e.time / S - 0.1, e.text.replace(/^\S+ \S+ > \S+: /, '')])).toEqual([[expect.closeTo(7, 9), 'connect failed: connection timed out after 7.0 s (6 SYNs)']]);
    expect(w.sockets.get('client')!.mib.nonZero()).toEqual([
      ['TcpActiveOpens', 1],
      ['TcpAttemptFails', 1],
      ['TcpExtTCPTimeouts', 6],
      ['TcpExtTCPAbortOnTimeout', 1],
    ]);
  });

  it('with the default 6 retries: 4 linear retransmissions, then doubling, 11 SYNs, 131 s', () => {
    const { world: w, out } = world(['tcp connect 192.0.2.1:80']);
    expect(sent(out).map((e) => e.time / S - 0.1)).toEqual([0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67].map((t) => expect.closeTo(t, 9)));
    expect(w.appEvents[0]!.time / S - 0.1).toBeCloseTo(131, 9);
  });

  it('with tcp_syn_linear_timeouts 0, as the seeds\' older kernels: doubling from 1 s, 7 SYNs, 127 s', () => {
    const { world: w, out } = world(['tcp connect 192.0.2.1:80'], '{ net.ipv4.tcp_syn_linear_timeouts: 0 }');
    expect(sent(out).map((e) => e.time / S - 0.1)).toEqual([0, 1, 3, 7, 15, 31, 63].map((t) => expect.closeTo(t, 9)));
    expect(w.appEvents[0]!.time / S - 0.1).toBeCloseTo(127, 9);
  });

  it.each([
    ['5.4', 7],
    ['4.15', 1],
  ])('on %s (no tcp_syn_linear_timeouts): 7 SYNs doubling from 1 s, aborted at 127 s, TCPTimeouts %i', (kernel, timeouts) => {
    const { world: w, out } = world(['tcp connect 192.0.2.1:80'], '{}', kernel);
    expect(sent(out).map((e) => e.time / S - 0.1)).toEqual([0, 1, 3, 7, 15, 31, 63].map((t) => expect.closeTo(t, 9)));
    expect(w.appEvents.map((e) => [e.time / S - 0.1, e.text.replace(/^\S+ \S+ > \S+: /, '')])).toEqual([[expect.closeTo(127, 9), 'connect failed: connection timed out after 127.0 s (7 SYNs)']]);
    // 5.4 counts every RTO, the last included; 4.15 only the first (icsk_retransmits == 0)
    expect(w.sockets.get('client')!.mib.nonZero()).toEqual([
      ['TcpActiveOpens', 1],
      ['TcpAttemptFails', 1],
      ['TcpExtTCPTimeouts', timeouts],
      ['TcpExtTCPAbortOnTimeout', 1],
    ]);
  });

  it('takes an even ephemeral port from ip_local_port_range', () => {
    const { out } = world(['tcp connect 192.0.2.1:80'], '{ net.ipv4.tcp_syn_retries: 1 }');
    const port = sent(out)[0]!.pkt.sport;
    expect(port % 2).toBe(0);
    expect(port).toBeGreaterThanOrEqual(32768);
    expect(port).toBeLessThanOrEqual(60999);
  });
});

describe('closed ports', () => {
  it('a SYN to a closed TCP port gets RST|ACK acknowledging it: connection refused', () => {
    const { world: w } = world(['tcp connect 10.0.0.2:81']);
    expect(w.appEvents.map((e) => e.text.replace(/^\S+ \S+ > \S+: /, ''))).toEqual(['connection refused (RST)']);
    expect(w.sockets.get('server')!.mib.get('TcpOutRsts')).toBe(1);
  });

  it('UDP to a closed port gets ICMP port unreachable: a burst of six, then one a second', () => {
    const { world: w } = world(['udp send 10.0.0.2:9 count 10 interval 0.1']);
    const server = w.sockets.get('server')!.mib;
    expect([server.get('UdpNoPorts'), server.get('IcmpOutDestUnreachs')]).toEqual([10, 6]);
    // 0.2 s apart the bucket (6 s, 1 s a message) refills 0.2 s a datagram: the 7th still passes
    const slower = world(['udp send 10.0.0.2:9 count 10 interval 0.2']).world.sockets.get('server')!.mib;
    expect(slower.get('IcmpOutDestUnreachs')).toBe(7);
  });
});

describe('a TCP exchange', () => {
  const F = TcpFlag;
  /** The client's segments out and in, as flags, with their times. */
  const segments = (out: ReturnType<typeof world>['out']) =>
    out.filter((e) => e.kind === 'receive' || e.kind === 'transmit').map((e) => ({ seg: `${e.kind === 'transmit' ? 'out' : 'in'}:${(e as { pkt: { tcpFlags: number } }).pkt.tcpFlags}`, time: e.time }));
  const handshakeAndData = [['out', F.SYN], ['in', F.SYN | F.ACK], ['out', F.ACK], ['out', F.PSH | F.ACK], ['in', F.PSH | F.ACK], ['out', F.ACK], ['out', F.FIN | F.ACK]];
  const text = (list: (string | number)[][]) => list.map(([d, f]) => `${d}:${f}`);

  it('handshake, data, answer, FIN close from the client: every segment in order, the server\'s FIN carrying its ACK', () => {
    const { world: w, out } = world(['server: tcp listen 80 reply 21', 'tcp connect 10.0.0.2:80 send 18 hold 0.5']);
    expect(segments(out).map((s) => s.seg)).toEqual(text([...handshakeAndData, ['in', F.FIN | F.ACK], ['out', F.ACK]]));
    expect(w.appEvents.map((e) => e.text.replace(/^\S+ \S+ > \S+: /, ''))).toEqual(['connected after 1 SYN(s)']);
    expect(w.sockets.get('server')!.mib.nonZero()).toEqual([['TcpPassiveOpens', 1]]);
  });

  it('a server that closes 1 s after EOF: its delayed ACK on the tick after TCP_ATO_MIN (40-44 ms), its FIN 1 s after the client\'s', () => {
    const { world: w, out } = world(['server: tcp listen 80 reply 21 hold 1s', 'tcp connect 10.0.0.2:80 send 18 hold 0.5']);
    const segs = segments(out);
    expect(segs.map((s) => s.seg)).toEqual(text([...handshakeAndData, ['in', F.ACK], ['in', F.FIN | F.ACK], ['out', F.ACK]]));
    const [fin, ack, serverFin] = segs.slice(6, 9).map((s) => s.time);
    expect(ack! - fin!).toBeGreaterThan(40e6);
    expect(ack! - fin!).toBeLessThanOrEqual(44e6);
    expect(Math.round((serverFin! - fin!) / 1e6)).toBe(1000);
    expect(w.sockets.get('server')!.mib.get('TcpExtDelayedACKs')).toBe(1);
  });

  it('tcp listen hold takes a duration and refuses a bad one by its place', () => {
    expect(() => world(['server: tcp listen 80 hold soon'])).toThrow(/'hold' needs .*got 'soon'/);
  });
});

describe('own addresses and autobound ports', () => {
  it('a ping of the host’s own eth0 address goes over lo (the local table’s route), never out of eth0', () => {
    const { out } = world(['ping 10.0.0.1']);
    const devs = out.flatMap((e) => (e.kind === 'transmit' || e.kind === 'receive' ? [`${e.kind} ${e.dev}`] : []));
    expect(devs).not.toContain('transmit eth0');
    expect(devs).toContain('receive lo');
  });

  it('udp send count N is one socket: every datagram from the port it was autobound to at the first send', () => {
    const ports = new Set(sent(world(['udp send 10.0.0.2:9 count 5 interval 0.001']).out).flatMap((e) => (e.pkt.proto === 17 ? [e.pkt.sport] : [])));
    expect(ports.size).toBe(1);
  });
});
