/**
 * What the pcap and pcapng writers share: one reused 64 KiB buffer flushed with synchronous
 * writes (no allocation per packet, and the file is complete when close() returns), the SLL2
 * header `tcpdump -i any` puts before each packet, and the choice of format by the output
 * file's name (`.pcapng`: pcapng, anything else classic pcap). Misuse (a record the file cannot
 * hold, a write after close) is a bug and throws.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { ETH_P_IP, SLL2_HLEN } from './link-layer.js';
import { PCAP_MAX_SNAPLEN } from './pcap-header.js';
import { LinkType, type CaptureRecord } from './record.js';

export interface PcapWriterOptions {
  readonly linkType: LinkType.LinuxSll2 | LinkType.RawIpv4;
  /** Nanosecond timestamps; microseconds otherwise. */
  readonly nanosecond?: boolean;
}

/** What one record needs; a CaptureRecord is one. */
export interface WritableRecord extends Pick<CaptureRecord, 'sec' | 'nsec' | 'ifindex' | 'direction' | 'protocol' | 'payload'> {
  /** ARPHRD_* of the interface for SLL2; ARPHRD_ETHER (1) when absent. */
  readonly hatype?: number;
  /** Link-layer source address for SLL2 (the first 8 bytes are kept); none when absent. */
  readonly linkAddr?: Uint8Array;
}

/** A capture file being written, whatever its format. */
export interface CaptureWriter {
  readonly path: string;
  write(r: WritableRecord): void;
  close(): void;
}

const BUFFER_SIZE = 64 * 1024;
const ARPHRD_ETHER = 1;
const SLL2_ADDR_BYTES = 8;
const NO_ADDRESS = new Uint8Array(0);

/** The buffered file and the per-record framing both formats share; a format adds its headers. */
export abstract class BufferedCaptureWriter implements CaptureWriter {
  private fd: number;
  protected readonly buf = Buffer.allocUnsafe(BUFFER_SIZE);
  protected used = 0;
  protected readonly sll2: boolean;
  protected readonly nanosecond: boolean;

  constructor(
    readonly path: string,
    options: PcapWriterOptions,
  ) {
    if (options.linkType !== LinkType.LinuxSll2 && options.linkType !== LinkType.RawIpv4) {
      throw new RangeError(`natsim writes link types 276 (SLL2) and 228 (IPv4), not ${String(options.linkType)}`);
    }
    this.sll2 = options.linkType === LinkType.LinuxSll2;
    this.nanosecond = options.nanosecond ?? false;
    this.fd = openSync(path, 'w');
  }

  write(r: WritableRecord): void {
    if (this.fd < 0) throw new Error(`${this.path}: write after close`);
    if (!this.sll2 && r.protocol !== ETH_P_IP) {
      throw new RangeError(`a raw IPv4 capture cannot hold protocol 0x${r.protocol.toString(16)}`);
    }
    const linkHeaderLength = this.sll2 ? SLL2_HLEN : 0;
    const caplen = linkHeaderLength + r.payload.length;
    if (caplen > PCAP_MAX_SNAPLEN) throw new RangeError(`record of ${caplen} bytes exceeds the snapshot length`);
    this.reserve(this.recordHeaderLength + linkHeaderLength);
    this.emitRecordHeader(r, caplen);
    if (this.sll2) this.emitSll2Header(r);
    this.append(r.payload);
    this.emitRecordTrailer(r, caplen);
  }

  /** Writes what is buffered and closes the file; further close() calls do nothing. */
  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }

  /** Bytes the format puts before a record's frame, and the largest it puts after. */
  protected abstract readonly recordHeaderLength: number;
  protected abstract emitRecordHeader(r: WritableRecord, caplen: number): void;
  protected abstract emitRecordTrailer(r: WritableRecord, caplen: number): void;

  /** Room for `n` more bytes in the buffer (n at most its size). */
  protected reserve(n: number): void {
    if (this.used + n > this.buf.length) this.flush();
  }

  /** struct sll2_header, all fields in network byte order whatever the file's byte order. */
  private emitSll2Header(r: WritableRecord): void {
    const b = this.buf;
    const at = this.used;
    const addr = r.linkAddr ?? NO_ADDRESS;
    b.writeUInt16BE(r.protocol, at);
    b.writeUInt16BE(0, at + 2); // reserved
    b.writeUInt32BE(r.ifindex, at + 4);
    b.writeUInt16BE(r.hatype ?? ARPHRD_ETHER, at + 8);
    b[at + 10] = r.direction;
    b[at + 11] = addr.length; // the real length, as the kernel's sll_halen, even beyond 8
    b.fill(0, at + 12, at + SLL2_HLEN);
    b.set(addr.subarray(0, SLL2_ADDR_BYTES), at + 12);
    this.used = at + SLL2_HLEN;
  }

  /** Copies into the buffer, or writes straight through when the bytes are larger than it. */
  protected append(bytes: Uint8Array): void {
    if (this.used + bytes.length > this.buf.length) this.flush();
    if (bytes.length > this.buf.length) {
      this.writeAll(bytes);
    } else {
      this.buf.set(bytes, this.used);
      this.used += bytes.length;
    }
  }

  private flush(): void {
    this.writeAll(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  private writeAll(bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length; ) done += writeSync(this.fd, bytes, done, bytes.length - done);
  }
}
