/**
 * The delayed ACK of a FIN (tcp_fin, tcp_send_delayed_ack; src/sockets/tcp-delack.ts) against
 * the kernel recording fixtures/kernel/tcp-fin-delack: a scenario of the same three connections
 * through a masquerading rt, compared with rt's `conntrack -E` and with the segments rt received
 * from the client's FIN on (flags, sender, time after the FIN), and w's TcpExtDelayedACKs with
 * the nstat it printed. Before the FIN the two differ on purpose: the kernel's server ACKed the
 * data at once and answered a moment later, natsim's answers at once with the ACK in its data.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import { PacketDirection, readCaptureSync } from '../../src/capture/index.js';
import { Ipv4Packet, TcpFlag } from '../../src/packet/ipv4.js';
import type { L3Packet } from '../../src/packet/l3-packet.js';
import { conntrackEventText } from '../../src/report/conntrack-list.js';
import { HZ } from '../../src/netfilter/rules/jiffies.js';
import { runWorld } from '../support/run-world.js';

const dir = 'fixtures/kernel/tcp-fin-delack';
const scenario = `natsim: 1
seed: 1
hosts:
  c:
    interfaces: { eth0: { addr: [10.0.3.1/24, 10.0.3.2/24], link: lan } }
    routes: [default via 10.0.3.254]
  rt:
    sysctl: { net.ipv4.ip_forward: 1 }
    interfaces:
      eth1: { addr: [10.0.3.254/24], link: lan }
      eth0: { addr: [192.168.206.250/24], link: wan }
    ruleset: |
      table ip nat {
        chain postrouting {
          type nat hook postrouting priority srcnat; policy accept;
          ip saddr 10.0.3.0/24 oif "eth0" masquerade
        }
      }
  w:
    interfaces: { eth0: { addr: [192.168.206.1/24], link: wan } }
    routes: [default via 192.168.206.250]
trace: [rt]
run:
  - { at: 0s, on: w, do: tcp listen 80 reply 9 }
  - { at: 0s, on: w, do: tcp listen 81 reply 9 hold 500ms }
  - { at: 0s, on: w, do: tcp listen 82 hold 500ms }
  - { at: 1s, on: c, do: tcp connect 192.168.206.1:80 from :43001 send 4 hold 200ms }
  - { at: 2.2s, on: c, do: tcp connect 192.168.206.1:81 from :43002 send 4 hold 200ms }
  - { at: 3.4s, on: c, do: tcp connect 192.168.206.1:82 from :43003 hold 200ms }
`;

/** A segment rt received: who sent it (c or w), its flags, and when (ns). */
interface Segment {
  readonly from: 'c' | 'w';
  readonly flags: number;
  readonly time: number;
}

const CLIENT_PORTS = [43001, 43002, 43003] as const;

/** The flow's segments from the client's FIN on, each with its time after that FIN, in ms. */
function afterClientFin(segments: Segment[]): string[] {
  const fin = segments.find((s) => s.from === 'c' && s.flags & TcpFlag.FIN)!;
  return segments.filter((s) => s.time >= fin.time).map((s) => `${s.from} ${flagText(s.flags)} ${((s.time - fin.time) / 1e6).toFixed(1)}`);
}

function flagText(flags: number): string {
  return [[TcpFlag.SYN, 'S'], [TcpFlag.FIN, 'F'], [TcpFlag.PSH, 'P'], [TcpFlag.ACK, '.']].map(([f, t]) => (flags & (f as number) ? t : '')).join('');
}

/** The segment's client port, as rt sees it on either side (masquerade keeps the port). */
const clientPort = (p: L3Packet) => (p.sport === 80 || p.sport === 81 || p.sport === 82 ? p.dport : p.sport);
const sender = (p: L3Packet): 'c' | 'w' => (p.dport >= 80 && p.dport <= 82 ? 'c' : 'w');

function flows(add: (flows: Map<number, Segment[]>) => void): Map<number, Segment[]> {
  const byPort = new Map<number, Segment[]>(CLIENT_PORTS.map((p) => [p, []]));
  add(byPort);
  return byPort;
}

const kernel = flows((byPort) =>
  readCaptureSync(`${dir}/capture.pcap`, (r) => {
    if (r.protocol !== 0x0800 || r.direction !== PacketDirection.Host) return;
    const p = Ipv4Packet.decode(r.payload.slice()) as Ipv4Packet;
    if (p.proto === 6) byPort.get(clientPort(p))?.push({ from: sender(p), flags: p.tcpFlags, time: r.sec * 1e9 + r.nsec });
  }),
);

