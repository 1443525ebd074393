/**
 * `npm run fuzz -- --seconds N [--seed S] [--out DIR]`: runs the property-test generators
 * (src/fuzz/generators.ts) with fresh seeds for N seconds: random NAT-router worlds checked
 * against invariants (a)–(e) of src/fuzz/invariants.ts, mutated scenario texts and mutated
 * captures that must finish or throw InputError. On the first crash (an exception other than
 * InputError, an invariant violation, or a case that does not end) it writes a reproducer
 * (the scenario YAML or the capture bytes, plus a .txt with the seed and the error) to DIR
 * (default: a new temp dir), prints its path and exits 1; else prints the counts and exits 0.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { TARGETS, type Reproducer, type TargetName } from './cases.js';
import type { WorkerInput, WorkerMessage } from './worker.js';

/** No case reported for this long: the worker is stuck in one (cases are bounded to seconds). */
const HANG_MS = 60_000;
const USAGE = 'usage: npm run fuzz -- --seconds N [--seed S] [--out DIR] [--batch N] [--only world,scenario,capture]';

interface Options {
  seconds: number;
  seed: number;
  out: string | null;
  batch: number;
  only: TargetName[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { seconds: 60, seed: (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) & 0x7fffffff, out: null, batch: 50, only: [...TARGETS] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value`);
      return v;
    };
    const int = (min: number): number => {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) fail(`${a} needs a whole number of at least ${min}, got '${v}'`);
      return n;
    };
    if (a === '--seconds') o.seconds = int(1);
    else if (a === '--seed') o.seed = int(0);
    else if (a === '--out') o.out = value();
    else if (a === '--batch') o.batch = int(1);
    else if (a === '--only') {
      const v = value().split(',');
      const bad = v.find((t) => !TARGETS.includes(t as TargetName));
      if (bad !== undefined) fail(`--only takes ${TARGETS.join(', ')}; got '${bad}'`);
      o.only = v as TargetName[];
    }
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else fail(`unknown option '${a}'`);
  }
  return o;
}

function fail(message: string): never {
  process.stderr.write(`fuzz: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function writeReproducer(dir: string, repro: Reproducer, info: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  const stem = join(dir, `${repro.target}-seed${String(info.seed)}`);
  let input: string;
  let rerun: string;
  if (repro.bytes) {
    input = `${stem}.pcap`;
    writeFileSync(input, repro.bytes);
    rerun = `node bin/natsim.js trace ${input} --node ${repro.scenarioDir!}`;
  } else {
    input = `${stem}.yaml`;
    writeFileSync(input, repro.text!);
    rerun = `node bin/natsim.js trace ${input}   (parsed as ${repro.file}: relative ruleset-file paths resolve from there)`;
  }
  const lines = [`input: ${input}`, `target: ${repro.target}`, ...Object.entries(info).map(([k, v]) => `${k}: ${String(v)}`), `rerun: ${rerun}`];
  writeFileSync(`${stem}.txt`, `${lines.join('\n')}\n`);
  return input;
}

const options = parseArgs(process.argv.slice(2));
const began = Date.now();
const work = mkdtempSync(join(tmpdir(), 'natsim-fuzz-'));
const out = options.out ? resolve(options.out) : work;
process.stdout.write(`fuzz: seed ${options.seed}, ${options.seconds} s, targets ${options.only.join(', ')}, reproducers to ${out}\n`);

const data: WorkerInput = { seed: options.seed, deadline: began + options.seconds * 1000, dir: work, batch: options.batch, only: options.only };
const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: data });
let last: Reproducer | null = null;
let lastAt = Date.now();
let cases = 0;
let finished = false;

const watchdog = setInterval(() => {
  if (Date.now() - lastAt < HANG_MS || !last) return;
  finished = true;
  clearInterval(watchdog);
  void worker.terminate();
  const path = writeReproducer(out, last, { seed: options.seed, kind: 'hang', error: `no progress for ${HANG_MS / 1000} s on this case` });
  process.stdout.write(`fuzz: HANG after ${cases} cases; reproducer: ${path}\n`);
  process.exitCode = 1;
}, 1000);

worker.on('message', (m: WorkerMessage) => {
  if (m.type === 'case') {
    last = m.repro;
    lastAt = Date.now();
    cases++;
  } else if (m.type === 'fail') {
    finished = true;
    clearInterval(watchdog);
    const path = writeReproducer(out, m.repro, { seed: options.seed, 'batch seed': m.batchSeed, kind: m.kind, shrinks: m.shrinks, error: m.error });
    process.stdout.write(`fuzz: ${m.kind.toUpperCase()} in ${m.repro.target} (after ${cases} cases incl. shrinking): ${m.error.split('\n')[0]}\nfuzz: reproducer: ${path}\n`);
    process.exitCode = 1;
  } else {
    finished = true;
    clearInterval(watchdog);
    const total = m.counts.world + m.counts.scenario + m.counts.capture;
    process.stdout.write(`fuzz: ${total} cases in ${((Date.now() - began) / 1000).toFixed(1)} s, no failure (worlds ${m.counts.world}, mutated scenarios ${m.counts.scenario}, mutated captures ${m.counts.capture}; seed ${options.seed})\n`);
    process.exitCode = 0;
    rmSync(work, { recursive: true, force: true }); // only scratch captures in it
  }
});
worker.on('error', (e) => {
  finished = true;
  clearInterval(watchdog);
  const path = last ? writeReproducer(out, last, { seed: options.seed, kind: 'crash', error: e.stack ?? String(e) }) : '(no case started)';
  process.stdout.write(`fuzz: CRASH of the fuzz worker: ${e.message}\nfuzz: reproducer: ${path}\n`);
  process.exitCode = 1;
});
worker.on('exit', () => {
  clearInterval(watchdog);
  if (!finished) {
    process.stdout.write('fuzz: the worker exited without a result\n');
    process.exitCode = 1;
  }
});
