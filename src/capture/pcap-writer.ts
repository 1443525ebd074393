/**
 * A classic pcap writer: little-endian, microsecond timestamps unless asked for nanoseconds,
 * link type LINUX_SLL2 (what `tcpdump -i any` writes, so `--write-pcap` output reads like a
 * capture from the box) or raw IPv4. The buffering and the SLL2 header are capture-writer.ts's.
 */
import { BufferedCaptureWriter, type PcapWriterOptions, type WritableRecord } from './capture-writer.js';
import { PCAP_FILE_HEADER_LENGTH, PCAP_RECORD_HEADER_LENGTH, emitPcapHeader } from './pcap-header.js';

export type { PcapWriterOptions, WritableRecord } from './capture-writer.js';

export class PcapWriter extends BufferedCaptureWriter {
  protected readonly recordHeaderLength = PCAP_RECORD_HEADER_LENGTH;

  constructor(path: string, options: PcapWriterOptions) {
    super(path, options);
    emitPcapHeader(this.buf, options.linkType, this.nanosecond);
    this.used = PCAP_FILE_HEADER_LENGTH;
  }

  protected emitRecordHeader(r: WritableRecord, caplen: number): void {
    const b = this.buf;
    const at = this.used;
    b.writeUInt32LE(r.sec, at);
    b.writeUInt32LE(this.nanosecond ? r.nsec : Math.floor(r.nsec / 1000), at + 4);
    b.writeUInt32LE(caplen, at + 8);
    b.writeUInt32LE(caplen, at + 12); // origlen: natsim never truncates
    this.used = at + PCAP_RECORD_HEADER_LENGTH;
  }

  protected emitRecordTrailer(): void {}
}
