/**
 * Property tests (fixed seed, sized by runs): any valid pcapng reads back what was built; any
 * truncation or corruption of one is either read or one InputError with a byte offset, never
 * another exception or a hang; and PcapngWriter's output reads back as PcapWriter's does.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { LinkType, PacketDirection } from '../../src/capture/record.js';
import type { WritableRecord } from '../../src/capture/capture-writer.js';
import { InputError } from '../../src/errors.js';
import { readOutcome, sll2Frame, tempDir, type KeptRecord } from './helpers.js';
import { records } from './pcapng-read.js';
import { ethFrame, Ng, tsresol } from './pcapng-helpers.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

const RUNS = { seed: 20261202, numRuns: 150 };

/** A packet on interface `iface` (taken modulo the section's interfaces). */
const packet = fc.record({
  iface: fc.nat(),
  block: fc.constantFrom('epb', 'opb', 'spb'),
  ts: fc.bigInt({ min: 0n, max: (1n << 56n) - 1n }),
  flags: fc.constantFrom(0, 1, 2, 1 | (3 << 2)),
  payload: fc.uint8Array({ maxLength: 120 }),
  packetType: fc.constantFrom(0, 1, 2, 3, 4),
});
const section = fc.record({
  le: fc.boolean(),
  interfaces: fc.array(fc.record({ linkType: fc.constantFrom(1, 276), resol: fc.constantFrom(6, 9, 3, 0x80 | 20, 0x80 | 33) }), { minLength: 1, maxLength: 3 }),
  packets: fc.array(packet, { maxLength: 8 }),
  extra: fc.boolean(),
});
const file = fc.array(section, { minLength: 1, maxLength: 3 });

/** The file's bytes, its packet count, and the offsets where blocks start (and its end). */
function build(sections: readonly Section[]): { bytes: Buffer; packets: number; boundaries: number[] } {
  const blocks: Buffer[] = [];
  let packets = 0;
  for (const s of sections) {
    const ng = new Ng(s.le);
    blocks.push(ng.shb(), ...s.interfaces.map((i) => ng.idb(i.linkType, 0, [tsresol(i.resol)])));
    if (s.extra) blocks.push(ng.block(5, Buffer.alloc(16, 0xaa)));
    for (const p of s.packets) {
      const iface = p.block === 'spb' ? 0 : p.iface % s.interfaces.length;
      const frame = s.interfaces[iface]!.linkType === 1 ? ethFrame(p.payload) : sll2Frame({ protocol: 0x0800, ifindex: 2, packetType: p.packetType, payload: p.payload });
      const opts = p.flags === 0 ? [] : [ng.flags(p.flags)];
      blocks.push(p.block === 'epb' ? ng.epb(iface, p.ts, frame, opts) : p.block === 'opb' ? ng.opb(iface, p.ts, frame, opts) : ng.spb(frame.length, frame));
      packets++;
    }
  }
  const boundaries = [0];
  for (const b of blocks) boundaries.push(boundaries[boundaries.length - 1]! + b.length);
  return { bytes: Buffer.concat(blocks), packets, boundaries };
}
type Section = typeof section extends fc.Arbitrary<infer T> ? T : never;

const outcome = (bytes: Uint8Array) => readOutcome(tmp.file('m.pcapng', bytes));

