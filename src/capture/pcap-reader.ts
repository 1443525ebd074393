/**
 * Classic pcap through pcap-parser 0.2.1 (design.md §8: the walking skeleton's reader, kept
 * behind the CaptureRecord interface so it can be replaced). pcap-parser is used unmodified;
 * natsim works around what it gets wrong or does not check:
 *
 * 1. It knows only the microsecond magic, and its version check (`major != 2 && minor != 4`)
 *    lets almost anything through. So natsim reads and checks the 24-byte file header itself
 *    first (pcap-header.ts), and feeds pcap-parser a stream that starts with that header.
 * 2. It silently drops a truncated last record. So natsim counts the bytes the stream
 *    delivered and, at the end, compares them with 24 + Σ(16 + caplen) of the records seen.
 * 3. It would wait for (and buffer) whatever caplen a record header claims. So natsim refuses
 *    a caplen beyond the snapshot length when the record header arrives, and stops reading.
 *
 * Memory stays flat: the file is streamed in 64 KiB chunks and pcap-parser keeps only the
 * unparsed tail of what it was given. pcap-parser allocates with the deprecated `new Buffer`,
 * but Node (since 10) raises DEP0005 only for calls from outside node_modules, so nothing is
 * printed unless the user asks for --pending-deprecation; natsim does not suppress it then.
 */
