/**
 * Classic pcap (libpcap's savefile format, 2.4, microsecond or nanosecond magic, either byte
 * order), read through the shared chunk loop (chunk-reader.ts): records are parsed in place, and
 * each is handed on as offsets into its chunk (design.md §8), its payload a view made when
 * asked for. Nothing is allocated per packet.
 * - without a ChunkPool, chunks are never reused: a kept view keeps its chunk alive;
 * - with one (chunk-pool.ts), a chunk is read into again once the reader has moved two chunks
 *   past it, so the consumer copies whatever of a record it keeps.
 *
 * natsim used pcap-parser (0.2.1) here until issue 9: its per-record Buffer objects, events and
 * stream machinery were a quarter of the time of a whole `natsim stats`, and it needed three
 * work-arounds besides (it knew no nanosecond magic, dropped a truncated last record silently,
 * and would buffer whatever caplen a record header claimed). What it did is small enough to
 * own: every check it made, and those it lacked, are below.
 */
import { InputError } from '../errors.js';
import { readHead, withCaptureFd } from './capture-file.js';
import { readChunks, type ChunkParser } from './chunk-reader.js';
import { linkDecoderFor, type LinkDecoder } from './link-layer.js';
import { PCAP_FILE_HEADER_LENGTH, PCAP_RECORD_HEADER_LENGTH, parsePcapHeader, type PcapFileHeader } from './pcap-header.js';
import { RecordSlot } from './record-slot.js';
import type { CaptureSummary, RecordCallback } from './record.js';
import type { Chunk, ChunkPool } from './chunk-pool.js';

/**
 * Streams the classic pcap file at `path`, calling `onRecord` for each record as it is parsed,
 * until the end of the file or until `onRecord` returns false. Rejects with an InputError for
 * anything malformed, with the record and byte offset; an error thrown by `onRecord` stops the
 * read and rejects with that error. `records` in the summary counts the records read.
 */
export async function readPcap(path: string, onRecord: RecordCallback, pool: ChunkPool | null = null): Promise<CaptureSummary> {
  return readPcapSync(path, onRecord, pool);
}

/** readPcap without the promise (the read is synchronous either way). */
export function readPcapSync(path: string, onRecord: RecordCallback, pool: ChunkPool | null = null): CaptureSummary {
  return withCaptureFd(path, (fd) => {
    const header = parsePcapHeader(path, readHead(path, fd, PCAP_FILE_HEADER_LENGTH));
    const reader = new PcapRecordReader(path, header, onRecord);
    readChunks(path, fd, PCAP_FILE_HEADER_LENGTH, pool, reader);
    return { linkType: header.linkType, records: reader.records, nanosecond: header.nanosecond };
  });
}

/** One pass over the records of one file. */
class PcapRecordReader implements ChunkParser {
  private readonly decode: LinkDecoder;
  private readonly slot = new RecordSlot();
  /** Complete records so far, and the file offset just past the last of them. */
  records = 0;
  private consumed = PCAP_FILE_HEADER_LENGTH;
  stopped = false;

  constructor(
    private readonly path: string,
    private readonly header: PcapFileHeader,
    private readonly onRecord: RecordCallback,
  ) {
    this.decode = linkDecoderFor(header.linkType)!;
  }

  parse(chunk: Chunk, at: number, end: number): number {
    const le = this.header.littleEndian;
    const view = chunk.view;
    while (!this.stopped && end - at >= PCAP_RECORD_HEADER_LENGTH) {
      const caplen = view.getUint32(at + 8, le);
      // refused before waiting for its body: a corrupt length must not make the reader buffer it
      if (caplen > this.header.snaplen) throw this.error(`record length ${caplen} exceeds the snapshot length ${this.header.snaplen}`);
      const body = at + PCAP_RECORD_HEADER_LENGTH;
      if (end - body < caplen) break;
      this.deliver(chunk, view.getUint32(at, le), view.getUint32(at + 4, le), body, caplen);
      at = body + caplen;
    }
    return at;
  }

  /** Hands on the record whose frame is chunk.bytes[at, at + caplen). */
  private deliver(chunk: Chunk, sec: number, frac: number, at: number, caplen: number): void {
    const r = this.slot;
    const reason = r.fillFrame(this.decode, chunk, at, caplen);
    if (reason !== undefined) throw this.error(reason);
    r.index = this.records + 1;
    r.offset = this.consumed;
    r.sec = sec;
    r.nsec = this.header.nanosecond ? frac : frac * 1000;
    this.records++;
    this.consumed += PCAP_RECORD_HEADER_LENGTH + caplen;
    if (this.onRecord(r) === false) this.stopped = true;
  }

  /** At the end of the file: a record it cuts short is an error, not silently dropped. */
  finish(chunk: Chunk, start: number, end: number): void {
    const left = end - start;
    if (left === 0) return;
    if (left < PCAP_RECORD_HEADER_LENGTH) {
      throw this.error(`file ends inside the record header (${left} of ${PCAP_RECORD_HEADER_LENGTH} bytes)`);
    }
    const caplen = chunk.view.getUint32(start + 8, this.header.littleEndian);
    throw this.error(`file ends inside the record body (${left - PCAP_RECORD_HEADER_LENGTH} of ${caplen} bytes)`);
  }

  /** An InputError at the record being read (the one after the last complete record). */
  private error(reason: string): InputError {
    return new InputError({ file: this.path, record: this.records + 1, offset: this.consumed }, reason);
  }
}
