/**
 * The classic pcap file header (libpcap's struct pcap_file_header, see pcap-savefile(5)):
 * magic, version 2.4, snapshot length and link type — parsed by the reader and emitted by the
 * writer, so the two agree on every constant. The magic's byte order is the file's byte order;
 * 0xa1b2c3d4 means microsecond timestamps and 0xa1b23c4d nanosecond ones.
 */
import { InputError } from '../errors.js';
import { linkDecoderFor } from './link-layer.js';

export const PCAP_FILE_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;
export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
/** A pcapng file starts with a Section Header Block, whose type reads the same in both byte orders. */
export const PCAPNG_MAGIC = 0x0a0d0d0a;
/**
 * libpcap's MAXIMUM_SNAPLEN: no record may be longer, whatever the header says, and a header
 * snapshot length of 0 or beyond it means this (pcap_check_header() does the same).
 */
export const PCAP_MAX_SNAPLEN = 262144;

export interface PcapFileHeader {
  readonly littleEndian: boolean;
  readonly nanosecond: boolean;
  /** The largest caplen a record may have: the header's snaplen, clamped as libpcap clamps it. */
  readonly snaplen: number;
  readonly linkType: number;
}

/** The file formats natsim tells apart by their first four bytes. */
export type CaptureFormat = 'pcap' | 'pcapng';

/** Which capture format `head` (the file's first bytes) starts, if any. */
export function identifyCapture(head: Uint8Array): CaptureFormat | undefined {
  if (head.length < 4) return undefined;
  const magic = Buffer.from(head.buffer, head.byteOffset, 4).readUInt32BE(0);
  if (magic === PCAPNG_MAGIC) return 'pcapng';
  return magicByteOrder(magic) === undefined ? undefined : 'pcap';
}

/** The error for a file that is not classic pcap: what was found. */
export function notPcapError(file: string, head: Uint8Array): InputError {
  const place = { file, offset: 0 };
  if (identifyCapture(head) === 'pcapng') return new InputError(place, 'a pcapng file, not classic pcap (readCapture reads both)');
  if (head.length < 4) return new InputError(place, `file of ${head.length} bytes is too short to be a capture`);
  const found = Buffer.from(head.buffer, head.byteOffset, 4).toString('hex');
  return new InputError(place, `not a pcap capture: magic 0x${found}, expected a1b2c3d4 or a1b23c4d in either byte order, or pcapng's 0a0d0d0a`);
}

/**
 * Reads the 24-byte file header, or throws an InputError at the offending field. A link type
 * natsim has no decoder for is refused here, before any record is read.
 */
export function parsePcapHeader(file: string, bytes: Uint8Array): PcapFileHeader {
  if (identifyCapture(bytes) !== 'pcap') throw notPcapError(file, bytes);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (b.length < PCAP_FILE_HEADER_LENGTH) {
    throw new InputError({ file, offset: b.length }, `file ends inside the ${PCAP_FILE_HEADER_LENGTH}-byte pcap header`);
  }
  const order = magicByteOrder(b.readUInt32BE(0))!;
  const le = order.littleEndian;
  const major = le ? b.readUInt16LE(4) : b.readUInt16BE(4);
  const minor = le ? b.readUInt16LE(6) : b.readUInt16BE(6);
  if (major !== 2 || minor !== 4) {
    throw new InputError({ file, offset: 4 }, `unsupported pcap version ${major}.${minor}; natsim reads 2.4`);
  }
  const snaplen = le ? b.readUInt32LE(16) : b.readUInt32BE(16);
  const linkType = le ? b.readUInt32LE(20) : b.readUInt32BE(20);
  if (linkDecoderFor(linkType) === undefined) {
    throw new InputError(
      { file, offset: 20 },
      `unsupported link type ${linkType}; natsim reads Ethernet (1), raw IP (101, 228), Linux SLL (113) and SLL2 (276)`,
    );
  }
  return {
    littleEndian: le,
    nanosecond: order.nanosecond,
    snaplen: snaplen === 0 || snaplen > PCAP_MAX_SNAPLEN ? PCAP_MAX_SNAPLEN : snaplen,
    linkType,
  };
}

/** Writes a little-endian file header into `out` at 0. */
export function emitPcapHeader(out: Buffer, linkType: number, nanosecond: boolean): void {
  out.writeUInt32LE(nanosecond ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  out.writeInt32LE(0, 8); // thiszone: timestamps are UTC
  out.writeUInt32LE(0, 12); // sigfigs: always 0
  out.writeUInt32LE(PCAP_MAX_SNAPLEN, 16);
  out.writeUInt32LE(linkType, 20);
}

/** Byte order and resolution from the magic as read big-endian, or undefined for no pcap magic. */
function magicByteOrder(magicBE: number): { littleEndian: boolean; nanosecond: boolean } | undefined {
  switch (magicBE) {
    case PCAP_MAGIC_USEC:
      return { littleEndian: false, nanosecond: false };
    case PCAP_MAGIC_NSEC:
      return { littleEndian: false, nanosecond: true };
    case byteSwap32(PCAP_MAGIC_USEC):
      return { littleEndian: true, nanosecond: false };
    case byteSwap32(PCAP_MAGIC_NSEC):
      return { littleEndian: true, nanosecond: true };
    default:
      return undefined;
  }
}

export function byteSwap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}
