/**
 * dumpcap's own pcapng files, read against what the same packets are in another form: the
 * kernel recording pcapng-capture against tcpdump's classic-pcap rewrite of it, and the
 * two-interface recording's Ethernet frames against their SLL2 copies on "any".
 */
import { describe, expect, it } from 'vitest';
import { PacketDirection } from '../../src/capture/record.js';
import { records } from './pcapng-read.js';

const fixture = (path: string): string => new URL(`../../fixtures/${path}`, import.meta.url).pathname;

describe('fixtures/kernel/pcapng-capture (dumpcap -i any -y LINUX_SLL2)', () => {
  it('reads the 36 packets tcpdump rewrote as capture.pcap, to the nanosecond where it kept microseconds', async () => {
    const ng = await records(fixture('kernel/pcapng-capture/capture.pcapng'));
    const pcap = await records(fixture('kernel/pcapng-capture/capture.pcap'));
    expect(ng).toHaveLength(36);
    expect(ng.map((r) => [r.sec, Math.floor(r.nsec / 1000) * 1000, r.ifindex, r.direction, r.protocol, Buffer.from(r.payload).toString('hex')])).toEqual(
      pcap.map((r) => [r.sec, r.nsec, r.ifindex, r.direction, r.protocol, Buffer.from(r.payload).toString('hex')]),
    );
    expect(ng.some((r) => r.nsec % 1000 !== 0)).toBe(true);
  });
});

describe('fixtures/kernel-experiments/pcapng-two-interfaces (any as SLL2, eth1 as Ethernet)', () => {
  it('decodes each interface by its own link type: every eth1 frame is an "any" frame of ifindex 2', async () => {
    const all = await records(fixture('kernel-experiments/pcapng-two-interfaces/capture.pcapng'));
    const ethernet = all.filter((r) => r.ifindex === 0);
    const eth1 = all.filter((r) => r.ifindex === 2);
    expect([all.length, ethernet.length, eth1.length]).toEqual([24, 8, 8]);
    // Ethernet carries no direction, and dumpcap writes no epb_flags
    expect(ethernet.every((r) => r.direction === PacketDirection.Unknown)).toBe(true);
    const key = (r: (typeof all)[number]) => `${r.sec}.${r.nsec} ${r.protocol} ${Buffer.from(r.payload).toString('hex')}`;
    expect(ethernet.map(key).sort()).toEqual(eth1.map(key).sort());
  });
});
