/**
 * The one record object a reader hands to every callback (record.ts CaptureRecord), and how a
 * frame in a chunk fills it: shared by the pcap and pcapng readers, which differ only in where
 * a frame, its time and its interface come from.
 */
import type { LinkDecoder, LinkFrame } from './link-layer.js';
import { newLinkFrame } from './link-layer.js';
import { Chunk } from './chunk-pool.js';
import { PacketDirection, type CaptureRecord } from './record.js';

const NO_CHUNK = new Chunk(new Uint8Array(0));

export class RecordSlot implements CaptureRecord {
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
  /** Scratch for the link decoders. */
  private readonly frame: LinkFrame = newLinkFrame();

  get payload(): Uint8Array {
    return this.chunk.range(this.payloadAt, this.payloadAt + this.payloadLength);
  }

  /**
   * Decodes the frame chunk.bytes[at, at + caplen) into the slot's link-layer fields, or
   * returns why it cannot be decoded. Time, number and offset are the reader's to set.
   */
  fillFrame(decode: LinkDecoder, chunk: Chunk, at: number, caplen: number): string | undefined {
    const frame = this.frame;
    const reason = decode(chunk.bytes, at, caplen, frame);
    if (reason !== undefined) return reason;
    this.ifindex = frame.ifindex;
    this.direction = frame.direction;
    this.protocol = frame.protocol;
    this.payloadAt = at + frame.payloadOffset;
    this.payloadLength = caplen - frame.payloadOffset;
    this.chunk = chunk;
    this.frameAt = at;
    this.hwSourceAt = frame.hwSourceAt;
    this.hwDestAt = frame.hwDestAt;
    return undefined;
  }
}
