/**
 * natsim verify never passes on nothing: a capture none of whose packets natsim compares (here
 * IPv6 neighbour discovery only, which it reads as it reads ARP) exits 1, and the records not
 * compared are counted by reason in the summary and in --json.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { LinkType, PacketDirection } from '../../src/capture/record.js';
import { ETH_P_IPV6 } from '../../src/capture/link-layer.js';
import { natsim, tempDir } from './helpers.js';

const NODE = 'fixtures/kernel/icmp-masq';

const NDP = 'NDP (neighbour discovery: read for which neighbours answer, as ARP is; the host\'s own not compared)';

/** A neighbour solicitation for fd00::1 (ICMPv6 135 right after the fixed header). */
function solicitation(): Uint8Array {
  const b = new Uint8Array(64);
  b[0] = 0x60;
  b[5] = 24;
  b[6] = 58;
  b[7] = 255;
  b[40] = 135;
  b[48] = 0xfd;
  b[63] = 1;
  return b;
}

/** A tcpdump -i any capture of `count` neighbour solicitations in and out. */
function ipv6Capture(count: number): string {
  const file = join(tempDir(), 'v6.pcap');
  const w = new PcapWriter(file, { linkType: LinkType.LinuxSll2, nanosecond: true });
  for (let i = 0; i < count; i++) {
    const direction = i % 2 === 0 ? PacketDirection.Host : PacketDirection.Outgoing;
    w.write({ sec: 1, nsec: i * 1000, ifindex: 2, direction, protocol: ETH_P_IPV6, payload: solicitation() });
  }
  w.close();
  return file;
}

describe('natsim verify on a capture natsim cannot compare', () => {
  it('exits 1 and says nothing was compared, and which records were not', async () => {
    const run = await natsim('verify', ipv6Capture(4), '--node', NODE);
    expect(run.code).toBe(1);
    const lines = run.stdout.trim().split('\n');
    expect(lines.slice(-2)).toEqual([`not compared: 4 records (4 × ${NDP})`, 'verify: 0/0 packets match: nothing was compared, so nothing is verified']);
  });

  it('--json has the records not compared by reason in the summary', async () => {
    const run = await natsim('verify', ipv6Capture(3), '--node', NODE, '--json');
    expect(run.code).toBe(1);
    const summary = JSON.parse(run.stdout).summary;
    expect(summary).toMatchObject({ total: 0, matched: 0, notCompared: { total: 3, byReason: { [NDP]: 3 } } });
  });

  it('a kernel recording still passes, its ARP counted as not compared', async () => {
    const run = await natsim('verify', `${NODE}/capture.pcap`, '--node', NODE, '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).summary).toMatchObject({ matched: 6, total: 6, notCompared: { total: 4, byReason: { ARP: 4 } } });
  });
});
