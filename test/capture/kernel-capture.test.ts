/**
 * The kernel recording of fixtures/kernel/icmp-masq (`tcpdump -i any`, LINUX_SLL2) read
 * record by record against tcpdump's own text of the same file, capture.txt.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/index.js';
import { LinkType, PacketDirection } from '../../src/capture/record.js';
import { collect, type KeptRecord } from './helpers.js';

const dir = fileURLToPath(new URL('../../fixtures/kernel/icmp-masq/', import.meta.url));
const pcap = `${dir}capture.pcap`;

const DIRECTIONS: Record<string, PacketDirection> = {
  In: PacketDirection.Host,
  B: PacketDirection.Broadcast,
  M: PacketDirection.Multicast,
  P: PacketDirection.OtherHost,
  Out: PacketDirection.Outgoing,
};

/** One line of `tcpdump -nn -e -i any -r capture.pcap`, the fields a record carries. */
interface TextLine {
  usec: number;
  direction: PacketDirection;
  ifindex: number;
  protocol: number;
  length: number;
}

function textLines(): TextLine[] {
  const text = readFileSync(`${dir}capture.txt`, 'utf8').trim().split('\n');
  return text.map((line) => {
    const m = /^\d\d:\d\d:\d\d\.(\d{6}) \S+\s+(\S+)\s+ifindex (\d+) \S+ ethertype \S+ \(0x([0-9a-f]{4})\), length (\d+):/.exec(line);
    if (m === null) throw new Error(`unexpected line: ${line}`);
    return { usec: +m[1]!, direction: DIRECTIONS[m[2]!]!, ifindex: +m[3]!, protocol: parseInt(m[4]!, 16), length: +m[5]! };
  });
}

describe('fixtures/kernel/icmp-masq/capture.pcap', async () => {
  const { summary, records } = await collect(pcap);
  const expected = textLines();

  it('is a microsecond LINUX_SLL2 capture with one record per line of capture.txt', () => {
    expect(summary).toEqual({ linkType: LinkType.LinuxSll2, records: 16, nanosecond: false });
    expect(records).toHaveLength(expected.length);
  });

  it('matches tcpdump record by record: time, direction, ifindex, EtherType, length', () => {
    const got = records.map((r: KeptRecord) => ({
      usec: r.nsec / 1000,
      direction: r.direction,
      ifindex: r.ifindex,
      protocol: r.protocol,
      length: r.payload.length + 20,
    }));
    expect(got).toEqual(expected);
  });

  it('numbers records from 1 and gives each its byte offset', () => {
    expect(records.map((r) => r.index)).toEqual(records.map((_, i) => i + 1));
    expect(records[0]!.offset).toBe(24);
    for (let i = 1; i < records.length; i++) {
      expect(records[i]!.offset).toBe(records[i - 1]!.offset + 16 + 20 + records[i - 1]!.payload.length);
    }
  });

  it('has the first echo request coming In on ifb0 (ifindex 2), and every Out IPv4 of ifb1 on ifindex 3', () => {
    const firstIn = records.find((r) => r.protocol === 0x0800 && r.direction === PacketDirection.Host)!;
    expect(firstIn).toMatchObject({ index: 3, ifindex: 2, sec: 0x6b036240 });
    expect([...firstIn.payload.subarray(12, 20)]).toEqual([10, 0, 3, 1, 192, 168, 206, 1]);
    const ip = (r: KeptRecord, at: number) => [...r.payload.subarray(at, at + 4)].join('.');
    const outIpv4 = records.filter((r) => r.direction === PacketDirection.Outgoing && r.protocol === 0x0800);
    const masqueraded = outIpv4.filter((r) => ip(r, 12) === '192.168.206.250');
    const deNATed = outIpv4.filter((r) => ip(r, 16) === '10.0.3.1');
    expect(masqueraded.map((r) => r.ifindex)).toEqual([3, 3, 3]);
    expect(deNATed.map((r) => r.ifindex)).toEqual([2, 2, 2]);
  });

  it('reads the same through readCapture', async () => {
    let n = 0;
    await expect(readCapture(pcap, () => void n++)).resolves.toEqual(summary);
    expect(n).toBe(16);
  });
});
