/**
 * Keeps a long capture replay's heap near what is alive, by V8's own collection schedule.
 * Conntrack entries die by the hundred thousand in a long capture, all of them in V8's old
 * generation, and by default V8 lets that generation grow to a multiple of what the last full
 * collection left before it collects again: replaying the bench's 5,000,000-packet capture,
 * peak RSS reached 307 MB. A heap growing factor of 1.25 makes V8 collect at a quarter
 * over the live data instead, so memory follows the live flows: 187 MB on the same capture.
 *
 * natsim forced full collections for this before (heap-watch.ts, with --expose-gc): 181 MB, but
 * 20.6 s of CPU against 16.3 s with the growing factor and 14.8 s with neither (issue 22, one
 * run each on a loaded 2-core machine), and on 1M packets they bought no memory at all.
 * A scenario run sets it too: its run list is read in slices (scenario/run-list.ts), each
 * slice's YAML tree garbage once its steps are read.
 */
import v8 from 'node:v8';

const HEAP_GROWING_PERCENT = 25;

/** Sets the growing factor for the rest of the process (a V8 flag, read at every full collection). */
export function boundHeapGrowth(): void {
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
