/**
 * A capture replay's packets for a next hop that never answers ARP (world/neighbours.ts,
 * world/arp-queue.ts): they wait in the neighbour's queue until its round of requests fails,
 * then each is answered with host unreachable (ipv4_link_failure) quoting that packet — though
 * the replay went on feeding other records meanwhile, on an skb it reuses for every record
 * (Host.recycleRx): the waiting ones must be held, not remade. An answer read late sends them on.
 * fixtures/kernel/neigh-failure checks the times and the queue's size against the kernel.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCaptureWriter } from '../../src/capture/index.js';
import { LinkType, PacketDirection } from '../../src/capture/record.js';
import { ETH_P_ARP, ETH_P_IP } from '../../src/capture/link-layer.js';
import { buildUdp } from '../../src/packet/build.js';
import { Ipv4Packet } from '../../src/packet/ipv4.js';
import { formatIpv4, parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { loadScenario } from '../../src/scenario/load.js';
import { replayCapture } from '../../src/world/capture-replay.js';
import { natsim, tempDir } from '../cli/helpers.js';

const ip = (s: string): number => parseIpv4(s)!;
const GATEWAY = '203.0.113.254';

/** The router's ARP request for `target` (who-has, Out on wan0). */
function arpRequest(target: number): Uint8Array {
  const a = new Uint8Array(28);
  a.set([0, 1, 8, 0, 6, 4, 0, 1]);
  new DataView(a.buffer).setUint32(14, ip('203.0.113.1'));
  new DataView(a.buffer).setUint32(24, target);
  return a;
}

/** The router's ARP reply from `sender` (is-at, In on wan0). */
function arpReply(sender: number): Uint8Array {
  const a = new Uint8Array(28);
  a.set([0, 1, 8, 0, 6, 4, 0, 2]);
  a.set([2, 0, 0, 0, 0, 9], 8);
  new DataView(a.buffer).setUint32(14, sender);
  new DataView(a.buffer).setUint32(24, ip('203.0.113.1'));
  return a;
}

/** The router's scenario beside `pcap`, and a writer for its capture. */
function router(): { pcap: string; scenario: string; w: ReturnType<typeof openCaptureWriter> } {
    const dir = tempDir();
    const pcap = join(dir, 'rt.pcap');
    writeFileSync(
      join(dir, 'rt.yaml'),
      `natsim: 1
hosts:
  rt:
    sysctl: { net.ipv4.ip_forward: 1 }
    interfaces:
      lan0: { index: 2, addr: [10.0.0.1/24] }
      wan0: { index: 3, addr: [203.0.113.1/24] }
    routes:
      - default via ${GATEWAY} dev wan0
`,
    );
  return { pcap, scenario: join(dir, 'rt.yaml'), w: openCaptureWriter(pcap, { linkType: LinkType.LinuxSll2 }) };
}

/** A datagram from `src` with `size` bytes of payload received on lan0 at `ms` (the capture's clock starts at its first record). */
function udpAt(w: ReturnType<typeof openCaptureWriter>, src: string, ms: number, size = 4): void {
  w.write({ sec: 0, nsec: ms * 1e6, ifindex: 2, direction: PacketDirection.Host, protocol: ETH_P_IP, payload: buildUdp({ saddr: ip(src), daddr: ip('198.51.100.9'), sport: 1000, dport: 53, ipId: 1, ttl: 64, payload: new Uint8Array(size) }).data });
}

function arpAt(w: ReturnType<typeof openCaptureWriter>, ms: number, payload: Uint8Array, direction: PacketDirection): void {
  w.write({ sec: 0, nsec: ms * 1e6, ifindex: 3, direction, protocol: ETH_P_ARP, payload });
}

/** The router's round of three requests for the gateway from `ms`, 1.009 and 1.020 s apart (as the kernel's timer spaces them); the records after it come later. */
function roundAt(w: ReturnType<typeof openCaptureWriter>, ms: number): void {
  for (const at of [ms, ms + 1009, ms + 2029]) arpAt(w, at, arpRequest(ip(GATEWAY)), PacketDirection.Outgoing);
}

