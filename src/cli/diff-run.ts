/**
 * One of diff's two replays, as plain data that crosses a worker boundary: the changed run
 * goes to a worker thread (diff-worker.ts) while this thread replays the input as it is, so
 * that a diff takes about the time of one replay where a second core is free.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { InputError } from '../errors.js';
import type { KernelVersion } from '../kernel/profile.js';
import type { HostSpec, ScenarioSpec } from '../scenario/spec.js';
import type { RunFates } from '../explain/diff.js';
import type { FlowCollector } from '../explain/collect.js';
import { FateTable, type FateColumns } from '../explain/fate.js';
import { rehandleColumns } from '../explain/flow-index.js';
import { internedAddresses } from '../packet/ipv6-addr.js';
import { collectRun } from './explain.js';
import { markFates } from '../explain/explain.js';
import type { RunOptions } from './run-input.js';
import { requireFile } from './input-file.js';
import { UsageError } from './usage-error.js';

export interface DiffChanges {
  readonly ruleset?: string;
  readonly sysctl: readonly string[];
  readonly setNode?: string;
  readonly kernel?: KernelVersion;
}

/** What a run gives diff: per replayed host, its name and fates. */
export interface HostFates extends RunFates {
  readonly host: string;
}

/**
 * What crosses from the worker: per host its tuples and fates as typed arrays (handed over, not
 * copied: workerReply's transfer list), or the error that ended the run; and the lines its run
 * had for stderr, which the parent writes to the command's own (a worker has no CliIO of its own).
 */
export type WorkerReply = ({ readonly hosts: readonly WorkerHost[] } | { readonly error: string; readonly usage: boolean }) & { readonly stderr: readonly string[] };

/** What the worker is given: the run options that are plain data (no callbacks, no streams). */
export type WorkerRunOptions = Omit<RunOptions, 'probeFor' | 'alter' | 'origin' | 'stderr'>;

export interface WorkerHost {
  readonly host: string;
  /** The worker's interned IPv6 addresses, which its tuples' handles index (ipv6-addr.ts). */
  readonly ipv6: Uint32Array;
  readonly tuples: Float64Array;
  readonly fates: FateColumns;
  readonly counters: Record<string, number>;
}

/** A host's fates as the worker sends them. */
export function toWorkerHost(h: HostFates): WorkerHost {
  return { host: h.host, ipv6: internedAddresses(), tuples: h.tuples, fates: h.fates.columns(), counters: { ...h.counters } };
}

/** The buffers of a reply, which postMessage moves to the parent instead of copying. */
export function replyBuffers(reply: WorkerReply): ArrayBuffer[] {
  if ('error' in reply) return [];
  return reply.hosts.flatMap((h) => [h.ipv6.buffer, h.tuples.buffer, h.fates.ints.buffer, h.fates.translated.buffer] as ArrayBuffer[]);
}

/** A host's fates from the worker, its IPv6 handles renumbered as this thread's. */
function fromWorkerHost(h: WorkerHost): HostFates {
  rehandleColumns(h.tuples, h.ipv6);
  rehandleColumns(h.fates.translated, h.ipv6);
  return { host: h.host, tuples: h.tuples, fates: new FateTable(h.fates), counters: h.counters };
}

/** KEY=VALUE, the value a number when it is one (as a scenario's sysctl map gives it). */
function sysctlPair(text: string): [string, string | number] {
  const at = text.indexOf('=');
  if (at <= 0) throw new UsageError(`--sysctl: expected KEY=VALUE, got '${text}'`);
  const value = text.slice(at + 1).trim();
  return [text.slice(0, at).trim(), /^-?\d+$/.test(value) ? Number(value) : value];
}

function readRuleset(file: string): string {
  requireFile(file);
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError({ file }, `cannot read: ${(e as Error).message}`);
  }
}

/** The run options of the changed replay: the replayed hosts' ruleset and sysctls, the node, the kernel. */
export function changedOptions(options: RunOptions, changes: DiffChanges): RunOptions {
  const ruleset = changes.ruleset === undefined ? undefined : { text: readRuleset(changes.ruleset), file: changes.ruleset, lineOffset: 0, colOffset: 0 };
  const sysctls = changes.sysctl.map(sysctlPair);
  const change = (h: HostSpec): HostSpec => ({
    ...h,
    ruleset: ruleset ?? h.ruleset,
    sysctl: [...h.sysctl, ...sysctls.map((value) => ({ value, place: { file: `--sysctl ${value[0]}=${value[1]}` } }))],
  });
  const alter = (spec: ScenarioSpec, hosts: readonly string[]): ScenarioSpec => ({ ...spec, hosts: spec.hosts.map((h) => (hosts.includes(h.name) ? change(h) : h)) });
  return { ...options, node: changes.setNode ?? options.node, kernel: changes.kernel ?? options.kernel, alter };
}

function hostFates(c: FlowCollector): HostFates {
  const total = c.host.nf.stats.total();
  const counters: Record<string, number> = Object.fromEntries(c.host.nf.stats.fields.map((n) => [n, total[n]]));
  for (const [why, n] of c.host.packets.dropped) counters[`dropped: ${why}`] = n;
  return { host: c.host.name, tuples: c.tuples.columns(), fates: c.fates!, counters };
}

/** One replay with every flow's fate kept. */
export async function fatesRun(input: string, options: RunOptions): Promise<HostFates[]> {
  const { collectors, endTime } = await collectRun(input, options, true);
  for (const c of collectors) markFates(c, endTime);
  return collectors.map(hostFates);
}

/** The changed replay's fates, and the lines it had for stderr (the caller writes those the unchanged replay did not). */
export interface WorkerFates {
  readonly hosts: HostFates[];
  readonly stderr: readonly string[];
}

/** The changed replay, running in its worker thread. */
export interface ChangedRun {
  /** Its fates; when it fails, its stderr lines are written before the error. */
  readonly fates: Promise<WorkerFates>;
  /** Ends the worker (the other replay failed, so its fates are not needed). */
  stop(): Promise<void>;
}

/** Starts the changed replay in a worker thread. */
export function fatesInWorker(input: string, options: RunOptions, changes: DiffChanges): ChangedRun {
  const { probeFor: _p, alter: _a, origin: _o, stderr, ...plain } = options;
  const workerOptions: WorkerRunOptions = { ...plain, quiet: true };
  // tsc's diff-worker.js is beside this file in dist/cli; in dist/bundle the worker's entry is
  // beside the chunk holding this code (scripts/bundle.mjs writes both flat into one folder)
  const worker = new Worker(new URL('./diff-worker.js', import.meta.url), { workerData: { input, options: workerOptions, changes } });
  const fates = new Promise<WorkerFates>((resolve, reject) => {
    worker.once('message', (reply: WorkerReply) => {
      if ('error' in reply) {
        for (const line of reply.stderr) stderr.line(line);
        reject(reply.usage ? new UsageError(reply.error) : new Error(reply.error));
      } else resolve({ hosts: reply.hosts.map(fromWorkerHost), stderr: reply.stderr });
    });
    worker.once('error', reject);
  });
  // a failure before the caller awaits it (while this thread replays) is the caller's to report, not an unhandled rejection
  fates.catch(() => undefined);
  return { fates, stop: async () => void (await worker.terminate()) };
}
