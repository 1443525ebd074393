/**
 * Echo requests to the host's own addresses get the kernel's answer (icmp_echo): in a capture
 * replay natsim makes the reply itself (the capture's copy of it, if any, is claimed as made).
 * A scenario's ping of the host's own address is in sockets.test.ts.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../cli/helpers.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { LinkType, PacketDirection } from '../../src/capture/record.js';
import { ETH_P_IP } from '../../src/capture/link-layer.js';
import { loadNode, nodeScenario } from '../../src/node/snapshot.js';
import { buildIcmpEcho } from '../../src/packet/build.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { Ipv4Packet } from '../../src/packet/ipv4.js';
import { replayCapture } from '../../src/world/capture-replay.js';

const ip = (s: string) => parseIpv4(s)!;
const NODE = 'fixtures/kernel/icmp-masq';

describe('echo requests to the host itself', () => {
  it('a captured echo request to the node’s eth0 address gets the kernel’s echo reply', async () => {
    const file = join(tempDir(), 'ping.pcap');
    const w = new PcapWriter(file, { linkType: LinkType.LinuxSll2 });
    const req = buildIcmpEcho({ saddr: ip('192.168.206.1'), daddr: ip('192.168.206.250'), ipId: 7, ttl: 64, type: 8, echoId: 0x1234, seq: 3, payload: new Uint8Array([1, 2, 3]) });
    w.write({ sec: 1000, nsec: 0, ifindex: 3, direction: PacketDirection.Host, protocol: ETH_P_IP, payload: req.data });
    w.close();
    const r = await replayCapture(file, nodeScenario(loadNode(NODE)), { keepPackets: true });
    expect(r.packets!.sent).toHaveLength(1);
    const reply = Ipv4Packet.decode(r.packets!.sent[0]!.bytes);
    if (typeof reply === 'string') throw new Error(reply);
    expect([reply.saddr, reply.daddr, reply.icmpType, reply.sport]).toEqual([ip('192.168.206.250'), ip('192.168.206.1'), 0, 0x1234]);
    expect(r.packets!.sent[0]!.ifindex).toBe(3);
  });
});
