/**
 * pcapng (what dumpcap and Wireshark write), read through the same chunk loop and record slot as
 * classic pcap (chunk-reader.ts, record-slot.ts): blocks are parsed in place, and each packet is
 * handed on as offsets into its chunk, with nothing allocated per packet.
 *
 * What is read, as libpcap's pcap-ng.c and Wireshark's wiretap/pcapng.c read it:
 * - Section Header Blocks, each with its own byte order (told by its byte-order magic) and a
 *   fresh set of interfaces; versions 1.0 and 1.2.
 * - Interface Description Blocks: link type, snapshot length, if_tsresol (10^-n or 2^-n s),
 *   if_tsoffset (seconds added to every timestamp), if_name. Interfaces may have different link
 *   types (SLL2 and Ethernet in one file): each packet is decoded by its interface's decoder.
 *   Unlike libpcap, which refuses a second link type, natsim reads them all.
 * - Enhanced and obsolete Packet Blocks; their epb_flags/pack_flags direction gives the
 *   packet's direction where the link type carries none (Ethernet, raw IP), as SLL's packet
 *   type does: outbound is "Out", inbound "In" (or B/M/P by the reception type).
 * - Simple Packet Blocks: on interface 0, captured length min(original length, snapshot
 *   length). They carry no timestamp; natsim gives each the time of the packet before it in the
 *   file (0 s when none came before), so that time never goes backwards — libpcap gives 0 s.
 * - Every other block (name resolution, interface statistics, decryption secrets, custom, …)
 *   is skipped, as the specification asks of a reader that does not use it.
 * A block is refused, with the file offset where it starts, when its lengths disagree or do not
 * fit, its fields run past it, or it names an interface the section does not have.
 */
import { InputError } from '../errors.js';
import { withCaptureFd } from './capture-file.js';
import { CHUNK_BYTES, type Chunk, type ChunkPool } from './chunk-pool.js';
import { readChunks, type ChunkParser } from './chunk-reader.js';
import { linkDecoderFor, type LinkDecoder } from './link-layer.js';
import { byteSwap32, PCAP_MAX_SNAPLEN } from './pcap-header.js';
import {
  BLOCK_EPB,
  BLOCK_IDB,
  BLOCK_OPB,
  BLOCK_OVERHEAD,
  BLOCK_SHB,
  BLOCK_SPB,
  BYTE_ORDER_MAGIC,
  DEFAULT_TSRESOL,
  EPB_FLAGS,
  flagsDirection,
  forEachOption,
  IF_NAME,
  IF_TSOFFSET,
  IF_TSRESOL,
  MIN_EPB_LENGTH,
  MIN_IDB_LENGTH,
  MIN_OPB_LENGTH,
  MIN_SHB_LENGTH,
  MIN_SPB_LENGTH,
  pad4,
  parseTsResol,
  READABLE_MINORS,
  timeConverter,
  VERSION_MAJOR,
  type TimeConverter,
  type TsResolution,
} from './pcapng-blocks.js';
import { RecordSlot } from './record-slot.js';
import { PacketDirection, type CaptureSummary, type LinkType, type RecordCallback } from './record.js';

/** Streams the pcapng file at `path` to `onRecord` (readPcap's contract, for pcapng). */
export function readPcapngSync(path: string, onRecord: RecordCallback, pool: ChunkPool | null = null): CaptureSummary {
  return withCaptureFd(path, (fd) => {
    const reader = new PcapngBlockReader(path, onRecord);
    readChunks(path, fd, 0, pool, reader);
    return reader.summary();
  });
}

/** An Interface Description Block, as its packets need it. */
interface Interface {
  readonly number: number;
  readonly name: string;
  readonly linkType: number;
  /** Undefined for a link type natsim does not read: refused at its first packet. */
  readonly decode: LinkDecoder | undefined;
  readonly snaplen: number;
  readonly toTime: TimeConverter;
  /** if_tsoffset: seconds added to every timestamp. */
  readonly tsOffset: number;
}

