/**
 * The pcapng reader block by block, in both byte orders, on files built by hand (pcapng-helpers):
 * what each block gives, and the file-offset error each malformed one gets.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/index.js';
import { PacketDirection, type CaptureSummary } from '../../src/capture/record.js';
import { InputError } from '../../src/errors.js';
import { rejection, sll2Frame, tempDir } from './helpers.js';
import { records } from './pcapng-read.js';
import { ethFrame, ifName, ipv4, Ng, tsresol } from './pcapng-helpers.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_SLL2 = 276;
const ip = ipv4();
const eth = ethFrame(ip);
const sll2 = (packetType: number, ifindex = 2) => sll2Frame({ protocol: 0x0800, ifindex, packetType, payload: ip });
/** 2024-01-01T00:00:00Z */
const T0 = 1_704_067_200n;

async function read(bytes: Uint8Array) {
  const path = tmp.file('t.pcapng', bytes);
  const summary: CaptureSummary = await readCapture(path, () => {});
  return { summary, records: await records(path) };
}

async function failure(bytes: Uint8Array): Promise<InputError> {
  const err = await rejection(readCapture(tmp.file('bad.pcapng', bytes), () => {}));
  expect(err).toBeInstanceOf(InputError);
  return err as InputError;
}

describe.each([
  ['little-endian', true],
  ['big-endian', false],
])('%s sections', (_name, le) => {
  const ng = new Ng(le);

  it('SHB, IDB (SLL2, nanoseconds) and EPBs: times, interface and direction from the SLL2 header', async () => {
    const file = Buffer.concat([ng.shb(), ng.idb(LINKTYPE_SLL2, 262144, [ifName('any'), tsresol(9)]), ng.epb(0, T0 * 1_000_000_000n + 123_456_789n, sll2(0)), ng.epb(0, (T0 + 1n) * 1_000_000_000n + 5n, sll2(4, 3))]);
    const { summary, records } = await read(file);
    expect(summary).toEqual({ linkType: LINKTYPE_SLL2, records: 2, nanosecond: true });
    expect(records.map((r) => [r.sec, r.nsec, r.ifindex, r.direction, r.protocol])).toEqual([
      [Number(T0), 123_456_789, 2, PacketDirection.Host, 0x0800],
      [Number(T0) + 1, 5, 3, PacketDirection.Outgoing, 0x0800],
    ]);
    expect(records[0]!.payload).toEqual(ip);
    // the offset of a record is where its block starts
    expect(records[0]!.offset).toBe(ng.shb().length + ng.idb(LINKTYPE_SLL2, 262144, [ifName('any'), tsresol(9)]).length);
  });

  it('microseconds when the IDB has no if_tsresol', async () => {
    const { summary, records } = await read(Buffer.concat([ng.shb(), ng.idb(LINKTYPE_ETHERNET), ng.epb(0, T0 * 1_000_000n + 999_999n, eth)]));
    expect(summary.nanosecond).toBe(false);
    expect([records[0]!.sec, records[0]!.nsec]).toEqual([Number(T0), 999_999_000]);
  });

  it.each([
    ['milliseconds (10^-3)', 3, T0, 7n, 7_000_000],
    // 2^64 picoseconds are 213 days: a 1970-based clock this fine cannot reach 2024
    ['picoseconds (10^-12), rounded toward zero', 12, 1000n, 1_999n, 1],
    ['2^-20 s', 0x80 | 20, T0, 1n << 19n, 500_000_000],
    ['2^-30 s', 0x80 | 30, T0, 3n, 2],
    ['whole seconds (10^0)', 0, T0, 0n, 0],
  ])('if_tsresol %s', async (_what, resol, sec, frac, nsec) => {
    const perSecond = resol & 0x80 ? 1n << BigInt(resol & 0x7f) : 10n ** BigInt(resol);
    const { records } = await read(Buffer.concat([ng.shb(), ng.idb(LINKTYPE_ETHERNET, 0, [tsresol(resol)]), ng.epb(0, sec * perSecond + frac, eth)]));
    expect([records[0]!.sec, records[0]!.nsec]).toEqual([Number(sec), nsec]);
  });

  // just below a whole second near 2^53 units, one float division rounds up to the next second
  it.each([
    ['2^53 - 1 ns', 9, (1n << 53n) - 1n],
    ['one ns short of a second, below 2^53', 9, (((1n << 53n) / 1_000_000_000n) * 1_000_000_000n) - 1n],
    ['one µs short of a second, below 2^53', 6, (((1n << 53n) / 1_000_000n) * 1_000_000n) - 1n],
    ['2^53 ns (long division)', 9, 1n << 53n],
    ['one ns short of a second, above 2^53', 9, (((1n << 60n) / 1_000_000_000n) * 1_000_000_000n) - 1n],
  ])('%s: the seconds and nanoseconds BigInt division gives', async (_what, resol, units) => {
    const perSecond = 10n ** BigInt(resol);
    const { records } = await read(Buffer.concat([ng.shb(), ng.idb(LINKTYPE_ETHERNET, 0, [tsresol(resol)]), ng.epb(0, units, eth)]));
    expect([records[0]!.sec, records[0]!.nsec]).toEqual([Number(units / perSecond), Number(((units % perSecond) * 1_000_000_000n) / perSecond)]);
  });

  it('if_tsoffset adds seconds to every timestamp, either sign', async () => {
    for (const offset of [3600n, -3600n]) {
      const { records } = await read(Buffer.concat([ng.shb(), ng.idb(LINKTYPE_ETHERNET, 0, [ng.tsoffset(offset)]), ng.epb(0, T0 * 1_000_000n, eth)]));
      expect(records[0]!.sec).toBe(Number(T0 + offset));
    }
  });

  it('epb_flags give an Ethernet packet its direction and reception type, as SLL packet types', async () => {
    const flags = [0, 1, 2, 1 | (1 << 2), 1 | (2 << 2), 1 | (3 << 2), 1 | (4 << 2)];
    const file = Buffer.concat([ng.shb(), ng.idb(LINKTYPE_ETHERNET), ...flags.map((f) => ng.epb(0, T0 * 1_000_000n, eth, [ng.flags(f)]))]);
    const { records } = await read(file);
    expect(records.map((r) => r.direction)).toEqual([
      PacketDirection.Unknown,
      PacketDirection.Host,
      PacketDirection.Outgoing,
      PacketDirection.Host,
      PacketDirection.Multicast,
      PacketDirection.Broadcast,
      PacketDirection.OtherHost,
    ]);
  });

  it('the SLL2 packet type wins over epb_flags (the kernel said it)', async () => {
    const { records } = await read(Buffer.concat([ng.shb(), ng.idb(LINKTYPE_SLL2), ng.epb(0, 0n, sll2(4), [ng.flags(1)])]));
    expect(records[0]!.direction).toBe(PacketDirection.Outgoing);
  });

  it('Simple Packet Blocks: interface 0, captured up to its snapshot length, the time of the packet before', async () => {
    const big = ethFrame(ipv4(100));
    const file = Buffer.concat([ng.shb(), ng.idb(LINKTYPE_ETHERNET, 60, [tsresol(9)]), ng.spb(big.length, big.subarray(0, 60)), ng.epb(0, T0 * 1_000_000_000n + 42n, eth), ng.spb(eth.length, eth)]);
    const { records } = await read(file);
    expect(records.map((r) => [r.sec, r.nsec, r.payload.length])).toEqual([
      [0, 0, 60 - 14],
      [Number(T0), 42, ip.length],
      [Number(T0), 42, ip.length],
    ]);
  });

  it('the obsolete Packet Block reads as an EPB (16-bit interface, pack_flags)', async () => {
    const { records } = await read(Buffer.concat([ng.shb(), ng.idb(LINKTYPE_ETHERNET), ng.idb(LINKTYPE_SLL2), ng.opb(1, T0 * 1_000_000n, sll2(0, 7)), ng.opb(0, T0 * 1_000_000n + 1n, eth, [ng.flags(2)])]));
    expect(records.map((r) => [r.ifindex, r.direction, r.nsec])).toEqual([
      [7, PacketDirection.Host, 0],
      [0, PacketDirection.Outgoing, 1000],
    ]);
  });

  it('several interfaces with different link types, each packet decoded by its own', async () => {
    const file = Buffer.concat([ng.shb(), ng.idb(LINKTYPE_SLL2, 262144, [ifName('any')]), ng.idb(LINKTYPE_ETHERNET, 262144, [ifName('eth1')]), ng.epb(1, 0n, eth), ng.epb(0, 0n, sll2(0)), ng.epb(1, 0n, eth)]);
    const { records } = await read(file);
    expect(records.map((r) => r.ifindex)).toEqual([0, 2, 0]);
    expect(records.every((r) => Buffer.from(r.payload).equals(Buffer.from(ip)))).toBe(true);
  });

  it('skips name resolution, interface statistics, decryption secrets, custom and unknown blocks', async () => {
    const skipped = [4, 5, 0x0a, 0x0bad, 0x40000bad, 0x80000001, 9].map((type) => ng.block(type, Buffer.alloc(12, 0xee)));
    const { records } = await read(Buffer.concat([ng.shb(), skipped[0]!, ng.idb(LINKTYPE_ETHERNET), ...skipped.slice(1), ng.epb(0, 0n, eth), ng.block(5, Buffer.alloc(0))]));
    expect(records).toHaveLength(1);
  });
});

