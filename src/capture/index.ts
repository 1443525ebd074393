/**
 * Capture input: one entry point that looks at a file's magic and hands it to the reader for
 * its format.
 *
 * Not supported yet, each refused with an InputError rather than misread: pcapng (recognised,
 * and the error gives the editcap command that converts it); pcap versions other than 2.4 and
 * the "modified" pcap magics (0xa1b2cd34 and friends); link types other than Ethernet, raw IP,
 * Linux SLL and SLL2, including those with FCS flags in the link-type field's upper bits.
 */
import { openCapture, readHead } from './capture-file.js';
import { identifyCapture, notPcapError } from './pcap-header.js';
import { readPcap } from './pcap-reader.js';
import type { ChunkPool } from './chunk-pool.js';
import type { CaptureSummary, RecordCallback } from './record.js';

export { LinkType, PacketDirection, type CaptureRecord, type CaptureSummary, type RecordCallback } from './record.js';
export { readPcap } from './pcap-reader.js';
export { ChunkPool, type Chunk } from './chunk-pool.js';
export { PcapWriter, type PcapWriterOptions, type WritableRecord } from './pcap-writer.js';

/** Streams the capture at `path` to `onRecord`, whatever its format (see readPcap for the contract). */
export async function readCapture(path: string, onRecord: RecordCallback, pool: ChunkPool | null = null): Promise<CaptureSummary> {
  const file = await openCapture(path);
  let head: Buffer;
  try {
    head = await readHead(path, file, 4);
  } finally {
    await file.close();
  }
  switch (identifyCapture(head)) {
    case 'pcap':
      return readPcap(path, onRecord, pool);
    default:
      throw notPcapError(path, head);
  }
}