import type { EventEmitter } from 'node:events';
import type { FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { InputError } from '../errors.js';
import { openCapture, readError, readHead } from './capture-file.js';
import { linkDecoderFor, newLinkFrame, type LinkDecoder } from './link-layer.js';
import {
  PCAP_FILE_HEADER_LENGTH,
  PCAP_MAGIC_USEC,
  PCAP_RECORD_HEADER_LENGTH,
  parsePcapHeader,
  type PcapFileHeader,
} from './pcap-header.js';
import { PacketDirection, type CaptureRecord, type CaptureSummary } from './record.js';

/** The part of pcap-parser's CommonJS API natsim uses. */
interface PcapParserModule {
  parse(input: NodeJS.ReadableStream): EventEmitter;
}
interface PcapParserRecordHeader {
  timestampSeconds: number;
  timestampMicroseconds: number;
  capturedLength: number;
}
interface PcapParserPacket {
  header: PcapParserRecordHeader;
  data: Buffer;
}

const pcapParser = createRequire(import.meta.url)('pcap-parser') as PcapParserModule;

const CHUNK_SIZE = 64 * 1024;

/**
 * Streams the classic pcap file at `path`, calling `onRecord` for each record as it is parsed.
 * Rejects with an InputError for anything malformed, with the record and byte offset; an error
 * thrown by `onRecord` stops the read and rejects with that error.
 */
export async function readPcap(path: string, onRecord: (r: CaptureRecord) => void): Promise<CaptureSummary> {
  const file = await openCapture(path);
  try {
    const head = await readHead(path, file, PCAP_FILE_HEADER_LENGTH);
    const header = parsePcapHeader(path, head);
    return await new PcapRecordReader(path, header, onRecord).run(file, head);
  } finally {
    await file.close();
  }
}

/** The one record object handed to every callback (see CaptureRecord). */
class RecordSlot implements CaptureRecord {
  index = 0;
  offset = 0;
  sec = 0;
  nsec = 0;
  ifindex = 0;
  direction = PacketDirection.Unknown;
  protocol = 0;
  payload: Uint8Array = new Uint8Array(0);
  frame: Uint8Array = new Uint8Array(0);
  hwSourceAt = -1;
  hwDestAt = -1;
}

/** One pass over the records of one file: pcap-parser's events in, CaptureRecords out. */
class PcapRecordReader {
  private readonly decode: LinkDecoder;
  private readonly frame = newLinkFrame();
  private readonly slot = new RecordSlot();
  /** Complete records so far, and the file offset just past the last of them. */
  private records = 0;
  private consumed = PCAP_FILE_HEADER_LENGTH;
  /** caplen of the record whose header was parsed last. */
  private pendingCaplen = 0;
  /** Bytes the stream delivered after the file header. */
  private streamed = 0;

  constructor(
    private readonly path: string,
    private readonly header: PcapFileHeader,
    private readonly onRecord: (r: CaptureRecord) => void,
  ) {
    this.decode = linkDecoderFor(header.linkType)!;
  }

  /** Drives pcap-parser over the file; settles once, on the first failure or at the end. */
  run(file: FileHandle, head: Buffer): Promise<CaptureSummary> {
    return new Promise((resolve, reject) => {
      const source = Readable.from(this.bytes(file, head));
      let failed = false;
      const fail = (err: unknown): void => {
        if (failed) return;
        failed = true;
        source.destroy();
        reject(err);
      };
      const parser = pcapParser.parse(source);
      parser.on('packetHeader', (h: PcapParserRecordHeader) => {
        if (!failed) this.checkCaplen(h.capturedLength, fail);
      });
      parser.on('packet', (p: PcapParserPacket) => {
        if (failed) return;
        try {
          this.deliver(p);
        } catch (err) {
          fail(err);
        }
      });
      parser.on('error', (err: unknown) => fail(readError(this.path, err)));
      parser.on('end', () => {
        const truncated = this.truncation();
        if (truncated !== undefined) fail(truncated);
        else if (!failed) resolve({ linkType: this.header.linkType, records: this.records, nanosecond: this.header.nanosecond });
      });
    });
  }

  /**
   * The bytes pcap-parser parses: the file header, then the rest of the file in chunks.
   * pcap-parser does not know the nanosecond magic, so for nanosecond files the header it gets
   * carries the microsecond magic of the same byte order; its "microseconds" field then holds
   * nanoseconds, which deliver() takes as such.
   */
  private async *bytes(file: FileHandle, head: Buffer): AsyncGenerator<Buffer> {
    if (this.header.nanosecond) {
      const patched = Buffer.from(head);
      if (this.header.littleEndian) patched.writeUInt32LE(PCAP_MAGIC_USEC, 0);
      else patched.writeUInt32BE(PCAP_MAGIC_USEC, 0);
      yield patched;
    } else {
      yield head;
    }
    const rest = file.createReadStream({ start: PCAP_FILE_HEADER_LENGTH, highWaterMark: CHUNK_SIZE, autoClose: false });
    for await (const chunk of rest as AsyncIterable<Buffer>) {
      this.streamed += chunk.length;
      yield chunk;
    }
  }

  /** Refuses a record longer than the snapshot length before pcap-parser waits for its body. */
  private checkCaplen(caplen: number, fail: (err: unknown) => void): void {
    this.pendingCaplen = caplen;
    if (caplen > this.header.snaplen) {
      fail(this.error(`record length ${caplen} exceeds the snapshot length ${this.header.snaplen}`));
    }
  }

  private deliver(p: PcapParserPacket): void {
    const reason = this.decode(p.data, this.frame);
    if (reason !== undefined) throw this.error(reason);
    const r = this.slot;
    r.index = this.records + 1;
    r.offset = this.consumed;
    r.sec = p.header.timestampSeconds;
    r.nsec = this.header.nanosecond ? p.header.timestampMicroseconds : p.header.timestampMicroseconds * 1000;
    r.ifindex = this.frame.ifindex;
    r.direction = this.frame.direction;
    r.protocol = this.frame.protocol;
    r.payload = p.data.subarray(this.frame.payloadOffset);
    r.frame = p.data;
    r.hwSourceAt = this.frame.hwSourceAt;
    r.hwDestAt = this.frame.hwDestAt;
    this.records++;
    this.consumed += PCAP_RECORD_HEADER_LENGTH + p.data.length;
    this.onRecord(r);
  }

  /** At the end of the stream: the partial record pcap-parser silently dropped, if any. */
  private truncation(): InputError | undefined {
    const left = PCAP_FILE_HEADER_LENGTH + this.streamed - this.consumed;
    if (left === 0) return undefined;
    if (left < PCAP_RECORD_HEADER_LENGTH) {
      return this.error(`file ends inside the record header (${left} of ${PCAP_RECORD_HEADER_LENGTH} bytes)`);
    }
    const body = left - PCAP_RECORD_HEADER_LENGTH;
    return this.error(`file ends inside the record body (${body} of ${this.pendingCaplen} bytes)`);
  }

  /** An InputError at the record being read (the one after the last complete record). */
  private error(reason: string): InputError {
    return new InputError({ file: this.path, record: this.records + 1, offset: this.consumed }, reason);
  }
}
