/**
 * Classic pcap (libpcap's savefile format, 2.4, microsecond or nanosecond magic, either byte
 * order), read in 4 MiB chunks: records are parsed in place, and each is handed on as a view
 * into its chunk (design.md §8). A chunk is never written again once read — a record cut by
 * its end is copied to the start of the next — so a consumer may keep a payload without
 * copying it; the chunk lives as long as something holds a view into it. Nothing is allocated
 * per packet besides the view, and memory stays flat however long the file is: what is held
 * is what the consumer still holds.
 *
 * natsim used pcap-parser (0.2.1) here until issue 9: its per-record Buffer objects, events and
 * stream machinery were a quarter of the time of a whole `natsim stats`, and it needed three
 * work-arounds besides (it knew no nanosecond magic, dropped a truncated last record silently,
 * and would buffer whatever caplen a record header claimed). What it did is small enough to
 * own: every check it made, and those it lacked, are below.
 */
import type { FileHandle } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { openCapture, readError, readHead } from './capture-file.js';
import { linkDecoderFor, newLinkFrame, type LinkDecoder } from './link-layer.js';
import { PCAP_FILE_HEADER_LENGTH, PCAP_RECORD_HEADER_LENGTH, parsePcapHeader, type PcapFileHeader } from './pcap-header.js';
import { PacketDirection, type CaptureRecord, type CaptureSummary, type RecordCallback } from './record.js';

/** Bytes per read; holds the largest record (16 + 262144 bytes) many times over. */
const BUFFER_BYTES = 4 << 20;

/**
 * Streams the classic pcap file at `path`, calling `onRecord` for each record as it is parsed,
 * until the end of the file or until `onRecord` returns false. Rejects with an InputError for
 * anything malformed, with the record and byte offset; an error thrown by `onRecord` stops the
 * read and rejects with that error. `records` in the summary counts the records read.
 */
export async function readPcap(path: string, onRecord: RecordCallback): Promise<CaptureSummary> {
  const file = await openCapture(path);
  try {
    const head = await readHead(path, file, PCAP_FILE_HEADER_LENGTH);
    const header = parsePcapHeader(path, head);
    return await new PcapRecordReader(path, header, onRecord).run(file);
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
  chunk: Uint8Array = new Uint8Array(0);
  frameAt = 0;
  hwSourceAt = -1;
  hwDestAt = -1;
}

/** One pass over the records of one file. */
class PcapRecordReader {
  private readonly decode: LinkDecoder;
  private readonly frame = newLinkFrame();
  private readonly slot = new RecordSlot();
  /** The chunk being parsed, and a DataView on it for the record headers. */
  private buffer = new Uint8Array(BUFFER_BYTES);
  private view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.length);
  /** Complete records so far, and the file offset just past the last of them. */
  private records = 0;
  private consumed = PCAP_FILE_HEADER_LENGTH;
  /** The callback asked for no more records. */
  private stopped = false;

  constructor(
    private readonly path: string,
    private readonly header: PcapFileHeader,
    private readonly onRecord: RecordCallback,
  ) {
    this.decode = linkDecoderFor(header.linkType)!;
  }

  async run(file: FileHandle): Promise<CaptureSummary> {
    let filePos = PCAP_FILE_HEADER_LENGTH;
    /** buffer[start, end): read but not parsed yet (the head of a record cut by the read). */
    let start = 0;
    let end = 0;
    for (;;) {
      if (start > 0) {
        this.nextChunk(start, end);
        end -= start;
        start = 0;
      }
      const got = await this.read(file, end, filePos);
      if (got === 0) break;
      filePos += got;
      end += got;
      start = this.parseRecords(start, end);
      if (this.stopped) break;
    }
    if (!this.stopped) this.checkComplete(start, end);
    return { linkType: this.header.linkType, records: this.records, nanosecond: this.header.nanosecond };
  }

  /** A fresh chunk starting with buffer[start, end) of the old one, which stays as it is. */
  private nextChunk(start: number, end: number): void {
    const next = new Uint8Array(BUFFER_BYTES);
    next.set(this.buffer.subarray(start, end));
    this.buffer = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.length);
  }

  private async read(file: FileHandle, at: number, position: number): Promise<number> {
    try {
      const { bytesRead } = await file.read(this.buffer, at, this.buffer.length - at, position);
      return bytesRead;
    } catch (err) {
      throw readError(this.path, err);
    }
  }

  /** Hands on every complete record in buffer[at, end); returns where the first incomplete one starts. */
  private parseRecords(at: number, end: number): number {
    const le = this.header.littleEndian;
    const view = this.view;
    while (!this.stopped && end - at >= PCAP_RECORD_HEADER_LENGTH) {
      const caplen = view.getUint32(at + 8, le);
      // refused before waiting for its body: a corrupt length must not make the reader buffer it
      if (caplen > this.header.snaplen) throw this.error(`record length ${caplen} exceeds the snapshot length ${this.header.snaplen}`);
      const body = at + PCAP_RECORD_HEADER_LENGTH;
      if (end - body < caplen) break;
      this.deliver(view.getUint32(at, le), view.getUint32(at + 4, le), body, caplen);
      at = body + caplen;
    }
    return at;
  }

  /** Hands on the record whose frame is buffer[at, at + caplen). */
  private deliver(sec: number, frac: number, at: number, caplen: number): void {
    const buffer = this.buffer;
    const reason = this.decode(buffer, at, caplen, this.frame);
    if (reason !== undefined) throw this.error(reason);
    const r = this.slot;
    r.index = this.records + 1;
    r.offset = this.consumed;
    r.sec = sec;
    r.nsec = this.header.nanosecond ? frac : frac * 1000;
    r.ifindex = this.frame.ifindex;
    r.direction = this.frame.direction;
    r.protocol = this.frame.protocol;
    r.payload = buffer.subarray(at + this.frame.payloadOffset, at + caplen);
    r.chunk = buffer;
    r.frameAt = at;
    r.hwSourceAt = this.frame.hwSourceAt;
    r.hwDestAt = this.frame.hwDestAt;
    this.records++;
    this.consumed += PCAP_RECORD_HEADER_LENGTH + caplen;
    if (this.onRecord(r) === false) this.stopped = true;
  }

  /** At the end of the file: a record it cuts short is an error, not silently dropped. */
  private checkComplete(start: number, end: number): void {
    const left = end - start;
    if (left === 0) return;
    if (left < PCAP_RECORD_HEADER_LENGTH) {
      throw this.error(`file ends inside the record header (${left} of ${PCAP_RECORD_HEADER_LENGTH} bytes)`);
    }
    const caplen = this.view.getUint32(start + 8, this.header.littleEndian);
    throw this.error(`file ends inside the record body (${left - PCAP_RECORD_HEADER_LENGTH} of ${caplen} bytes)`);
  }

  /** An InputError at the record being read (the one after the last complete record). */
  private error(reason: string): InputError {
    return new InputError({ file: this.path, record: this.records + 1, offset: this.consumed }, reason);
  }
}
