/** Property tests (fixed seed, bounded runs): round trips, and malformed headers never crash. */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapWriter, type WritableRecord } from '../../src/capture/pcap-writer.js';
import { LinkType, PacketDirection } from '../../src/capture/record.js';
import { InputError } from '../../src/errors.js';
import { collect, readOutcome, pcapBytes, sll2Frame, tempDir, type HandRecord } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

const RUNS = { seed: 20240611, numRuns: 100 };
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const direction = fc.constantFrom(
  PacketDirection.Host,
  PacketDirection.Broadcast,
  PacketDirection.Multicast,
  PacketDirection.OtherHost,
  PacketDirection.Outgoing,
);

const sll2Record = fc.record({
  sec: u32,
  nsec: fc.integer({ min: 0, max: 999_999_999 }),
  ifindex: u32,
  direction,
  protocol: fc.integer({ min: 0, max: 0xffff }),
  hatype: fc.integer({ min: 0, max: 0xffff }),
  linkAddr: fc.uint8Array({ maxLength: 8 }),
  payload: fc.uint8Array({ maxLength: 300 }),
});

const ipv4Record = fc.record({
  sec: u32,
  nsec: fc.integer({ min: 0, max: 999_999_999 }),
  ifindex: fc.constant(0),
  direction: fc.constant(PacketDirection.Unknown),
  protocol: fc.constant(0x0800),
  payload: fc.uint8Array({ minLength: 1, maxLength: 300 }),
});

const writerCase = fc.oneof(
  fc.record({ linkType: fc.constant(LinkType.LinuxSll2 as const), nanosecond: fc.boolean(), records: fc.array(sll2Record, { maxLength: 20 }) }),
  fc.record({ linkType: fc.constant(LinkType.RawIpv4 as const), nanosecond: fc.boolean(), records: fc.array(ipv4Record, { maxLength: 20 }) }),
);

/** A valid hand-built SLL2 capture in either byte order and resolution. */
const handCase = fc
  .record({ littleEndian: fc.boolean(), nanosecond: fc.boolean() })
  .chain(({ littleEndian, nanosecond }) =>
    fc.record({
      littleEndian: fc.constant(littleEndian),
      nanosecond: fc.constant(nanosecond),
      records: fc.array(
        fc.record({
          sec: u32,
          frac: fc.integer({ min: 0, max: nanosecond ? 999_999_999 : 999_999 }),
          ifindex: u32,
          packetType: direction,
          protocol: fc.integer({ min: 0, max: 0xffff }),
          payload: fc.uint8Array({ maxLength: 200 }),
        }),
        { maxLength: 6 },
      ),
    }),
  );

type HandCase = typeof handCase extends fc.Arbitrary<infer T> ? T : never;

function handFile(c: HandCase): { bytes: Buffer; records: HandRecord[] } {
  const records = c.records.map((r) => ({ sec: r.sec, frac: r.frac, frame: sll2Frame(r) }));
  return { bytes: pcapBytes({ littleEndian: c.littleEndian, nanosecond: c.nanosecond, linkType: LinkType.LinuxSll2 }, records), records };
}

/** Where each record starts, and the end of the file. */
function boundaries(records: readonly HandRecord[]): number[] {
  const at = [24];
  for (const r of records) at.push(at[at.length - 1]! + 16 + r.frame.length);
  return at;
}

describe('round trips', () => {
  it('PcapWriter output reads back exactly (nanoseconds to the resolution written)', async () => {
    await fc.assert(
      fc.asyncProperty(writerCase, async ({ linkType, nanosecond, records }) => {
        const path = tmp.file('p.pcap');
        const w = new PcapWriter(path, { linkType, nanosecond });
        for (const r of records as WritableRecord[]) w.write(r);
        w.close();
        const got = await collect(path);
        const linkHeader = linkType === LinkType.LinuxSll2 ? 20 : 0;
        const offsets = [24];
        for (const r of records) offsets.push(offsets[offsets.length - 1]! + 16 + linkHeader + r.payload.length);
        expect(got.summary).toEqual({ linkType, records: records.length, nanosecond });
        expect(got.records).toEqual(
          records.map((r, i) => ({
            index: i + 1,
            offset: offsets[i],
            sec: r.sec,
            nsec: nanosecond ? r.nsec : r.nsec - (r.nsec % 1000),
            ifindex: r.ifindex,
            direction: r.direction,
            protocol: r.protocol,
            payload: r.payload,
          })),
        );
      }),
      RUNS,
    );
  });

  it('hand-built captures in either byte order read back exactly', async () => {
    await fc.assert(
      fc.asyncProperty(handCase, async (c) => {
        const { bytes } = handFile(c);
        const got = await collect(tmp.file('h.pcap', bytes));
        expect(got.summary.records).toBe(c.records.length);
        expect(got.records.map((r) => [r.sec, r.nsec, r.ifindex, r.direction, r.protocol, [...r.payload]])).toEqual(
          c.records.map((r) => [r.sec, c.nanosecond ? r.frac : r.frac * 1000, r.ifindex, r.packetType, r.protocol, [...r.payload]]),
        );
      }),
      RUNS,
    );
  });
});

describe('malformed files', () => {
  const outcome = (bytes: Uint8Array) => readOutcome(tmp.file('m.pcap', bytes));

  it('a truncated capture reads whole records up to a record boundary, and is an InputError elsewhere', async () => {
    await fc.assert(
      fc.asyncProperty(handCase, fc.nat(), async (c, cut) => {
        const { bytes, records } = handFile(c);
        const length = cut % (bytes.length + 1);
        const whole = boundaries(records).indexOf(length);
        const got = await outcome(bytes.subarray(0, length));
        if (whole >= 0) expect(got).toBe(whole);
        else expect(got).toBeInstanceOf(InputError);
      }),
      RUNS,
    );
  });

  it('corrupting bytes of the file or record headers yields records or an InputError, never another exception', async () => {
    const corruption = fc.array(fc.record({ pick: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(handCase, corruption, async (c, changes) => {
        const { bytes, records } = handFile(c);
        const headerBytes = [...Array(24).keys()];
        for (const at of boundaries(records).slice(0, -1)) headerBytes.push(...Array.from({ length: 16 }, (_, i) => at + i));
        for (const { pick, value } of changes) bytes[headerBytes[pick % headerBytes.length]!] = value;
        const got = await outcome(bytes);
        if (got instanceof InputError) expect(got.place.file).toMatch(/m\.pcap$/);
        else expect(got).toBeGreaterThanOrEqual(0);
      }),
      { ...RUNS, numRuns: 300 },
    );
  });
});
