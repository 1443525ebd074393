/**
 * A capture whose link type carries no direction (raw IPv4 here) is fed as it is read, without
 * the lookahead a cooked capture needs to pair what the kernel sent: replaying only the received
 * packets of a kernel recording that way makes natsim send what it sends for the recording.
 * The same comparison on the bench's workload checks the lookahead itself: thousands of records
 * wait in it (pending-ring.ts grows and wraps), and each is read again from the file when fed
 * (capture/trailing-reader.ts), in pcap and in pcapng.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync } from 'node:fs';
import { openCaptureWriter, readCapture } from '../../src/capture/index.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { LinkType, PacketDirection } from '../../src/capture/record.js';
import { loadNode, nodeScenario } from '../../src/node/snapshot.js';
import { replayCapture } from '../../src/world/capture-replay.js';
import { loadScenario } from '../../src/scenario/load.js';
import { writeWorkload } from '../../src/bench/workload.js';
import { tempDir } from '../capture/helpers.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

/** The received IPv4 packets of a cooked capture, as a raw IPv4 pcap (no direction, no interface). */
async function rawCopy(cooked: string, name: string): Promise<string> {
  const raw = tmp.file(name);
  const w = new PcapWriter(raw, { linkType: LinkType.RawIpv4, nanosecond: true });
  await readCapture(cooked, (r) => {
    if (r.protocol === 0x0800 && r.direction !== PacketDirection.Outgoing) w.write({ ...r, payload: Uint8Array.from(r.payload), direction: PacketDirection.Unknown, ifindex: 0 });
  });
  w.close();
  return raw;
}

/**
 * The bench's workload at its rate (1.5 s, so the lookahead is feeding), then ten times as fast:
 * the lookahead ring grows while it has wrapped.
 */
async function burstyWorkload(name: string): Promise<string> {
  const [calm, burst] = [tmp.file(`calm-${name}`), tmp.file(`burst-${name}`)];
  writeWorkload(calm, 14_000, 2);
  writeWorkload(burst, 14_000, 3, 'ipv4', 8_000);
  const out = tmp.file(name);
  const w = openCaptureWriter(out, { linkType: LinkType.LinuxSll2 });
  let end = { sec: 0, nsec: 0 };
  await readCapture(calm, (r) => {
    w.write({ ...r, payload: Uint8Array.from(r.payload) });
    end = { sec: r.sec, nsec: r.nsec };
  });
  let first: number | null = null;
  await readCapture(burst, (r) => {
    first ??= r.sec * 1e9 + r.nsec;
    const t = end.sec * 1e9 + end.nsec + 1000 + (r.sec * 1e9 + r.nsec - first);
    w.write({ ...r, sec: Math.floor(t / 1e9), nsec: t % 1e9, payload: Uint8Array.from(r.payload) });
  });
  w.close();
  copyFileSync(calm.replace(/\.pcap(ng)?$/, '.yaml'), out.replace(/\.pcap(ng)?$/, '.yaml'));
  return out;
}

const sent = (r: Awaited<ReturnType<typeof replayCapture>>): string[] => r.packets!.sent.map((p) => `${p.ifindex} ${Buffer.from(p.bytes).toString('hex')}`);

describe('replaying a raw IPv4 capture (no direction, no lookahead)', () => {
  it.each(['icmp-masq', 'tcp-lifecycle'])('sends what the SLL2 recording makes natsim send (%s)', async (name) => {
    const dir = `fixtures/kernel/${name}`;
    const raw = await rawCopy(`${dir}/capture.pcap`, `${name}.pcap`);
    const spec = nodeScenario(loadNode(dir));
    const cooked = await replayCapture(`${dir}/capture.pcap`, spec, { keepPackets: true });
    const fromRaw = await replayCapture(raw, spec, { keepPackets: true });
    expect(fromRaw.packets!.recorded).toEqual([]);
    expect(sent(fromRaw)).toEqual(sent(cooked));
    expect(sent(cooked).length).toBeGreaterThan(0);
  });

  it.each(['workload.pcap', 'workload.pcapng'])('sends what the lookahead sends for tens of thousands of records in it (bench %s)', async (name) => {
    const cookedFile = await burstyWorkload(name);
    const raw = await rawCopy(cookedFile, `raw-${name}.pcap`);
    const spec = loadScenario(cookedFile.replace(/\.pcap(ng)?$/, '.yaml'));
    const cooked = await replayCapture(cookedFile, spec, { keepPackets: true });
    const fromRaw = await replayCapture(raw, spec, { keepPackets: true });
    expect([cooked.records, [...cooked.skipped]]).toEqual([28_000, []]);
    expect(sent(cooked).length).toBeGreaterThan(27_000);
    expect(sent(fromRaw)).toEqual(sent(cooked));
  });
});
