/**
 * The records inside the replay's lookahead (world/capture-replay.ts), oldest first: what
 * feeding each needs once the reader has moved on (it reuses its record object). A busy
 * capture has a hundred thousand records in the lookahead's 1.2 s, so the ring is columns —
 * typed arrays for the numbers, arrays for the three references — refilled in place: 67 bytes a
 * record and nothing allocated per record once it has grown, where an object per slot took 136
 * (15.7 MB of a 100,000-packets-a-second replay's heap, marked by every full collection).
 */
import { PacketDirection, type CaptureRecord } from '../capture/record.js';
import type { NetDevice } from '../host/device.js';
import type { CapturedLink } from './link-header.js';
import type { Sent } from './recorded-out.js';

const OUTGOING = 1;
const OTHER_HOST = 2;
const NDP = 4;

export class PendingRing {
  /** Each slot's record time: the reader compares the oldest's with every record it reads. */
  private times = new Float64Array(0);
  // the columns Pending reads (not for anyone else: a slot means something only in the ring)
  index = new Float64Array(0);
  offset = new Float64Array(0);
  position = new Float64Array(0);
  length = new Uint32Array(0);
  ifindex = new Uint32Array(0);
  protocol = new Uint16Array(0);
  flags = new Uint8Array(0);
  devs: (NetDevice | undefined)[] = [];
  sents: (Sent | null)[] = [];
  links: (CapturedLink | null)[] = [];
  private head = 0;
  private count = 0;
  /** The oldest record, as oldest() hands it out. */
  private readonly cursor = new Pending(this);

  get size(): number {
    return this.count;
  }

  /** The oldest record (the ring must not be empty), until the next shift(). */
  oldest(): Pending {
    this.cursor.slot = this.head;
    return this.cursor;
  }

  /** The oldest record's time (the ring must not be empty). */
  oldestTime(): number {
    return this.times[this.head]!;
  }

  /**
   * Files record `r`, read at `time`, after every held one: its bytes by their place in the
   * file (chunk.position + payloadAt, read again when it is fed), and what the replay made of it.
   */
  push(time: number, r: CaptureRecord, dev: NetDevice | undefined, sent: Sent | null, ndp: boolean, link: CapturedLink | null): void {
    if (this.count === this.times.length) this.grow();
    const at = (this.head + this.count) & (this.times.length - 1);
    this.count++;
    this.times[at] = time;
    this.index[at] = r.index;
    this.offset[at] = r.offset;
    this.position[at] = r.chunk.position + r.payloadAt;
    this.length[at] = r.payloadLength;
    this.ifindex[at] = r.ifindex;
    this.protocol[at] = r.protocol;
    this.flags[at] = (r.direction === PacketDirection.Outgoing ? OUTGOING : 0) | (r.direction === PacketDirection.OtherHost ? OTHER_HOST : 0) | (ndp ? NDP : 0);
    this.devs[at] = dev;
    this.sents[at] = sent;
    this.links[at] = link;
  }

  /** Drops the oldest record; its slot is reused. */
  shift(): void {
    this.sents[this.head] = null;
    this.links[this.head] = null;
    this.head = (this.head + 1) & (this.times.length - 1);
    this.count--;
  }

  /** Doubles the ring (its size stays a power of two, so that a mask wraps an index), oldest at 0. */
  private grow(): void {
    const mask = this.times.length - 1;
    const size = this.times.length + Math.max(1024, this.times.length);
    const order = (from: number): number => (this.head + from) & mask;
    const typed = <T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(old: T, grown: T): T => {
      for (let i = 0; i < this.count; i++) grown[i] = old[order(i)]!;
      return grown;
    };
    const refs = <T>(old: T[], empty: T): T[] => {
      const grown = new Array<T>(size).fill(empty);
      for (let i = 0; i < this.count; i++) grown[i] = old[order(i)]!;
      return grown;
    };
    this.times = typed(this.times, new Float64Array(size));
    this.index = typed(this.index, new Float64Array(size));
    this.offset = typed(this.offset, new Float64Array(size));
    this.position = typed(this.position, new Float64Array(size));
    this.length = typed(this.length, new Uint32Array(size));
    this.ifindex = typed(this.ifindex, new Uint32Array(size));
    this.protocol = typed(this.protocol, new Uint16Array(size));
    this.flags = typed(this.flags, new Uint8Array(size));
    this.devs = refs(this.devs, undefined);
    this.sents = refs(this.sents, null);
    this.links = refs(this.links, null);
    this.head = 0;
  }
}

/** A record in the ring, read through its columns: the cursor oldest() moves to the oldest slot. */
export class Pending {
  slot = 0;

  constructor(private readonly ring: PendingRing) {}

  /** The record's number in the file (1-based) and the file position of its header. */
  get index(): number {
    return this.ring.index[this.slot]!;
  }
  get offset(): number {
    return this.ring.offset[this.slot]!;
  }
  /** Where an IP frame's bytes are in the file (read again when it is fed: capture/trailing-reader.ts). */
  get position(): number {
    return this.ring.position[this.slot]!;
  }
  get length(): number {
    return this.ring.length[this.slot]!;
  }
  get ifindex(): number {
    return this.ring.ifindex[this.slot]!;
  }
  /** The interface of ifindex (dev_get_by_index, looked up once for the frame), if the host has one. */
  get dev(): NetDevice | undefined {
    return this.ring.devs[this.slot];
  }
  get protocol(): number {
    return this.ring.protocol[this.slot]!;
  }
  get outgoing(): boolean {
    return (this.ring.flags[this.slot]! & OUTGOING) !== 0;
  }
  /** SLL/SLL2 packet type PACKET_OTHERHOST: a frame for another host's MAC (ip_rcv drops it). */
  get otherHost(): boolean {
    return (this.ring.flags[this.slot]! & OTHER_HOST) !== 0;
  }
  /** An NDP frame (ICMPv6 neighbour or router discovery), which the replay reads as it reads ARP. */
  get ndp(): boolean {
    return (this.ring.flags[this.slot]! & NDP) !== 0;
  }
  /** A sent IP frame: the kernel's packet as indexed for pairing (claimed once a received one pairs with it). */
  get sent(): Sent | null {
    return this.ring.sents[this.slot]!;
  }
  /** A received frame's link header, kept only while a trace is printed (LOG's MAC=) or for a bridge port. */
  get link(): CapturedLink | null {
    return this.ring.links[this.slot]!;
  }
}