/** Options that are epb_flags (8 bytes) and opt_endofopt (4) alone. */
const FLAGS_ONLY = 12;
/** epb_flags' option code and length 4, read as one 32-bit word in the section's byte order. */
const FLAGS_HEAD_LE = (4 << 16) | EPB_FLAGS;
const FLAGS_HEAD_BE = (EPB_FLAGS << 16) | 4;

/** The largest block natsim reads: a chunk (a packet block needs at most 262144 + 32 bytes and options). */
const MAX_BLOCK = CHUNK_BYTES;

class PcapngBlockReader implements ChunkParser {
  private readonly slot = new RecordSlot();
  /** Packets so far, and the file offset of the block being read. */
  private records = 0;
  private consumed = 0;
  stopped = false;
  /** The current section's byte order and interfaces. */
  private le = false;
  private sections = 0;
  private interfaces: Interface[] = [];
  private firstLinkType: number | null = null;
  private nanosecond = false;
  /** epb_flags of the packet block being read (0 when absent), set by onPacketOption. */
  private flags = 0;
  private readonly onPacketOption = (code: number, at: number, length: number): string | undefined => {
    if (code !== EPB_FLAGS) return undefined;
    if (length !== 4) return `epb_flags of ${length} bytes, not 4`;
    this.flags = this.view.getUint32(at, this.le);
    return undefined;
  };
  private view: DataView = new DataView(new ArrayBuffer(0));

  constructor(
    private readonly path: string,
    private readonly onRecord: RecordCallback,
  ) {}

  summary(): CaptureSummary {
    return { linkType: (this.firstLinkType ?? 0) as LinkType, records: this.records, nanosecond: this.nanosecond };
  }

  parse(chunk: Chunk, at: number, end: number): number {
    const view = chunk.view;
    this.view = view;
    while (!this.stopped && end - at >= BLOCK_OVERHEAD) {
      const type = view.getUint32(at, this.le);
      if (type === BLOCK_SHB) this.le = this.sectionByteOrder(view, at);
      else if (this.sections === 0) throw this.error(`the file starts with block type 0x${hex(type)}, not a Section Header Block`);
      const length = this.checkLength(view.getUint32(at + 4, this.le));
      if (end - at < length) break;
      const trailer = view.getUint32(at + length - 4, this.le);
      if (trailer !== length) throw this.error(`block length mismatch: the header says ${length} bytes, the trailer ${trailer}`);
      switch (type) {
        case BLOCK_EPB:
          this.timedPacket(chunk, at, length, MIN_EPB_LENGTH, 'Enhanced Packet Block', view.getUint32(at + 8, this.le));
          break;
        case BLOCK_SPB:
          this.simplePacket(chunk, at, length);
          break;
        case BLOCK_OPB:
          this.timedPacket(chunk, at, length, MIN_OPB_LENGTH, 'Packet Block', view.getUint16(at + 8, this.le));
          break;
        case BLOCK_IDB:
          this.interfaceDescription(view, at, length);
          break;
        case BLOCK_SHB:
          this.sectionHeader(view, at, length);
          break;
        default:
          break; // NRB, ISB, DSB, custom, …: nothing natsim uses
      }
      this.consumed += length;
      at += length;
    }
    return at;
  }

  finish(chunk: Chunk, at: number, end: number): void {
    const left = end - at;
    if (left === 0) return;
    // a section header's length is in the byte order its magic (bytes 8-11) gives
    const header = left >= 4 && chunk.view.getUint32(at, false) === BLOCK_SHB ? 12 : 8;
    if (left < header) throw this.error(`file ends inside a block header (${left} of ${header} bytes)`);
    if (header === 12) this.le = this.sectionByteOrder(chunk.view, at);
    const length = this.checkLength(chunk.view.getUint32(at + 4, this.le));
    throw this.error(`file ends inside a block (${left} of its ${length} bytes)`);
  }

  /** The byte order of the section whose header starts at `at`, from its byte-order magic. */
  private sectionByteOrder(view: DataView, at: number): boolean {
    const magic = view.getUint32(at + 8, false);
    if (magic === BYTE_ORDER_MAGIC) return false;
    if (magic === byteSwap32(BYTE_ORDER_MAGIC)) return true;
    throw this.error(`bad byte-order magic 0x${hex(magic)} in the Section Header Block (expected 1a2b3c4d in either byte order)`);
  }

