/**
 * Keeps a long capture replay's heap near what is alive. Conntrack entries die by the hundred
 * thousand in a long capture, all of them in V8's old generation, and V8 lets that generation
 * grow well past the live data before it collects it: replaying 5,000,000 packets, 70 MB alive
 * peaked at 255 MB of heap (373 MB RSS). So every few thousand records the replay looks at the
 * heap, and when it has grown past what the last full collection left by half that much (at
 * least MIN_SLACK_BYTES), runs one. Each takes tens of ms; a 5M-packet replay needs about
 * fifteen, 8% of its time, and peaks near 210 MB. The slack grows with the live heap, so a
 * table that really is large costs a few collections, not one per 32 MB.
 *
 * V8 offers the full collection only with --expose-gc, which natsim sets at run time and reads
 * back from a fresh context (Node's vm). Where that is refused, nothing is collected early: the
 * replay is the same, only its peak memory is V8's own.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

const MIN_SLACK_BYTES = 32 * 2 ** 20;

export class HeapWatch {
  private readonly collect = fullCollection();
  private settled = v8.getHeapStatistics().used_heap_size;

  /** Collects if the heap grew by the slack since the last collection. */
  check(): void {
    if (this.collect === null || v8.getHeapStatistics().used_heap_size < this.settled + Math.max(MIN_SLACK_BYTES, this.settled / 2)) return;
    this.collect();
    this.settled = v8.getHeapStatistics().used_heap_size;
  }
}

let cached: (() => void) | null | undefined;

/** V8's full collection (global.gc of --expose-gc), or null when it cannot be had. */
function fullCollection(): (() => void) | null {
  if (cached !== undefined) return cached;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('gc');
    cached = typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    cached = null;
  }
  return cached;
}
