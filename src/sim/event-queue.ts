/**
 * The virtual clock: events run in time order (ties in the order they were scheduled), and
 * time jumps from one event to the next.
 */
import { MinHeap } from './min-heap.js';

interface Scheduled {
  readonly time: number;
  readonly seq: number;
  readonly run: () => void;
}

export class EventQueue {
  private readonly heap = new MinHeap<Scheduled>(before);
  private seq = 0;
  now = 0;

  at(time: number, run: () => void): void {
    this.heap.push({ time, seq: this.seq++, run });
  }

  /** Runs events until none is left, the next is after `until` (ns), or `stop()` says so. Returns how many ran. */
  runUntil(until: number, stop: () => boolean = () => false): number {
    let ran = 0;
    while (this.heap.size > 0 && this.heap.peek()!.time <= until && !stop()) {
      const e = this.heap.pop();
      this.now = e.time;
      e.run();
      ran++;
    }
    return ran;
  }

  get pending(): number {
    return this.heap.size;
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
