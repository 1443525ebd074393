/**
 * The virtual clock: events run in time order (ties in the order they were scheduled), and
 * time jumps from one event to the next.
 */
interface Scheduled {
  readonly time: number;
  readonly seq: number;
  readonly run: () => void;
}

export class EventQueue {
  private readonly heap: Scheduled[] = [];
  private seq = 0;
  now = 0;

  at(time: number, run: () => void): void {
    this.push({ time, seq: this.seq++, run });
  }

  /** Runs events until none is left, the next is after `until` (ns), or `stop()` says so. Returns how many ran. */
  runUntil(until: number, stop: () => boolean = () => false): number {
    let ran = 0;
    while (this.heap.length > 0 && this.heap[0]!.time <= until && !stop()) {
      const e = this.pop();
      this.now = e.time;
      e.run();
      ran++;
    }
    return ran;
  }

  get pending(): number {
    return this.heap.length;
  }

  private push(e: Scheduled): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): Scheduled {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
