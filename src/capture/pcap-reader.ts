/**
 * Classic pcap (libpcap's savefile format, 2.4, microsecond or nanosecond magic, either byte
 * order), read in 4 MiB chunks: records are parsed in place, and each is handed on as offsets
 * into its chunk (design.md §8), its payload a view made when asked for. A record cut by a
 * chunk's end is copied to the start of the next chunk, so a chunk is not written again while
 * anyone holds it, and a consumer may keep a payload without copying it:
 * - without a ChunkPool, chunks are never reused: a kept view keeps its chunk alive;
 * - with one (chunk-pool.ts), the consumer holds the chunk of each record it keeps and
 *   releases it when done, and a chunk nobody holds is read into again.
 * Nothing is allocated per packet: a record is offsets into its chunk.
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
import { Chunk, CHUNK_BYTES, type ChunkPool } from './chunk-pool.js';


/**
 * Streams the classic pcap file at `path`, calling `onRecord` for each record as it is parsed,
 * until the end of the file or until `onRecord` returns false. Rejects with an InputError for
 * anything malformed, with the record and byte offset; an error thrown by `onRecord` stops the
 * read and rejects with that error. `records` in the summary counts the records read.
 */
export async function readPcap(path: string, onRecord: RecordCallback, pool: ChunkPool | null = null): Promise<CaptureSummary> {
  const file = await openCapture(path);
  try {
    const head = await readHead(path, file, PCAP_FILE_HEADER_LENGTH);
    const header = parsePcapHeader(path, head);
    return await new PcapRecordReader(path, header, onRecord, pool).run(file);
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
  payloadAt = 0;
  payloadLength = 0;
  chunk = NO_CHUNK;
  frameAt = 0;
  hwSourceAt = -1;
  hwDestAt = -1;

  get payload(): Uint8Array {
    return this.chunk.bytes.subarray(this.payloadAt, this.payloadAt + this.payloadLength);
  }
}

const NO_CHUNK = new Chunk(new Uint8Array(0));

/**
 * A chunk is read in pieces, each while the records of the one before are handed on: the
 * read runs on libuv's thread pool, so that the replay does not wait for it (it had waited
 * for 5–7% of its time when a chunk was read whole between two runs of records).
 */
const READ_PIECE = CHUNK_BYTES / 8;

/** One pass over the records of one file. */
class PcapRecordReader {
  private readonly decode: LinkDecoder;
  private readonly frame = newLinkFrame();
  private readonly slot = new RecordSlot();
  /** The chunk being parsed, its bytes, and a DataView on them for the record headers. */
  private chunk: Chunk;
  private buffer: Uint8Array;
  private view: DataView;
  /** Complete records so far, and the file offset just past the last of them. */
  private records = 0;
  private consumed = PCAP_FILE_HEADER_LENGTH;
  /** The callback asked for no more records. */
  private stopped = false;

  constructor(
    private readonly path: string,
    private readonly header: PcapFileHeader,
    private readonly onRecord: RecordCallback,
    private readonly pool: ChunkPool | null,
  ) {
    this.decode = linkDecoderFor(header.linkType)!;
    this.chunk = this.takeChunk();
    this.buffer = this.chunk.bytes;
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.length);
  }

  async run(file: FileHandle): Promise<CaptureSummary> {
    let filePos = PCAP_FILE_HEADER_LENGTH;
    /** buffer[start, end): read but not parsed yet (the head of a record cut by the read). */
    let start = 0;
    let end = 0;
    /** The read of the piece after buffer[0, end), in flight while the records before it are handed on. */
    let ahead: Promise<number> | null = this.read(file, end, filePos);
    try {
      for (;;) {
        const got = await ahead!;
        ahead = null;
        if (got === 0) break;
        filePos += got;
        end += got;
        if (end < this.buffer.length) ahead = this.read(file, end, filePos);
        start = this.parseRecords(start, end);
        if (this.stopped) break;
        if (ahead === null) {
          // the chunk is full: go on in another, which starts with the record the read cut
          this.nextChunk(start, end);
          end -= start;
          start = 0;
          ahead = this.read(file, end, filePos);
        }
      }
    } finally {
      // stopped or failed with a read in flight: it must end before the file is closed
      if (ahead) await ahead.catch(() => 0);
    }
    this.pool?.release(this.chunk);
    if (!this.stopped) this.checkComplete(start, end);
    return { linkType: this.header.linkType, records: this.records, nanosecond: this.header.nanosecond };
  }

  /** Another chunk, starting with buffer[start, end) of the old one, which stays as it is. */
  private nextChunk(start: number, end: number): void {
    const next = this.takeChunk();
    next.bytes.set(this.buffer.subarray(start, end));
    this.pool?.release(this.chunk);
    this.chunk = next;
    this.buffer = next.bytes;
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.length);
  }

  private takeChunk(): Chunk {
    return this.pool ? this.pool.take() : new Chunk(new Uint8Array(CHUNK_BYTES));
  }

  /** Reads the file from `position` into buffer[at, ...), at most a piece (READ_PIECE). */
  private async read(file: FileHandle, at: number, position: number): Promise<number> {
    try {
      const { bytesRead } = await file.read(this.buffer, at, Math.min(READ_PIECE, this.buffer.length - at), position);
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
    r.payloadAt = at + this.frame.payloadOffset;
    r.payloadLength = caplen - this.frame.payloadOffset;
    r.chunk = this.chunk;
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
