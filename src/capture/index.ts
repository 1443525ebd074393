/**
 * Capture input: one entry point that looks at a file's magic and hands it to the reader for
 * its format, classic pcap or pcapng; both read through one chunk loop (chunk-reader.ts). And
 * output: the writer for a file's name.
 *
 * Not supported, each refused with an InputError rather than misread: pcap versions other than
 * 2.4 and the "modified" pcap magics (0xa1b2cd34 and friends); pcapng versions other than 1.0
 * (and 1.2, read as 1.0); link types other than Ethernet, raw IP, Linux SLL and SLL2, including
 * those with FCS flags in the link-type field's upper bits.
 */
import { readHead, withCaptureFd } from './capture-file.js';
import { identifyCapture, notPcapError, parsePcapHeader, PCAP_FILE_HEADER_LENGTH } from './pcap-header.js';
import { readPcapSync } from './pcap-reader.js';
import { readPcapngSync } from './pcapng-reader.js';
import type { ChunkPool } from './chunk-pool.js';
import type { CaptureWriter, PcapWriterOptions } from './capture-writer.js';
import { PcapWriter } from './pcap-writer.js';
import { PcapngWriter } from './pcapng-writer.js';
import { LinkType, type CaptureSummary, type RecordCallback } from './record.js';

export { LinkType };
export { PacketDirection, type CaptureRecord, type CaptureSummary, type RecordCallback } from './record.js';
export { readPcap } from './pcap-reader.js';
export { ChunkPool, type Chunk } from './chunk-pool.js';
export { PcapWriter, PcapngWriter };
export { type CaptureWriter, type PcapWriterOptions, type WritableRecord } from './capture-writer.js';

/** Streams the capture at `path` to `onRecord`, whatever its format (see readPcap for the contract). */
export async function readCapture(path: string, onRecord: RecordCallback, pool: ChunkPool | null = null): Promise<CaptureSummary> {
  return readCaptureSync(path, onRecord, pool);
}

/** readCapture without the promise: the read is synchronous (chunk-reader.ts says why). */
export function readCaptureSync(path: string, onRecord: RecordCallback, pool: ChunkPool | null = null): CaptureSummary {
  const head = withCaptureFd(path, (fd) => readHead(path, fd, 4));
  switch (identifyCapture(head)) {
    case 'pcap':
      return readPcapSync(path, onRecord, pool);
    case 'pcapng':
      return readPcapngSync(path, onRecord, pool);
    case undefined:
      throw notPcapError(path, head);
  }
}

/** A writer for `path`: pcapng when its name ends in `.pcapng`, classic pcap otherwise. */
export function openCaptureWriter(path: string, options: PcapWriterOptions): CaptureWriter {
  return path.toLowerCase().endsWith('.pcapng') ? new PcapngWriter(path, options) : new PcapWriter(path, options);
}

/**
 * Whether records of the capture at `path` can be outgoing ("Out"): a classic pcap file's link
 * type says it once for all its records (the Linux cooked headers carry the packet type;
 * Ethernet and raw IP carry none), while any pcapng packet may say it in its epb_flags.
 */
export function mayHoldOutgoing(path: string): boolean {
  const head = withCaptureFd(path, (fd) => readHead(path, fd, PCAP_FILE_HEADER_LENGTH));
  if (identifyCapture(head) !== 'pcap') return true; // pcapng, or an error readCapture reports
  const { linkType } = parsePcapHeader(path, head);
  return linkType === LinkType.LinuxSll || linkType === LinkType.LinuxSll2;
}
