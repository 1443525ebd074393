import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapWriter, type WritableRecord } from '../../src/capture/pcap-writer.js';
import { readPcap } from '../../src/capture/pcap-reader.js';
import { ChunkPool, type Chunk } from '../../src/capture/chunk-pool.js';
import { LinkType, PacketDirection } from '../../src/capture/record.js';
import { collect, pcapBytes, sll2Frame, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

const echo = Uint8Array.from(Buffer.from('4500001c00000000400100000a000301c0a8ce010800000000000000', 'hex'));
const arp = new Uint8Array(28).fill(7);

const written: WritableRecord[] = [
  { sec: 1795384896, nsec: 208866123, ifindex: 2, direction: PacketDirection.Host, protocol: 0x0800, payload: echo },
  {
    sec: 1795384896,
    nsec: 208935999,
    ifindex: 3,
    direction: PacketDirection.Outgoing,
    protocol: 0x0806,
    payload: arp,
    linkAddr: Uint8Array.of(0x42, 0xa3, 0x8a, 0x56, 0xf8, 0x85),
  },
];

function write(linkType: LinkType.LinuxSll2 | LinkType.RawIpv4, nanosecond: boolean, records: readonly WritableRecord[]) {
  const path = tmp.file('w.pcap');
  const w = new PcapWriter(path, { linkType, nanosecond });
  for (const r of records) w.write(r);
  w.close();
  return path;
}

describe('PcapWriter → readPcap', () => {
  it('round-trips SLL2 with microsecond timestamps (nanoseconds truncated)', async () => {
    const { summary, records } = await collect(write(LinkType.LinuxSll2, false, written));
    expect(summary).toEqual({ linkType: LinkType.LinuxSll2, records: 2, nanosecond: false });
    expect(records).toEqual([
      { index: 1, offset: 24, sec: 1795384896, nsec: 208866000, ifindex: 2, direction: PacketDirection.Host, protocol: 0x0800, payload: echo },
      { index: 2, offset: 24 + 16 + 20 + 28, sec: 1795384896, nsec: 208935000, ifindex: 3, direction: PacketDirection.Outgoing, protocol: 0x0806, payload: arp },
    ]);
  });

  it('round-trips SLL2 with nanosecond timestamps exactly', async () => {
    const { summary, records } = await collect(write(LinkType.LinuxSll2, true, written));
    expect(summary.nanosecond).toBe(true);
    expect(records.map((r) => r.nsec)).toEqual([208866123, 208935999]);
  });

  it('writes the SLL2 header as tcpdump -i any does, and the file header little-endian', () => {
    const bytes = readFileSync(write(LinkType.LinuxSll2, false, written.slice(1)));
    expect(bytes.subarray(0, 24).toString('hex')).toBe('d4c3b2a1' + '02000400' + '00000000' + '00000000' + '00000400' + '14010000');
    expect(bytes.subarray(40, 60).toString('hex')).toBe('0806' + '0000' + '00000003' + '0001' + '04' + '06' + '42a38a56f8850000');
  });

  it('round-trips raw IPv4, where ifindex and direction are not recorded', async () => {
    const ipOnly = [written[0]!, { ...written[0]!, sec: 1, nsec: 999 }];
    for (const nanosecond of [false, true]) {
      const { summary, records } = await collect(write(LinkType.RawIpv4, nanosecond, ipOnly));
      expect(summary).toEqual({ linkType: LinkType.RawIpv4, records: 2, nanosecond });
      expect(records[1]).toEqual({
        index: 2,
        offset: 24 + 16 + echo.length,
        sec: 1,
        nsec: nanosecond ? 999 : 0,
        ifindex: 0,
        direction: PacketDirection.Unknown,
        protocol: 0x0800,
        payload: echo,
      });
    }
  });

  it('writes records larger than its buffer, and many records across buffer flushes', async () => {
    const big = new Uint8Array(200_000).map((_, i) => i & 0xff);
    const many = Array.from({ length: 3000 }, (_, i) => ({ ...written[0]!, sec: i, payload: i === 1500 ? big : echo }));
    const { records } = await collect(write(LinkType.LinuxSll2, false, many));
    expect(records).toHaveLength(3000);
    expect(records.map((r) => r.sec)).toEqual(many.map((r) => r.sec));
    expect(Buffer.from(records[1500]!.payload).equals(big)).toBe(true); // toEqual is slow on 200 kB
    expect(records[2999]!.payload).toEqual(echo);
  });

  it('refuses what the file cannot hold, and writing after close', () => {
    expect(() => new PcapWriter(tmp.file('x'), { linkType: LinkType.Ethernet as LinkType.RawIpv4 })).toThrow(RangeError);
    const w = new PcapWriter(tmp.file('x'), { linkType: LinkType.RawIpv4 });
    expect(() => w.write(written[1]!)).toThrow('cannot hold protocol 0x806');
    w.close();
    expect(() => w.write(written[0]!)).toThrow('write after close');
  });
});

describe('hand-built files in both byte orders', () => {
  const frame = sll2Frame({ protocol: 0x0800, ifindex: 7, packetType: 4, payload: echo });
  for (const littleEndian of [true, false]) {
    for (const nanosecond of [false, true]) {
      it(`reads ${littleEndian ? 'little' : 'big'}-endian ${nanosecond ? 'nano' : 'micro'}second SLL2`, async () => {
        const bytes = pcapBytes({ littleEndian, nanosecond, linkType: 276 }, [
          { sec: 100, frac: 999_999, frame },
          { sec: 0xfffffffe, frac: 1, frame },
        ]);
        const { summary, records } = await collect(tmp.file('h.pcap', bytes));
        expect(summary).toEqual({ linkType: 276, records: 2, nanosecond });
        const scale = nanosecond ? 1 : 1000;
        expect(records.map((r) => [r.sec, r.nsec, r.ifindex, r.direction, r.protocol])).toEqual([
          [100, 999_999 * scale, 7, PacketDirection.Outgoing, 0x0800],
          [0xfffffffe, scale, 7, PacketDirection.Outgoing, 0x0800],
        ]);
        expect(records[1]!.payload).toEqual(echo);
      });
    }
  }
});

describe('streaming', () => {
  it('hands the same record object to every callback, its payload a view of the frame', async () => {
    const seen = new Set<object>();
    let views = true;
    await readPcap(write(LinkType.LinuxSll2, false, written), (r) => {
      seen.add(r);
      views &&= r.payload.buffer.byteLength > r.payload.length;
    });
    expect(seen.size).toBe(1);
    expect(views).toBe(true);
  });
});

describe('readPcap across its reads', () => {
  /** 12 MiB of raw IPv4 records from 20 bytes to the 262144-byte maximum (big-endian, by hand). */
  function bigCapture(): { path: string; frames: Uint8Array[] } {
    const frames: Uint8Array[] = [];
    let bytes = 0;
    for (let i = 0; bytes < 12 << 20; i++) {
      const size = i % 97 === 0 ? 262144 : 20 + ((i * 7919) % 3000);
      const frame = new Uint8Array(size);
      frame[0] = 0x45;
      frame[1] = i & 255;
      frame[size - 1] = (i >> 8) & 255;
      frames.push(frame);
      bytes += 16 + size;
    }
    return { path: tmp.file('big.pcap', pcapBytes({ littleEndian: false, linkType: LinkType.RawIpv4 }, frames.map((frame, i) => ({ sec: i, frac: i % 1000000, frame })))), frames };
  }

  it('reads a file many times its 4 MiB buffer, with records of every size cut by the reads, exactly', async () => {
    const { path, frames } = bigCapture();
    let n = 0;
    let offset = 24;
    const summary = await readPcap(path, (r) => {
      const frame = frames[n]!;
      expect(r.index).toBe(n + 1);
      expect(r.offset).toBe(offset);
      expect(r.sec).toBe(n);
      expect(r.payload.length).toBe(frame.length);
      expect([r.payload[1], r.payload[frame.length - 1]]).toEqual([frame[1], frame[frame.length - 1]]);
      offset += 16 + frame.length;
      n++;
    });
    expect(summary.records).toBe(frames.length);
    expect(n).toBe(frames.length);
  });

  it('stops where the consumer says, or fails with its error, while the next piece is being read', async () => {
    const { path, frames } = bigCapture();
    let n = 0;
    const summary = await readPcap(path, () => ++n < 1000);
    expect([n, summary.records]).toEqual([1000, 1000]);
    expect(frames.length).toBeGreaterThan(1000);

    const boom = new Error('consumer failed');
    await expect(
      readPcap(path, (r) => {
        if (r.index === 1000) throw boom;
      }),
    ).rejects.toBe(boom);
  });

  it('with a pool, reads into the same three chunks over and over', async () => {
    const { path } = bigCapture();
    const chunks = new Set<Chunk>();
    await readPcap(path, (r) => void chunks.add(r.chunk), new ChunkPool());
    expect(chunks.size).toBe(3); // the chunk being read and the two kept behind it (chunk-pool.ts)
  });
});
