/**
 * The virtual clock: events run in time order (ties in the order they were scheduled), and
 * time jumps from one event to the next.
 *
 * A scenario's steps are scheduled as the clock reaches them, not all before the run (a file of
 * a million steps would hold a million events). So that they still run as if they had been
 * scheduled first, the events of steps sort before every other event of the same time, among
 * themselves by step (the run list's order) and then by repetition (a ping's n-th echo).
 */
import { MinHeap } from './min-heap.js';

interface Scheduled {
  readonly time: number;
  readonly seq: number;
  readonly run: () => void;
}

/** Repetitions a step can have: `count` is at most 1,000,000, and one event more closes its socket. */
const STEP_REPETITIONS = 2 ** 21;
/**
 * Steps' events take the seqs from here up, below every other event's (those count from 0):
 * exact and below 0 for 2^31 steps, far more than a scenario within text-input.ts's size
 * limit can hold.
 */
const STEP_LANE = -(2 ** 52);

export class EventQueue {
  private readonly heap = new MinHeap<Scheduled>(before);
  private seq = 0;
  now = 0;

  at(time: number, run: () => void): void {
    this.heap.push({ time, seq: this.seq++, run });
  }

  /** The `repetition`-th event (from 0) of the run list's `step`-th step (from 0). */
  atStep(time: number, step: number, repetition: number, run: () => void): void {
    this.heap.push({ time, seq: STEP_LANE + step * STEP_REPETITIONS + repetition, run });
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
