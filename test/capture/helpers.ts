/**
 * Test helpers for captures: temporary files, a hand-rolled pcap builder in either byte order
 * (independent of PcapWriter, so the reader is not only checked against natsim's own writer),
 * and a collector that copies the reader's reused record.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPcap } from '../../src/capture/pcap-reader.js';
import { readCapture } from '../../src/capture/index.js';
import { InputError } from '../../src/errors.js';
import type { CaptureRecord, CaptureSummary } from '../../src/capture/record.js';

export interface TempDir {
  file(name: string, bytes?: Uint8Array): string;
  remove(): void;
}

export function tempDir(): TempDir {
  const dir = mkdtempSync(join(tmpdir(), 'natsim-capture-'));
  let n = 0;
  return {
    file(name, bytes) {
      const path = join(dir, `${n++}-${name}`);
      if (bytes !== undefined) writeFileSync(path, bytes);
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface HandHeader {
  littleEndian: boolean;
  nanosecond?: boolean;
  linkType: number;
  snaplen?: number;
  version?: [number, number];
}

export interface HandRecord {
  sec: number;
  /** Microseconds or nanoseconds, as the header says. */
  frac: number;
  frame: Uint8Array;
  /** Overrides the caplen field (to build broken files). */
  caplen?: number;
}

/** A classic pcap file, byte by byte. */
export function pcapBytes(h: HandHeader, records: readonly HandRecord[]): Buffer {
  const size = 24 + records.reduce((s, r) => s + 16 + r.frame.length, 0);
  const b = Buffer.alloc(size);
  const u32 = (v: number, at: number) => (h.littleEndian ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
  const u16 = (v: number, at: number) => (h.littleEndian ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  u32(h.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  u16(h.version?.[0] ?? 2, 4);
  u16(h.version?.[1] ?? 4, 6);
  u32(h.snaplen ?? 262144, 16);
  u32(h.linkType, 20);
  let at = 24;
  for (const r of records) {
    u32(r.sec, at);
    u32(r.frac, at + 4);
    u32(r.caplen ?? r.frame.length, at + 8);
    u32(r.frame.length, at + 12);
    b.set(r.frame, at + 16);
    at += 16 + r.frame.length;
  }
  return b;
}

/** An SLL2 header followed by `payload`. */
export function sll2Frame(f: {
  protocol: number;
  ifindex: number;
  packetType: number;
  hatype?: number;
  addr?: number[];
  payload: Uint8Array;
}): Uint8Array {
  const b = Buffer.alloc(20 + f.payload.length);
  b.writeUInt16BE(f.protocol, 0);
  b.writeUInt32BE(f.ifindex, 4);
  b.writeUInt16BE(f.hatype ?? 1, 8);
  b[10] = f.packetType;
  b[11] = f.addr?.length ?? 0;
  b.set(f.addr ?? [], 12);
  b.set(f.payload, 20);
  return b;
}

/** A plain copy of a record, safe to keep after the callback. */
export type KeptRecord = Pick<CaptureRecord, 'index' | 'offset' | 'sec' | 'nsec' | 'ifindex' | 'direction' | 'protocol'> & { payload: Uint8Array };

/** The records' fields that round trips keep (the link-layer addresses are link-layer.test's). */
export async function collect(path: string): Promise<{ summary: CaptureSummary; records: KeptRecord[] }> {
  const records: KeptRecord[] = [];
  const summary = await readPcap(path, (r) => {
    records.push({ index: r.index, offset: r.offset, sec: r.sec, nsec: r.nsec, ifindex: r.ifindex, direction: r.direction, protocol: r.protocol, payload: Uint8Array.from(r.payload) });
  });
  return { summary, records };
}

/** The InputError (or other rejection) of a promise that must fail. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** Reads `path` (either format): its record count, or the InputError; any other failure is thrown. */
export async function readOutcome(path: string): Promise<number | InputError> {
  try {
    return (await readCapture(path, () => {})).records;
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
}
