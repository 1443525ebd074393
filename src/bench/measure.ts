/**
 * Runs one benchmark case as a child process, several times, and keeps the median. Each run is
 * its own process so that its peak RSS is its own: GNU time -v reports it when installed;
 * otherwise a node child reports process.resourceUsage().maxRSS through a preloaded exit hook.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';

export interface Sample {
  readonly seconds: number;
  /** Peak resident set size, MB; null when nothing could measure it. */
  readonly rssMb: number | null;
  readonly stdout: string;
  /** The last 20,000 characters of stderr. */
  readonly stderr: string;
}

export interface Median {
  readonly seconds: number;
  readonly rssMb: number | null;
  readonly samples: Sample[];
}

const GNU_TIME = '/usr/bin/time';
const RSS_HOOK = `data:text/javascript,process.on('exit',()=>process.stderr.write('bench-maxrss-kb: '+process.resourceUsage().maxRSS+'\\n'))`;

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
      resolve({ seconds, rssMb: peakRssMb(stderr), stdout, stderr });
    });
  });
}

/** Runs `c` `runs` times, one after another, and takes the median time and the median peak RSS. */
export async function runMedian(c: Command, runs: number): Promise<Median> {
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) samples.push(await runOnce(c));
  const rss = samples.map((s) => s.rssMb).filter((v): v is number => v !== null);
  return { seconds: median(samples.map((s) => s.seconds)), rssMb: rss.length > 0 ? median(rss) : null, samples };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function peakRssMb(stderr: string): number | null {
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr) ?? /bench-maxrss-kb: (\d+)/.exec(stderr);
  return m ? Number(m[1]) / 1024 : null;
}
