/**
 * Packets waiting to be written, in capture order. Flows are laid out whole when they start, so
 * their packets interleave with other flows': a binary min-heap on (time, arrival number) puts
 * them in time order, and the arrival number keeps equal times in a fixed order, so a seed
 * always gives the same file.
 */

export interface TimedPacket {
  /** Microseconds since the start of the capture. */
  readonly time: number;
  /** 2 (lan0) or 3 (wan0). */
  readonly ifindex: number;
  readonly bytes: Uint8Array;
}

interface Entry {
  readonly packet: TimedPacket;
  readonly order: number;
}

export class PacketQueue {
  private readonly heap: Entry[] = [];
  private added = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Time of the earliest packet; Infinity when empty. */
  peekTime(): number {
    return this.heap.length > 0 ? this.heap[0]!.packet.time : Infinity;
  }

  push(packet: TimedPacket): void {
    const h = this.heap;
    const e: Entry = { packet, order: this.added++ };
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(e, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = e;
  }

  pop(): TimedPacket | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top?.packet;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const child = r < h.length && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[child]!, last)) break;
      h[i] = h[child]!;
      i = child;
    }
    h[i] = last;
    return top.packet;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.packet.time < b.packet.time || (a.packet.time === b.packet.time && a.order < b.order);
}