describe('pcapng files built by hand', () => {
  it('read back every packet, whatever the sections, byte orders, interfaces and blocks', async () => {
    await fc.assert(
      fc.asyncProperty(file, async (sections) => {
        const { bytes, packets } = build(sections);
        expect(await outcome(bytes)).toBe(packets);
      }),
      RUNS,
    );
  });

  it('cut anywhere: whole blocks up to a block boundary, else one InputError at the cut block', async () => {
    await fc.assert(
      fc.asyncProperty(file, fc.nat(), async (sections, cutSeed) => {
        const { bytes, boundaries } = build(sections);
        const cut = cutSeed % bytes.length;
        const got = await outcome(bytes.subarray(0, cut));
        if (cut < 4) {
          expect(got).toBeInstanceOf(InputError);
        } else if (boundaries.includes(cut)) {
          expect(typeof got).toBe('number');
        } else {
          expect(got).toBeInstanceOf(InputError);
          const last = boundaries.filter((b) => b < cut).at(-1)!;
          expect((got as InputError).place.offset).toBe(last);
          expect((got as InputError).message).toMatch(/byte offset \d+\): file ends inside a block/);
        }
      }),
      RUNS,
    );
  });

  it('a corrupted byte is read or refused with a byte offset, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(file, fc.nat(), fc.integer({ min: 0, max: 255 }), async (sections, atSeed, value) => {
        const { bytes } = build(sections);
        const at = atSeed % bytes.length;
        const corrupt = Buffer.from(bytes);
        corrupt[at] = value;
        const got = await outcome(corrupt);
        if (got instanceof InputError) expect(got.place.offset).toBeTypeOf('number');
      }),
      RUNS,
    );
  });

  it('a corrupted 32-bit length anywhere is read or refused, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(file, fc.nat(), fc.integer({ min: 0, max: 0xffffffff }), async (sections, atSeed, value) => {
        const { bytes } = build(sections);
        const at = (atSeed % Math.floor(bytes.length / 4)) * 4;
        const corrupt = Buffer.from(bytes);
        corrupt.writeUInt32LE(value, at);
        const got = await outcome(corrupt);
        if (got instanceof InputError) expect(got.place.offset).toBeTypeOf('number');
      }),
      RUNS,
    );
  });
});

describe('round trip: PcapngWriter reads back as PcapWriter does', () => {
  const record = fc.record({
    sec: fc.integer({ min: 0, max: 0xffffffff }),
    nsec: fc.integer({ min: 0, max: 999_999_999 }),
    ifindex: fc.integer({ min: 0, max: 0xffffffff }),
    direction: fc.constantFrom(PacketDirection.Host, PacketDirection.Broadcast, PacketDirection.Multicast, PacketDirection.OtherHost, PacketDirection.Outgoing),
    protocol: fc.integer({ min: 0, max: 0xffff }),
    hatype: fc.integer({ min: 0, max: 0xffff }),
    linkAddr: fc.uint8Array({ maxLength: 8 }),
    payload: fc.uint8Array({ maxLength: 300 }),
  });

  it('SLL2, nanoseconds and microseconds: the same records, time, interface, direction and bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(record, { maxLength: 20 }), fc.boolean(), async (list, nanosecond) => {
        const paths = ['r.pcap', 'r.pcapng'].map((name) => tmp.file(name));
        const writers = [new PcapWriter(paths[0]!, { linkType: LinkType.LinuxSll2, nanosecond }), new PcapngWriter(paths[1]!, { linkType: LinkType.LinuxSll2, nanosecond })];
        for (const w of writers) {
          for (const r of list as WritableRecord[]) w.write(r);
          w.close();
        }
        const [pcap, pcapng] = await Promise.all(paths.map(records));
        const strip = (rs: KeptRecord[]) => rs.map(({ offset: _offset, ...r }) => r);
        expect(strip(pcapng!)).toEqual(strip(pcap!));
        expect(pcap).toHaveLength(list.length);
      }),
      RUNS,
    );
  });

  it('raw IPv4, where epb_flags are all the direction there is', async () => {
    const path = tmp.file('raw.pcapng');
    const w = new PcapngWriter(path, { linkType: LinkType.RawIpv4 });
    const payload = Uint8Array.of(0x45, 0, 0, 20, ...new Array<number>(16).fill(0));
    w.write({ sec: 5, nsec: 7000, ifindex: 0, direction: PacketDirection.Outgoing, protocol: 0x0800, payload });
    w.write({ sec: 6, nsec: 0, ifindex: 0, direction: PacketDirection.Unknown, protocol: 0x0800, payload });
    w.close();
    expect((await records(path)).map((r) => [r.sec, r.nsec, r.direction])).toEqual([
      [5, 7000, PacketDirection.Outgoing],
      [6, 0, PacketDirection.Unknown],
    ]);
  });
});
