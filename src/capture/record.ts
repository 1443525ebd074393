/**
 * One small interface between capture files and the rest of natsim (design.md §8): a reader
 * yields records of time, interface, direction and bytes, whatever the file format or link type.
 */

import type { Chunk } from './chunk-pool.js';

/** Linux packet type as SLL/SLL2 carry it (include/uapi/linux/if_packet.h PACKET_*). */
export enum PacketDirection {
  Host = 0, // PACKET_HOST: to us ("In")
  Broadcast = 1, // PACKET_BROADCAST ("B")
  Multicast = 2, // PACKET_MULTICAST ("M")
  OtherHost = 3, // PACKET_OTHERHOST ("P")
  Outgoing = 4, // PACKET_OUTGOING ("Out")
  Unknown = 255, // link types that carry no direction (Ethernet, raw IP)
}

/** The pcap LINKTYPE_* values natsim reads and writes. */
export enum LinkType {
  Ethernet = 1,
  RawLegacy = 101, // LINKTYPE_RAW
  LinuxSll = 113,
  RawIpv4 = 228, // LINKTYPE_IPV4
  LinuxSll2 = 276,
}

/**
 * A captured frame, decapsulated to its network-layer payload. Readers hand the same record
 * object to every callback, refilled (one object shape and no allocation per packet, design.md
 * §8): its fields are valid only during the callback. Its payload is a view into a chunk
 * (chunk-reader.ts): read without a ChunkPool, the chunk is never written again, so the payload
 * may be kept (and changed by its keeper) without a copy; with one, it is filled again soon.
 */
export interface CaptureRecord {
  /** 1-based record number in the file. */
  readonly index: number;
  /** Byte offset of the record header in the file. */
  readonly offset: number;
  /** Capture time: whole seconds since the epoch, and nanoseconds within the second. */
  readonly sec: number;
  readonly nsec: number;
  /** Interface index (SLL2 carries it; 0 when the link type has none). */
  readonly ifindex: number;
  readonly direction: PacketDirection;
  /** Link-layer protocol of the payload (EtherType), e.g. 0x0800 for IPv4, 0x0806 for ARP. */
  readonly protocol: number;
  /**
   * The network-layer bytes, chunk.bytes[payloadAt, payloadAt + payloadLength): made as a view
   * (see above; it may be kept) only when asked for, as a replay that takes the bytes by offset
   * never asks, and a view is the one allocation a record would otherwise cost.
   */
  readonly payload: Uint8Array;
  readonly payloadAt: number;
  readonly payloadLength: number;
  /**
   * The chunk of the file the record is in (payload is a view into it). The whole captured
   * frame, link-layer header included, is `chunk.bytes` from `frameAt` on: not a view of its
   * own, which most records would never use.
   */
  readonly chunk: Chunk;
  readonly frameAt: number;
  /** Where the frame holds the sender's and the receiver's 6-byte link-layer address (from frameAt); -1: nowhere. */
  readonly hwSourceAt: number;
  readonly hwDestAt: number;
}

/** Called for each record in file order; returning false stops the read there (nothing later is read). */
export type RecordCallback = (r: CaptureRecord) => void | boolean;

/** What a whole read reports at the end. */
export interface CaptureSummary {
  /** The file's link type; for pcapng, that of its first interface. */
  readonly linkType: LinkType;
  readonly records: number;
  /** Timestamps finer than microseconds (pcapng: on any interface). */
  readonly nanosecond: boolean;
}
