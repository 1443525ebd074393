/**
 * A capture replay's packets for a next hop that never answers ARP (world/neighbours.ts): they
 * wait NEIGH_FAIL_NS, then each is answered with host unreachable (ipv4_link_failure) quoting
 * that packet — though the replay went on feeding other records meanwhile, on an skb it reuses
 * for every record (Host.recycleRx): the waiting ones must be held, not remade.
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
import { tempDir } from '../cli/helpers.js';

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

describe('packets waiting on a neighbour that never answers', () => {
  it('are each answered with host unreachable quoting itself, whatever was fed meanwhile', async () => {
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
    const w = openCaptureWriter(pcap, { linkType: LinkType.LinuxSll2 });
    const udp = (src: string, ms: number): void =>
      w.write({ sec: 0, nsec: ms * 1e6, ifindex: 2, direction: PacketDirection.Host, protocol: ETH_P_IP, payload: buildUdp({ saddr: ip(src), daddr: ip('198.51.100.9'), sport: 1000, dport: 53, ipId: 1, ttl: 64, payload: new Uint8Array(4) }).data });
    udp('10.0.0.5', 0);
    w.write({ sec: 0, nsec: 1e6, ifindex: 3, direction: PacketDirection.Outgoing, protocol: ETH_P_ARP, payload: arpRequest(ip(GATEWAY)) });
    udp('10.0.0.6', 200);
    udp('10.0.0.7', 400);
    w.close();
    const r = await replayCapture(pcap, loadScenario(join(dir, 'rt.yaml')), { keepPackets: true, until: 10e9 });
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
});
