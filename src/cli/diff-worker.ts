/** diff's changed replay, run in a worker thread (diff-run.ts); replies with its fates or its error. */
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../errors.js';
import { changedOptions, fatesRun, replyBuffers, toWorkerHost, type DiffChanges, type WorkerReply, type WorkerRunOptions } from './diff-run.js';
import type { LineStream } from './io.js';
import { UsageError } from './usage-error.js';

const { input, options, changes } = workerData as { input: string; options: WorkerRunOptions; changes: DiffChanges };

/** The run's stderr lines, kept for the reply (the run is --quiet: no progress bar, no terminal). */
const stderrLines: string[] = [];
const stderr: LineStream = { line: (text) => stderrLines.push(text), terminal: null };

async function run(): Promise<WorkerReply> {
  try {
    const hosts = await fatesRun(input, changedOptions({ ...options, stderr }, changes));
    return { hosts: hosts.map(toWorkerHost), stderr: stderrLines };
  } catch (e) {
    // bad input is the user's (one line, exit 2); anything else is a bug the parent reports
    return { error: (e as Error).message, usage: e instanceof InputError || e instanceof UsageError, stderr: stderrLines };
  }
}

const reply = await run();
parentPort!.postMessage(reply, replyBuffers(reply));