const ours = (() => {
  let run!: ReturnType<typeof runWorld>;
  const segments = flows((byPort) => {
    run = runWorld(parseScenario(scenario, 'tcp-fin-delack.yaml'), {
      tap: (dir, _dev, pkt, time) => {
        if (dir !== PacketDirection.Outgoing && pkt.proto === 6) byPort.get(clientPort(pkt))?.push({ from: sender(pkt), flags: pkt.tcpFlags, time });
      },
    });
  });
  return { ...run, segments };
})();

const recordedEvents = readFileSync(`${dir}/conntrack-E.txt`, 'utf8').trim().split('\n').map((l) => l.split('\t')[1]!.trim());
const ourEvents = ours.events.flatMap((e) => (e.kind === 'conntrack' ? [conntrackEventText(e.event, e.entry)] : []));
const ofFlow = (lines: string[], port: number) => lines.filter((l) => l.includes(`sport=${port} `));
/** A jiffy at HZ 250, in ms: the delack timer runs on a tick (the timer wheel's round-up), plus the recording machine's softirq latency. */
const JIFFY_MS = 1000 / HZ;

describe('the ACK of a FIN against the kernel recording tcp-fin-delack (6.18)', () => {
  it.each(CLIENT_PORTS)('client %i: the conntrack -E events rt printed, one for one', (port) => {
    expect(ofFlow(ourEvents, port)).toEqual(ofFlow(recordedEvents, port));
  });

  it('closing at once on EOF: FIN_WAIT, LAST_ACK, TIME_WAIT, no CLOSE_WAIT; closing 500 ms later: CLOSE_WAIT between', () => {
    const states = (port: number) => ofFlow(ourEvents, port).map((l) => / 6 \d+ (\w+) /.exec(l)![1]).slice(3);
    expect(states(43001)).toEqual(['FIN_WAIT', 'LAST_ACK', 'TIME_WAIT']);
    expect(states(43002)).toEqual(['FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT']);
    expect(states(43003)).toEqual(['FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT']);
  });

  it.each(CLIENT_PORTS)('client %i: from the client\'s FIN on, the segments the kernel sent, each within two jiffies of its time', (port) => {
    const [mine, theirs] = [afterClientFin(ours.segments.get(port)!), afterClientFin(kernel.get(port)!)];
    const shape = (lines: string[]) => lines.map((l) => l.split(' ').slice(0, 2).join(' '));
    expect(shape(mine)).toEqual(shape(theirs));
    const ms = (lines: string[]) => lines.map((l) => Number(l.split(' ')[2]));
    ms(mine).forEach((t, i) => expect(Math.abs(t - ms(theirs)[i]!)).toBeLessThanOrEqual(2 * JIFFY_MS));
  });

  it('the delays themselves: FIN+ACK at once; a bare ACK ato + up to one jiffy after the FIN, ato 40 ms after data and 0 without', () => {
    expect(afterClientFin(ours.segments.get(43001)!)).toEqual(['c F. 0.0', 'w F. 0.0', 'c . 0.0']);
    const delack = (port: number) => Number(afterClientFin(ours.segments.get(port)!)[1]!.split(' ')[2]);
    expect(delack(43002)).toBeGreaterThan(40);
    expect(delack(43002)).toBeLessThanOrEqual(40 + JIFFY_MS);
    expect(delack(43003)).toBeGreaterThan(0);
    expect(delack(43003)).toBeLessThanOrEqual(JIFFY_MS);
    // the recording: 43.8 ms and 7.0 ms
    expect(afterClientFin(kernel.get(43002)!)[1]).toBe('w . 43.8');
    expect(afterClientFin(kernel.get(43003)!)[1]).toBe('w . 7.0');
  });

  it('w counts the two timer ACKs in TcpExtDelayedACKs, as its nstat did', () => {
    const nstat = /TcpExtDelayedACKs\s+(\d+)/.exec(readFileSync(`${dir}/nstat-w.txt`, 'utf8'))![1];
    expect(ours.world.sockets.get('w')!.mib.get('TcpExtDelayedACKs')).toBe(Number(nstat));
    expect(ours.world.sockets.get('c')!.mib.get('TcpExtDelayedACKs')).toBe(0);
  });
});