  /** A block's length, refused before its body is waited for when it cannot be one. */
  private checkLength(length: number): number {
    if (length < BLOCK_OVERHEAD) throw this.error(`block length ${length} is shorter than a block's ${BLOCK_OVERHEAD}-byte header and trailer`);
    if (length % 4 !== 0) throw this.error(`block length ${length} is not a multiple of 4`);
    if (length > MAX_BLOCK) throw this.error(`block length ${length} exceeds ${MAX_BLOCK}, the largest block natsim reads`);
    return length;
  }

  private requireLength(length: number, min: number, what: string): void {
    if (length < min) throw this.error(`${what} of ${length} bytes is shorter than its ${min}-byte minimum`);
  }

  private sectionHeader(view: DataView, at: number, length: number): void {
    this.requireLength(length, MIN_SHB_LENGTH, 'Section Header Block');
    const major = view.getUint16(at + 12, this.le);
    const minor = view.getUint16(at + 14, this.le);
    if (major !== VERSION_MAJOR || !READABLE_MINORS.includes(minor)) {
      throw this.error(`unsupported pcapng version ${major}.${minor}; natsim reads 1.0`);
    }
    this.sections++;
    this.interfaces = [];
  }

  private interfaceDescription(view: DataView, at: number, length: number): void {
    this.requireLength(length, MIN_IDB_LENGTH, 'Interface Description Block');
    const le = this.le;
    const linkType = view.getUint16(at + 8, le);
    const snaplen = view.getUint32(at + 12, le);
    let name = '';
    let resolution: TsResolution = DEFAULT_TSRESOL;
    let tsOffset = 0;
    const reason = forEachOption(view, at + 16, at + length - 4, le, (code, valueAt, size) => {
      if (code === IF_TSRESOL) {
        if (size !== 1) return `if_tsresol of ${size} bytes, not 1`;
        resolution = parseTsResol(view.getUint8(valueAt));
      } else if (code === IF_TSOFFSET) {
        if (size !== 8) return `if_tsoffset of ${size} bytes, not 8`;
        tsOffset = Number(view.getBigInt64(valueAt, le));
      } else if (code === IF_NAME) {
        name = Buffer.from(view.buffer, view.byteOffset + valueAt, size).toString('utf8').replace(/\0+$/, '');
      }
      return undefined;
    });
    if (reason !== undefined) throw this.error(`Interface Description Block: ${reason}`);
    if (!Number.isSafeInteger(tsOffset)) throw this.error(`if_tsoffset ${tsOffset} is beyond natsim's clock`);
    const number = this.interfaces.length;
    this.interfaces.push({
      number,
      name,
      linkType,
      decode: linkDecoderFor(linkType),
      snaplen: snaplen === 0 || snaplen > PCAP_MAX_SNAPLEN ? PCAP_MAX_SNAPLEN : snaplen,
      toTime: timeConverter(resolution),
      tsOffset,
    });
    this.firstLinkType ??= linkType;
    if (resolution.base === 2 ? resolution.exponent > 19 : resolution.exponent > 6) this.nanosecond = true;
  }