describe('several sections', () => {
  const le = new Ng(true);
  const be = new Ng(false);

  it('each section has its own byte order and its own interfaces', async () => {
    const file = Buffer.concat([le.shb(), le.idb(LINKTYPE_ETHERNET), le.epb(0, 1_000_000n, eth), be.shb(), be.idb(LINKTYPE_SLL2, 0, [tsresol(9)]), be.epb(0, 2_000_000_000n, sll2(4)), le.shb(), le.idb(LINKTYPE_ETHERNET), le.epb(0, 3_000_000n, eth)]);
    const { records } = await read(file);
    expect(records.map((r) => [r.index, r.sec, r.direction])).toEqual([
      [1, 1, PacketDirection.Unknown],
      [2, 2, PacketDirection.Outgoing],
      [3, 3, PacketDirection.Unknown],
    ]);
  });

  it('an interface of an earlier section is out of range in the next', async () => {
    const head = Buffer.concat([le.shb(), le.idb(LINKTYPE_ETHERNET), le.idb(LINKTYPE_ETHERNET), be.shb(), be.idb(LINKTYPE_ETHERNET)]);
    const err = await failure(Buffer.concat([head, be.epb(1, 0n, eth)]));
    expect(err.place).toEqual({ file: err.place.file, record: 1, offset: head.length });
    expect(err.reason).toBe('interface 1 out of range: the section has 1 Interface Description Block');
  });
});

