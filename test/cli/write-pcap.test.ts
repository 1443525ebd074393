/**
 * --write-pcap: natsim's packets as a tcpdump -i any capture. Replaying a kernel recording and
 * writing what natsim saw gives the recording's IPv4 packets back, in order, In and Out; and
 * natsim verify accepts the written capture as if the kernel had made it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/index.js';
import { PacketDirection, type CaptureRecord } from '../../src/capture/record.js';
import { natsim, tempDir } from './helpers.js';

async function ipv4Records(file: string): Promise<string[]> {
  const out: string[] = [];
  await readCapture(file, (r: CaptureRecord) => {
    if (r.protocol !== 0x0800) return;
    out.push(`${r.direction === PacketDirection.Outgoing ? 'out' : 'in'} ${r.ifindex} ${Buffer.from(r.payload).toString('hex')}`);
  });
  return out;
}

describe('--write-pcap', () => {
  it('round trip: the recording replayed and written again holds the same IPv4 packets in the same order', async () => {
    const dir = 'fixtures/kernel/tcp-lifecycle';
    const written = join(tempDir(), 'natsim.pcap');
    const run = await natsim('stats', '--plain', '--write-pcap', written, `${dir}/capture.pcap`);
    expect(run.code).toBe(0);
    const original = await ipv4Records(`${dir}/capture.pcap`);
    expect(await ipv4Records(written)).toEqual(original);
  });

  it.each(['tcp-lifecycle', 'port-range-exhaustion-udp', 'masq-to-ports-multi-ip'])('keeps the capture\'s timestamps, the kernel\'s for what it sent, in tcpdump\'s order (%s)', async (name) => {
    const dir = `fixtures/kernel/${name}`;
    const written = join(tempDir(), 'natsim.pcap');
    expect((await natsim('stats', '--plain', '--write-pcap', written, `${dir}/capture.pcap`)).code).toBe(0);
    const stamped = async (file: string): Promise<string[]> => {
      const out: string[] = [];
      await readCapture(file, (r: CaptureRecord) => void (r.protocol === 0x0800 && out.push(`${r.sec}.${String(r.nsec).padStart(9, '0')} ${r.direction === PacketDirection.Outgoing ? 'out' : 'in'} ${r.ifindex}`)));
      return out;
    };
    expect(await stamped(written)).toEqual(await stamped(`${dir}/capture.pcap`));
  });

  it('FILE.pcapng: pcapng (SHB, IDB, EPBs) with the same packets and times as FILE.pcap', async () => {
    const dir = 'fixtures/kernel/tcp-lifecycle';
    const [pcap, pcapng] = ['natsim.pcap', 'natsim.pcapng'].map((name) => join(tempDir(), name));
    for (const file of [pcap!, pcapng!]) expect((await natsim('stats', '--plain', '--write-pcap', file, `${dir}/capture.pcap`)).code).toBe(0);
    expect(readFileSync(pcapng!).readUInt32LE(0)).toBe(0x0a0d0d0a);
    const timed = async (file: string): Promise<string[]> => {
      const out: string[] = [];
      await readCapture(file, (r: CaptureRecord) => void out.push(`${r.sec}.${r.nsec} ${r.direction} ${r.ifindex} ${Buffer.from(r.payload).toString('hex')}`));
      return out;
    };
    expect(await timed(pcapng!)).toEqual(await timed(pcap!));
  });

  it('natsim verify reads it as a kernel capture', async () => {
    const written = join(tempDir(), 'natsim.pcap');
    await natsim('stats', '--plain', '--write-pcap', written, 'fixtures/kernel/masq-to-ports-multi-ip/capture.pcap');
    const run = await natsim('verify', written, '--node', 'fixtures/kernel/masq-to-ports-multi-ip');
    expect(run.stdout).toContain('verify: 34/34 packets match');
    expect(run.code).toBe(0);
  });
});

describe('natsim verify --write-pcap', () => {
  it('round trip: capture → verify → written capture, with the same IPv4 packets in order, which verifies again', async () => {
    const dir = 'fixtures/kernel/snat-timewait-reuse';
    const written = join(tempDir(), 'natsim.pcap');
    expect((await natsim('verify', `${dir}/capture.pcap`, '--node', dir, '--write-pcap', written)).code).toBe(0);
    expect((await natsim('verify', written, '--node', dir)).stdout).toMatch(/verify: (\d+)\/\1 packets match/);
    expect(await ipv4Records(written)).toEqual(await ipv4Records(`${dir}/capture.pcap`));
  });

  it('icmp-error-related: the packet the kernel never sent (ARP failed) is not in the written capture either', async () => {
    const dir = 'fixtures/kernel/icmp-error-related';
    const written = join(tempDir(), 'natsim.pcap');
    expect((await natsim('verify', `${dir}/capture.pcap`, '--node', dir, '--write-pcap', written)).code).toBe(0);
    const ours = await ipv4Records(written);
    const kernel = await ipv4Records(`${dir}/capture.pcap`);
    expect(ours.length).toBe(kernel.length);
    expect(ours.map((r) => r.split(' ').slice(0, 2).join(' '))).toEqual(kernel.map((r) => r.split(' ').slice(0, 2).join(' ')));
  });
});

describe('--write-pcap of IPv6', () => {
  it('writes IPv6 packets as SLL2 protocol ETH_P_IPV6 (0x86dd), not as IPv4 (seed ip6-masq-sockets: 15 packets in and out of rt1, the server sending FIN and ACK in one segment)', async () => {
    const written = join(tempDir(), 'natsim.pcap');
    expect((await natsim('trace', '--write-pcap', written, 'fixtures/seeds/ip6-masq-sockets.yaml')).code).toBe(0);
    const records: [number, number][] = [];
    await readCapture(written, (r: CaptureRecord) => void records.push([r.protocol, r.payload[0]! >> 4]));
    expect(records).toEqual(Array(30).fill([0x86dd, 6]));
  });
});
