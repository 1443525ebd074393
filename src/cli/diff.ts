/**
 * `natsim diff INPUT (--ruleset FILE | --sysctl KEY=VALUE | --set-node DIR | --kernel V)...`:
 * replay INPUT as it is and once changed (the two at once: diff-run.ts), and report every flow
 * whose fate changed and the counters that moved. Exit 0 when nothing changed, 1 when
 * something did (CI can gate a ruleset change on it), 2 for bad input.
 */
import { counterChanges, flowChanges } from '../explain/diff.js';
import { diffJson, diffText } from '../explain/render-diff.js';
import type { LineSink } from '../trace/sinks.js';
import type { LineStream } from './io.js';
import { changedOptions, fatesInWorker, fatesRun, type DiffChanges, type HostFates } from './diff-run.js';
import { isCapture, type RunOptions } from './run-input.js';
import { UsageError } from './usage-error.js';

export interface DiffOptions extends RunOptions {
  readonly json: boolean;
  readonly changes: DiffChanges;
}

export async function diffCommand(input: string, options: DiffOptions, out: LineSink): Promise<number> {
  const { changes, json, ...run } = options;
  if (changes.ruleset === undefined && changes.sysctl.length === 0 && changes.setNode === undefined && changes.kernel === undefined) {
    throw new UsageError('diff needs at least one change: --ruleset FILE, --sysctl KEY=VALUE, --set-node DIR or --kernel V');
  }
  if (changes.setNode !== undefined && !isCapture(input)) throw new UsageError(`--set-node replaces the node snapshot of a capture; ${input} is a scenario`);
  changedOptions(run, changes); // a bad change is a usage error before either replay
  // both replays read the same input: a note or warning on it is written once, not once per replay
  const written = new Set<string>();
  const stderr: LineStream = {
    line: (text) => {
      written.add(text);
      run.stderr.line(text);
    },
    terminal: run.stderr.terminal,
  };
  // the worker first: this thread's replay reads the capture synchronously and yields only at its
  // end, so a worker started after it (as Promise.all's second argument was) ran after it too
  const changedRun = fatesInWorker(input, run, changes);
  let before: HostFates[];
  try {
    before = await fatesRun(input, { ...run, stderr });
  } catch (e) {
    await changedRun.stop();
    throw e;
  }
  const changed = await changedRun.fates;
  for (const line of changed.stderr) if (!written.has(line)) run.stderr.line(line);
  const after = changed.hosts;
  let moved = 0;
  for (const [i, b] of before.entries()) {
    const a = after[i]!;
    const { flows, changes } = flowChanges(b, a);
    const counters = counterChanges(b, a);
    moved += changes.length + counters.length;
    if (before.length > 1 && !json) out.line(`${b.host}:`);
    for (const line of json ? diffJson(changes, counters) : diffText(changes, counters, flows)) out.line(line);
  }
  return moved > 0 ? 1 : 0;
}
