/**
 * Runs one benchmark case as a child process, several times, and keeps the median. Each run is
 * its own process so that its peak RSS and CPU time are its own: GNU time -v reports them when
 * installed; otherwise a node child reports process.resourceUsage() through a preloaded exit hook.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';

export interface Sample {
  readonly seconds: number;
  /** CPU time, user + system, of all the process's threads (null when nothing could measure it). */
  readonly cpuSeconds: number | null;
  /** Peak resident set size, MB; null when nothing could measure it. */
  readonly rssMb: number | null;
  readonly stdout: string;
  /** The last 20,000 characters of stderr. */
  readonly stderr: string;
}

export interface Median {
  readonly seconds: number;
  readonly cpuSeconds: number | null;
  readonly rssMb: number | null;
  readonly samples: Sample[];
}

const GNU_TIME = '/usr/bin/time';
const RSS_HOOK = `data:text/javascript,process.on('exit',()=>{const u=process.resourceUsage();process.stderr.write('bench-maxrss-kb: '+u.maxRSS+'\\nbench-cpu-us: '+(u.userCPUTime+u.systemCPUTime)+'\\n')})`;

/** True when /usr/bin/time is GNU time with -v (BusyBox's has no peak RSS to report). */
export const hasGnuTime: boolean =
  existsSync(GNU_TIME) && /Maximum resident set size/.test(spawnSync(GNU_TIME, ['-v', 'true'], { encoding: 'utf8' }).stderr ?? '');

export function hasCommand(cmd: string, versionArg = '--version'): boolean {
  const r = spawnSync(cmd, [versionArg], { stdio: 'ignore' });
  return r.error === undefined;
}

export interface Command {
  readonly cmd: string;
  readonly args: readonly string[];
  /** Whether `cmd` is node (then its RSS can be had without GNU time). */
  readonly node?: boolean;
  /** Send stdout to /dev/null rather than collecting it (a trace is hundreds of MB). */
  readonly discardStdout?: boolean;
  /** The exit code that counts as success (default 0; 2 for a run meant to end in an input error). */
  readonly exitCode?: number;
}

export function runOnce(c: Command): Promise<Sample> {
  let cmd = c.cmd;
  let args = [...c.args];
  if (hasGnuTime) {
    args = ['-v', cmd, ...args];
    cmd = GNU_TIME;
  } else if (c.node) {
    args = ['--import', RSS_HOOK, ...args];
  }
  const devNull = c.discardStdout ? openSync('/dev/null', 'w') : null;
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', devNull ?? 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-20_000)));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (devNull !== null) closeSync(devNull);
      if (code !== (c.exitCode ?? 0)) return reject(new Error(`${[c.cmd, ...c.args].join(' ')} exited with ${code}:\n${stderr.slice(-2000)}`));
      resolve({ seconds, cpuSeconds: cpuSeconds(stderr), rssMb: peakRssMb(stderr), stdout, stderr });
    });
  });
}

/** Runs `c` `runs` times, one after another, and takes the median time and the median peak RSS. */
export async function runMedian(c: Command, runs: number): Promise<Median> {
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) samples.push(await runOnce(c));
  return medians(samples);
}

/** The median wall time, CPU time and peak RSS of some runs. */
function medians(samples: Sample[]): Median {
  return { seconds: median(samples.map((s) => s.seconds)), cpuSeconds: medianOf(samples.map((s) => s.cpuSeconds)), rssMb: medianOf(samples.map((s) => s.rssMb)), samples };
}

/**
 * Runs `base` and `c` in turns, `runs` pairs, and gives both medians and the median of the
 * pairs' CPU-time ratios c / base: runs side by side share the machine's load, so on a busy
 * machine the ratio is steadier than one of two medians taken minutes apart.
 */
export async function runPaired(base: Command, c: Command, runs: number): Promise<{ base: Median; case: Median; cpuRatio: number | null }> {
  const a: Sample[] = [];
  const b: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(await runOnce(base));
    b.push(await runOnce(c));
  }
  const ratios = a.map((s, i) => (s.cpuSeconds !== null && b[i]!.cpuSeconds !== null ? b[i]!.cpuSeconds! / s.cpuSeconds : null));
  return { base: medians(a), case: medians(b), cpuRatio: medianOf(ratios) };
}

function medianOf(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length > 0 ? median(known) : null;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function cpuSeconds(stderr: string): number | null {
  const user = /User time \(seconds\): ([\d.]+)/.exec(stderr);
  const sys = /System time \(seconds\): ([\d.]+)/.exec(stderr);
  if (user && sys) return Number(user[1]) + Number(sys[1]);
  const hook = /bench-cpu-us: (\d+)/.exec(stderr);
  return hook ? Number(hook[1]) / 1e6 : null;
}

function peakRssMb(stderr: string): number | null {
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr) ?? /bench-maxrss-kb: (\d+)/.exec(stderr);
  return m ? Number(m[1]) / 1024 : null;
}
