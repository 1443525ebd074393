/**
 * A capture whose link type carries no direction (raw IPv4 here) is fed as it is read, without
 * the lookahead a cooked capture needs to pair what the kernel sent: replaying only the received
 * packets of a kernel recording that way makes natsim send what it sends for the recording.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/index.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { LinkType, PacketDirection } from '../../src/capture/record.js';
import { loadNode, nodeScenario } from '../../src/node/snapshot.js';
import { replayCapture } from '../../src/world/capture-replay.js';
import { tempDir } from '../capture/helpers.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

describe('replaying a raw IPv4 capture (no direction, no lookahead)', () => {
  it.each(['icmp-masq', 'tcp-lifecycle'])('sends what the SLL2 recording makes natsim send (%s)', async (name) => {
    const dir = `fixtures/kernel/${name}`;
    const raw = tmp.file(`${name}.pcap`);
    const w = new PcapWriter(raw, { linkType: LinkType.RawIpv4, nanosecond: true });
    await readCapture(`${dir}/capture.pcap`, (r) => {
      if (r.protocol === 0x0800 && r.direction !== PacketDirection.Outgoing) w.write({ ...r, payload: Uint8Array.from(r.payload), direction: PacketDirection.Unknown, ifindex: 0 });
    });
    w.close();
    const spec = nodeScenario(loadNode(dir));
    const cooked = await replayCapture(`${dir}/capture.pcap`, spec, { keepPackets: true });
    const fromRaw = await replayCapture(raw, spec, { keepPackets: true });
    const sent = (r: typeof cooked) => r.packets!.sent.map((p) => `${p.ifindex} ${Buffer.from(p.bytes).toString('hex')}`);
    expect(fromRaw.packets!.recorded).toEqual([]);
    expect(sent(fromRaw)).toEqual(sent(cooked));
    expect(sent(cooked).length).toBeGreaterThan(0);
  });
});