describe('packets waiting on a neighbour that never answers', () => {
  it('are each answered with host unreachable quoting itself, whatever was fed meanwhile', async () => {
    const { pcap, scenario, w } = router();
    const udp = (src: string, ms: number): void => udpAt(w, src, ms);
    udp('10.0.0.5', 0);
    arpAt(w, 1, arpRequest(ip(GATEWAY)), PacketDirection.Outgoing);
    udp('10.0.0.6', 200);
    udp('10.0.0.7', 400);
    w.close();
    const r = await replayCapture(pcap, loadScenario(scenario), { keepPackets: true, until: 10e9 });
    const errors = r.packets!.sent.map((s) => Ipv4Packet.decode(s.bytes) as Ipv4Packet);
    const quoted = errors.map((e) => {
      const q = e.quotedPacket();
      if (typeof q === 'string') throw new Error(q);
      return [e.icmpType, e.icmpCode, formatIpv4(e.daddr), formatIpv4(q.saddr)];
    });
    expect(quoted).toEqual([
      [3, 1, '10.0.0.5', '10.0.0.5'],
      [3, 1, '10.0.0.6', '10.0.0.6'],
      [3, 1, '10.0.0.7', '10.0.0.7'],
    ]);
  });

  it('all go at once when the round fails, 1.023 s after its third request; a packet after that starts a round of its own', async () => {
    const { pcap, scenario, w } = router();
    udpAt(w, '10.0.0.5', 0);
    arpAt(w, 1, arpRequest(ip(GATEWAY)), PacketDirection.Outgoing);
    udpAt(w, '10.0.0.6', 900);
    arpAt(w, 1010, arpRequest(ip(GATEWAY)), PacketDirection.Outgoing);
    udpAt(w, '10.0.0.7', 1900);
    arpAt(w, 2030, arpRequest(ip(GATEWAY)), PacketDirection.Outgoing);
    // the round failed at 3.053 s: this one asks anew, 1 s apart (the capture ends before its third)
    udpAt(w, '10.0.0.8', 3200);
    arpAt(w, 3201, arpRequest(ip(GATEWAY)), PacketDirection.Outgoing);
    arpAt(w, 4210, arpRequest(ip(GATEWAY)), PacketDirection.Outgoing);
    w.close();
    const r = await replayCapture(pcap, loadScenario(scenario), { keepPackets: true, until: 10e9 });
    const errors = r.packets!.sent.map((s) => [Number((s.time / 1e9).toFixed(3)), formatIpv4((Ipv4Packet.decode(s.bytes) as Ipv4Packet).daddr)]);
    // the second round's failure, its third request not in the capture: where that request would be, 1.024 s after the second, and 1.023 s more
    expect(errors).toEqual([
      [3.053, '10.0.0.5'],
      [3.053, '10.0.0.6'],
      [3.053, '10.0.0.7'],
      [Number((4.21 + 1.024 + 1.023).toFixed(3)), '10.0.0.8'],
    ]);
  });

  it('go on at the answer when one is read after all, with no error', async () => {
    const { pcap, scenario, w } = router();
    udpAt(w, '10.0.0.5', 0);
    arpAt(w, 1, arpRequest(ip(GATEWAY)), PacketDirection.Outgoing);
    arpAt(w, 1010, arpRequest(ip(GATEWAY)), PacketDirection.Outgoing);
    // the record whose reading feeds the packet (1.2 s of lookahead), and an answer read after that
    arpAt(w, 1300, arpRequest(ip('203.0.113.77')), PacketDirection.Outgoing);
    arpAt(w, 1900, arpReply(ip(GATEWAY)), PacketDirection.Host);
    w.close();
    const r = await replayCapture(pcap, loadScenario(scenario), { keepPackets: true, until: 10e9 });
    const sent = r.packets!.sent.map((s) => Ipv4Packet.decode(s.bytes) as Ipv4Packet);
    expect(sent.map((p) => [p.proto, formatIpv4(p.saddr), formatIpv4(p.daddr)])).toEqual([[17, '10.0.0.5', '198.51.100.9']]);
    expect(r.packets!.sent[0]!.time).toBe(1.9e9);
  });

  it('hold a packet that came while one waited behind it, though the answer was read by then', async () => {
    const { pcap, scenario, w } = router();
    udpAt(w, '10.0.0.5', 0);
    arpAt(w, 1, arpRequest(ip(GATEWAY)), PacketDirection.Outgoing);
    arpAt(w, 1010, arpRequest(ip(GATEWAY)), PacketDirection.Outgoing);
    arpAt(w, 1300, arpRequest(ip('203.0.113.77')), PacketDirection.Outgoing);
    udpAt(w, '10.0.0.6', 1500);
    arpAt(w, 1900, arpReply(ip(GATEWAY)), PacketDirection.Host);
    w.close();
    const r = await replayCapture(pcap, loadScenario(scenario), { keepPackets: true, until: 10e9 });
    const sent = r.packets!.sent.map((s) => [s.time / 1e9, formatIpv4((Ipv4Packet.decode(s.bytes) as Ipv4Packet).saddr)]);
    // neigh_update sends the queue in order, at the answer: the second packet did not go first
    expect(sent).toEqual([
      [1.9, '10.0.0.5'],
      [1.9, '10.0.0.6'],
    ]);
  });

  it('are sent when the round is a reachability probe of an entry that was answered, even if the probe fails', async () => {
    const { pcap, scenario, w } = router();
    udpAt(w, '10.0.0.5', 0);
    arpAt(w, 1, arpRequest(ip(GATEWAY)), PacketDirection.Outgoing);
    arpAt(w, 2, arpReply(ip(GATEWAY)), PacketDirection.Host);
    // 40 s on the entry is stale: the kernel probes it (NUD_PROBE) and sends meanwhile; the probe fails
    udpAt(w, '10.0.0.6', 45_000);
    roundAt(w, 45_001);
    udpAt(w, '10.0.0.7', 47_500);
    // the entry FAILED: this one waits on a new round, which fails too
    udpAt(w, '10.0.0.8', 49_000);
    roundAt(w, 49_001);
    w.close();
    const r = await replayCapture(pcap, loadScenario(scenario), { keepPackets: true, until: 60e9 });
    const sent = r.packets!.sent.map((s) => {
      const p = Ipv4Packet.decode(s.bytes) as Ipv4Packet;
      return [Number((s.time / 1e9).toFixed(3)), p.proto, formatIpv4(p.proto === 1 ? p.daddr : p.saddr)];
    });
    expect(sent).toEqual([
      // an answer read by the packet's time sends it then (the kernel's goes at the answer, microseconds on)
      [0, 17, '10.0.0.5'],
      [45, 17, '10.0.0.6'],
      [47.5, 17, '10.0.0.7'],
      [52.053, 1, '10.0.0.8'],
    ]);
  });

  it('wait for an answer to a later request of the round, read in time, and go at it', async () => {
    const { pcap, scenario, w } = router();
    udpAt(w, '10.0.0.5', 0);
    arpAt(w, 1, arpRequest(ip(GATEWAY)), PacketDirection.Outgoing);
    arpAt(w, 1010, arpRequest(ip(GATEWAY)), PacketDirection.Outgoing);
    // the second request answered: read before the packet is fed (within the 1.2 s lookahead)
    arpAt(w, 1012, arpReply(ip(GATEWAY)), PacketDirection.Host);
    w.close();
    const r = await replayCapture(pcap, loadScenario(scenario), { keepPackets: true, until: 10e9 });
    expect(r.packets!.sent.map((s) => [s.time / 1e9, formatIpv4((Ipv4Packet.decode(s.bytes) as Ipv4Packet).saddr)])).toEqual([[1.012, '10.0.0.5']]);
  });

  it('pushed out of a full queue, are named so by explain: the flow\'s first drop is __neigh_event_send\'s', async () => {
    const { pcap, w } = router();
    udpAt(w, '10.0.0.5', 0, 1400);
    roundAt(w, 1);
    // 100 datagrams of 1,428 bytes (truesize 2,304): the queue holds 92, the first 8 are pushed out
    for (let i = 1; i < 100; i++) udpAt(w, '10.0.0.5', 2 + i / 100, 1400);
    w.close();
    const run = await natsim('explain', pcap);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('100 packets of the flow died so');
    // the first packet (record 1) was pushed out as the 93rd datagram came, record 96 after the
    // round's three requests (the records after the round are clamped to its time)
    expect(run.stdout).toMatch(/first packet record 1, 0\.000000 s/);
    expect(run.stdout).toMatch(/evidence: record 96, 2\.030000 s, off the hooks, __neigh_event_send \(the queue full: NEIGH_QUEUEFULL\)/);
  });
});
