/**
 * The fuzz loop, in a worker thread so that the main thread can notice a case that never ends:
 * rounds of fast-check batches over the three targets, each batch with its own seed derived
 * from the run's seed, until the deadline. Reports every case before it runs, and the first
 * failure (shrunk) or the final counts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { properties, reproducerOf, TARGETS, type Reproducer, type TargetName } from './cases.js';
import { InvariantViolation } from './invariants.js';
import { Crash } from './malformed.js';

export interface WorkerInput {
  readonly seed: number;
  readonly deadline: number;
  readonly dir: string;
  readonly batch: number;
  readonly only: readonly TargetName[];
}

export type WorkerMessage =
  | { readonly type: 'case'; readonly repro: Reproducer }
  | { readonly type: 'fail'; readonly repro: Reproducer; readonly batchSeed: number; readonly kind: string; readonly error: string; readonly shrinks: number }
  | { readonly type: 'done'; readonly counts: Record<TargetName, number>; readonly rounds: number };

const input = workerData as WorkerInput;
const post = (m: WorkerMessage): void => parentPort!.postMessage(m);
const props = properties(input.dir, (target, value) => post({ type: 'case', repro: reproducerOf(target, value) }));
const counts: Record<TargetName, number> = { world: 0, scenario: 0, capture: 0 };

function kindOf(e: unknown): string {
  if (e instanceof InvariantViolation) return `invariant (${e.invariant})`;
  if (e instanceof Crash) return e.kind === 'hang' ? 'hang' : 'crash';
  return 'crash';
}

let round = 0;
let failed = false;
outer: while (Date.now() < input.deadline) {
  for (const [i, target] of TARGETS.entries()) {
    if (Date.now() >= input.deadline) break outer;
    if (!input.only.includes(target)) continue;
    const batchSeed = (input.seed + round * TARGETS.length + i) | 0;
    const result = await fc.check(props[target], { seed: batchSeed, numRuns: input.batch, endOnFailure: false });
    counts[target] += result.numRuns;
    if (result.failed) {
      const error = result.errorInstance;
      post({
        type: 'fail',
        repro: reproducerOf(target, result.counterexample![0]),
        batchSeed,
        kind: kindOf(error),
        error: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error),
        shrinks: result.numShrinks,
      });
      failed = true;
      break outer;
    }
  }
  round++;
}
if (!failed) post({ type: 'done', counts, rounds: round });