  /**
   * EPB: interface (4 bytes), timestamp (8), captured and original length, data, options; the
   * obsolete Packet Block the same with a 16-bit interface and a 16-bit drop count.
   */
  private timedPacket(chunk: Chunk, at: number, length: number, min: number, what: string, interfaceId: number): void {
    this.requireLength(length, min, what);
    const view = chunk.view;
    const le = this.le;
    const iface = this.interfaceOf(interfaceId);
    this.stamp(iface, view.getUint32(at + 12, le), view.getUint32(at + 16, le));
    const caplen = view.getUint32(at + 20, le);
    const optionsAt = at + 28 + pad4(caplen);
    const optionsEnd = at + length - 4;
    if (optionsAt > optionsEnd) throw this.packetError(`captured length ${caplen} runs past the end of the ${length}-byte block`);
    if (caplen > iface.snaplen) throw this.packetError(`captured length ${caplen} exceeds the snapshot length ${iface.snaplen} of ${describe(iface)}`);
    if (optionsEnd - optionsAt === FLAGS_ONLY && view.getUint32(optionsAt, le) === (le ? FLAGS_HEAD_LE : FLAGS_HEAD_BE) && view.getUint32(optionsAt + 8, le) === 0) {
      // epb_flags and opt_endofopt, as dumpcap and natsim write them: read without the option walk
      this.flags = view.getUint32(optionsAt + 4, le);
    } else {
      this.flags = 0;
      if (optionsAt < optionsEnd) {
        const reason = forEachOption(view, optionsAt, optionsEnd, le, this.onPacketOption);
        if (reason !== undefined) throw this.packetError(reason);
      }
    }
    this.deliver(chunk, iface, at + 28, caplen);
  }

  /** SPB: original length, then the data, on interface 0, captured up to its snapshot length. */
  private simplePacket(chunk: Chunk, at: number, length: number): void {
    this.requireLength(length, MIN_SPB_LENGTH, 'Simple Packet Block');
    if (this.interfaces.length === 0) throw this.packetError('Simple Packet Block before any Interface Description Block');
    const iface = this.interfaces[0]!;
    const original = chunk.view.getUint32(at + 8, this.le);
    const caplen = Math.min(original, iface.snaplen, length - MIN_SPB_LENGTH);
    // the time stays the last packet's (see the header)
    this.flags = 0;
    this.deliver(chunk, iface, at + 12, caplen);
  }

  private deliver(chunk: Chunk, iface: Interface, at: number, caplen: number): void {
    if (iface.decode === undefined) {
      throw this.packetError(`${describe(iface)} has link type ${iface.linkType}; natsim reads Ethernet (1), raw IP (101, 228), Linux SLL (113) and SLL2 (276)`);
    }
    const r = this.slot;
    const reason = r.fillFrame(iface.decode, chunk, at, caplen);
    if (reason !== undefined) throw this.packetError(reason);
    if (r.direction === PacketDirection.Unknown && this.flags !== 0) r.direction = this.flagsDirection();
    r.index = this.records + 1;
    r.offset = this.consumed;
    this.records++;
    if (this.onRecord(r) === false) this.stopped = true;
  }

  /**
   * The packet's time from its 64-bit timestamp in the interface's units, plus if_tsoffset,
   * into the record slot, where it stays for a Simple Packet Block after it.
   */
  private stamp(iface: Interface, hi: number, lo: number): void {
    const t = this.slot;
    iface.toTime(hi, lo, t);
    t.sec += iface.tsOffset;
    if (t.sec < 0 || !Number.isSafeInteger(t.sec)) throw this.packetError(`timestamp of ${t.sec} s is outside natsim's clock`);
  }

  /** The packet's epb_flags direction (the link type carried none). */
  private flagsDirection(): PacketDirection {
    const direction = flagsDirection(this.flags);
    if (direction === null) throw this.packetError(`epb_flags 0x${hex(this.flags)} has direction bits 11, which pcapng leaves undefined`);
    return direction;
  }

  private interfaceOf(id: number): Interface {
    const iface = this.interfaces[id];
    if (iface === undefined) {
      throw this.packetError(`interface ${id} out of range: the section has ${this.interfaces.length} Interface Description Block${this.interfaces.length === 1 ? '' : 's'}`);
    }
    return iface;
  }

  /** An InputError at the block being read. */
  private error(reason: string): InputError {
    return new InputError({ file: this.path, offset: this.consumed }, reason);
  }

  /** An InputError at the packet block being read, with its packet number. */
  private packetError(reason: string): InputError {
    return new InputError({ file: this.path, record: this.records + 1, offset: this.consumed }, reason);
  }
}

function describe(iface: Interface): string {
  return `interface ${iface.number}${iface.name === '' ? '' : ` (${iface.name})`}`;
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}
