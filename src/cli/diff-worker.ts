/** diff's changed replay, run in a worker thread (diff-run.ts); replies with its fates or its error. */
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../errors.js';
import { changedOptions, fatesRun, replyBuffers, toWorkerHost, type DiffChanges, type WorkerReply } from './diff-run.js';
import type { RunOptions } from './run-input.js';
import { UsageError } from './usage-error.js';

const { input, options, changes } = workerData as { input: string; options: RunOptions; changes: DiffChanges };

async function run(): Promise<WorkerReply> {
  try {
    const hosts = await fatesRun(input, changedOptions(options, changes));
    return { hosts: hosts.map(toWorkerHost) };
  } catch (e) {
    // bad input is the user's (one line, exit 2); anything else is a bug the parent reports
    return { error: (e as Error).message, usage: e instanceof InputError || e instanceof UsageError };
  }
}

const reply = await run();
parentPort!.postMessage(reply, replyBuffers(reply));
