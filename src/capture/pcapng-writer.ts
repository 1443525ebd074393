/**
 * A pcapng writer, as dumpcap writes `-i any`: little-endian, one section, one interface
 * ("any", LINUX_SLL2 or raw IPv4, if_tsresol 9 for nanoseconds) and an Enhanced Packet Block per
 * packet, with epb_flags giving the direction (inbound, with the reception type, or outbound)
 * for readers that do not look into the SLL2 header. Buffering and the SLL2 header are
 * capture-writer.ts's, shared with the classic pcap writer.
 */
import { BufferedCaptureWriter, type PcapWriterOptions, type WritableRecord } from './capture-writer.js';
import { PCAP_MAX_SNAPLEN } from './pcap-header.js';
import {
  BLOCK_EPB,
  BLOCK_IDB,
  BLOCK_SHB,
  BYTE_ORDER_MAGIC,
  directionFlags,
  EPB_FLAGS,
  IF_NAME,
  IF_TSRESOL,
  MIN_EPB_LENGTH,
  OPT_ENDOFOPT,
  pad4,
  SHB_USERAPPL,
  VERSION_MAJOR,
} from './pcapng-blocks.js';

/** epb_flags (8 bytes) and opt_endofopt (4). */
const FLAGS_OPTIONS_LENGTH = 12;
/** The EPB's fixed fields before the packet data. */
const EPB_HEADER_LENGTH = 28;

export class PcapngWriter extends BufferedCaptureWriter {
  protected readonly recordHeaderLength = EPB_HEADER_LENGTH;
  private readonly unitsPerSecond: bigint;

  constructor(path: string, options: PcapWriterOptions) {
    super(path, options);
    this.unitsPerSecond = this.nanosecond ? 1_000_000_000n : 1_000_000n;
    this.emitBlock(BLOCK_SHB, sectionHeaderBody());
    this.emitBlock(BLOCK_IDB, interfaceBody(options.linkType, this.nanosecond));
  }

  protected emitRecordHeader(r: WritableRecord, caplen: number): void {
    const b = this.buf;
    const at = this.used;
    const units = BigInt(r.sec) * this.unitsPerSecond + BigInt(this.nanosecond ? r.nsec : Math.floor(r.nsec / 1000));
    b.writeUInt32LE(BLOCK_EPB, at);
    b.writeUInt32LE(epbLength(r, caplen), at + 4);
    b.writeUInt32LE(0, at + 8); // the one interface
    b.writeUInt32LE(Number(units >> 32n), at + 12);
    b.writeUInt32LE(Number(units & 0xffffffffn), at + 16);
    b.writeUInt32LE(caplen, at + 20);
    b.writeUInt32LE(caplen, at + 24); // original length: natsim never truncates
    this.used = at + EPB_HEADER_LENGTH;
  }

  /** The data's padding, epb_flags when the direction is known, and the block's length again. */
  protected emitRecordTrailer(r: WritableRecord, caplen: number): void {
    this.reserve(3 + FLAGS_OPTIONS_LENGTH + 4);
    const b = this.buf;
    let at = this.used;
    b.fill(0, at, at + pad4(caplen) - caplen);
    at += pad4(caplen) - caplen;
    const flags = directionFlags(r.direction);
    if (flags !== 0) {
      b.writeUInt16LE(EPB_FLAGS, at);
      b.writeUInt16LE(4, at + 2);
      b.writeUInt32LE(flags, at + 4);
      b.writeUInt32LE(OPT_ENDOFOPT, at + 8);
      at += FLAGS_OPTIONS_LENGTH;
    }
    b.writeUInt32LE(epbLength(r, caplen), at);
    this.used = at + 4;
  }

  /** A whole block with `body` (its length a multiple of 4) between the header and the trailer. */
  private emitBlock(type: number, body: Buffer): void {
    const length = body.length + 12;
    this.reserve(length);
    this.buf.writeUInt32LE(type, this.used);
    this.buf.writeUInt32LE(length, this.used + 4);
    this.buf.set(body, this.used + 8);
    this.buf.writeUInt32LE(length, this.used + 8 + body.length);
    this.used += length;
  }
}

function epbLength(r: WritableRecord, caplen: number): number {
  return MIN_EPB_LENGTH + pad4(caplen) + (directionFlags(r.direction) === 0 ? 0 : FLAGS_OPTIONS_LENGTH);
}

/** Byte-order magic, version 1.0, section length unknown (-1), shb_userappl "natsim". */
function sectionHeaderBody(): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  head.writeUInt16LE(VERSION_MAJOR, 4);
  head.writeUInt16LE(0, 6);
  head.writeBigInt64LE(-1n, 8);
  return Buffer.concat([head, options([[SHB_USERAPPL, Buffer.from('natsim')]])]);
}

/** Link type, snapshot length, if_name "any" (as `-i any` names it) and if_tsresol. */
function interfaceBody(linkType: number, nanosecond: boolean): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(linkType, 0);
  head.writeUInt32LE(PCAP_MAX_SNAPLEN, 4);
  const tsresol: [number, Buffer][] = nanosecond ? [[IF_TSRESOL, Buffer.of(9)]] : [];
  return Buffer.concat([head, options([[IF_NAME, Buffer.from('any')], ...tsresol])]);
}

/** Options, each padded to 4 bytes, and opt_endofopt. */
function options(list: readonly (readonly [number, Buffer])[]): Buffer {
  const parts = list.map(([code, value]) => {
    const option = Buffer.alloc(4 + pad4(value.length));
    option.writeUInt16LE(code, 0);
    option.writeUInt16LE(value.length, 2);
    value.copy(option, 4);
    return option;
  });
  return Buffer.concat([...parts, Buffer.alloc(4)]);
}