describe('malformed blocks: file (byte offset): reason', () => {
  const ng = new Ng(true);
  const head = Buffer.concat([ng.shb(), ng.idb(LINKTYPE_ETHERNET)]);
  const at = head.length;

  it.each<[string, Buffer, string]>([
    ['block length mismatch', ng.block(6, Buffer.alloc(20), { tail: 36 }), 'block length mismatch: the header says 32 bytes, the trailer 36'],
    ['length not a multiple of 4', ng.block(5, Buffer.alloc(4), { head: 18 }), 'block length 18 is not a multiple of 4'],
    ['length under 12', ng.block(5, Buffer.alloc(4), { head: 8 }), "block length 8 is shorter than a block's 12-byte header and trailer"],
    ['length beyond 4 MiB (refused before it is read)', ng.block(5, Buffer.alloc(4), { head: 64 << 20 }), 'block length 67108864 exceeds 4194304, the largest block natsim reads'],
    ['EPB shorter than its fields', ng.block(6, Buffer.alloc(8)), 'Enhanced Packet Block of 20 bytes is shorter than its 32-byte minimum'],
    ['IDB index out of range', ng.epb(3, 0n, eth), 'interface 3 out of range: the section has 1 Interface Description Block'],
    ['captured length past the block', ng.epb(0, 0n, eth, [], 400), 'captured length 400 runs past the end of the 76-byte block'],
    ['option past the block', ng.block(6, Buffer.concat([ng.u32(0), ng.u32(0), ng.u32(0), ng.u32(eth.length), ng.u32(eth.length), Buffer.from(eth), Buffer.alloc(2), ng.u16(2), ng.u16(40)])), "option 2 of 40 bytes runs past the end of the block's options"],
    ['direction bits 11', ng.epb(0, 0n, eth, [ng.flags(3)]), 'epb_flags 0x00000003 has direction bits 11, which pcapng leaves undefined'],
    ['frame its link type cannot decode', ng.epb(0, 0n, Uint8Array.of(1, 2, 3)), 'frame shorter than an Ethernet header'],
  ])('%s', async (_name, block, reason) => {
    const err = await failure(Buffer.concat([head, block]));
    expect(err.reason).toBe(reason);
    expect(err.place.offset).toBe(at);
    expect(err.message).toMatch(/^\S+\.pcapng \((record 1, )?byte offset \d+\): /);
  });

  it('bad byte-order magic in a later section header', async () => {
    const shb = ng.shb();
    shb.writeUInt32BE(0x11223344, 8);
    const err = await failure(Buffer.concat([head, shb]));
    expect(err.place.offset).toBe(at);
    expect(err.reason).toBe('bad byte-order magic 0x11223344 in the Section Header Block (expected 1a2b3c4d in either byte order)');
  });

  it('pcapng versions other than 1.0 (and 1.2)', async () => {
    expect((await read(new Ng(true).shb([], [1, 2]))).records).toEqual([]);
    expect((await failure(new Ng(false).shb([], [2, 0]))).reason).toBe('unsupported pcapng version 2.0; natsim reads 1.0');
  });

  it('a link type natsim does not read, at its first packet', async () => {
    const err = await failure(Buffer.concat([ng.shb(), ng.idb(LINKTYPE_ETHERNET), ng.idb(220, 0, [ifName('usb0')]), ng.epb(0, 0n, eth), ng.epb(1, 0n, eth)]));
    expect(err.place.record).toBe(2);
    expect(err.reason).toBe('interface 1 (usb0) has link type 220; natsim reads Ethernet (1), raw IP (101, 228), Linux SLL (113) and SLL2 (276)');
  });

  it('captured length beyond the interface snapshot length', async () => {
    const err = await failure(Buffer.concat([ng.shb(), ng.idb(LINKTYPE_ETHERNET, 20), ng.epb(0, 0n, eth)]));
    expect(err.reason).toBe('captured length 42 exceeds the snapshot length 20 of interface 0');
  });

  it('a Simple Packet Block before any interface', async () => {
    expect((await failure(Buffer.concat([ng.shb(), ng.spb(eth.length, eth)]))).reason).toBe('Simple Packet Block before any Interface Description Block');
  });

  it('a file cut inside a block header, and inside a block', async () => {
    const file = Buffer.concat([head, ng.epb(0, 0n, eth)]);
    const inHeader = await failure(file.subarray(0, at + 5));
    expect([inHeader.place.offset, inHeader.reason]).toEqual([at, 'file ends inside a block header (5 of 8 bytes)']);
    const inBody = await failure(file.subarray(0, at + 30));
    expect([inBody.place.offset, inBody.reason]).toEqual([at, 'file ends inside a block (30 of its 76 bytes)']);
  });
});
