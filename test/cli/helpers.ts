/**
 * Runs the built CLI (dist/, built by `npm test`'s tsc step): natsim() calls its main() in this
 * process on memory streams, spawnNatsim() runs bin/natsim.js as a user would. A spawn costs
 * 0.3–0.6 s of node start-up, which made the suite's CLI cases most of its time (issue 22);
 * in-process.test.ts holds each command family to giving the same code, stdout and stderr both ways.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIO, CliStream } from '../../src/cli/io.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A stream that keeps what is written to it, as a pipe would carry it (no terminal). */
export class MemoryStream implements CliStream {
  text = '';
  readonly terminal = null;
  readonly readerGone: boolean = false;
  line(text: string): void {
    this.text += text + '\n';
  }
  write(text: string): void {
    this.text += text;
  }
  flush(): void {}
}

// tsc's built main, which bin/natsim.js runs bundled (dist/bundle; diff's worker is a file of dist/); typed by its source
const DIST_MAIN = '../../dist/cli/main.js';
let built: Promise<typeof import('../../src/cli/main.js')> | null = null;

/** natsim ARGS run in this process: its exit code and what it wrote to stdout and stderr. */
export async function natsim(...args: string[]): Promise<CliRun> {
  const io = { stdout: new MemoryStream(), stderr: new MemoryStream() };
  const code = await natsimOn(io, ...args);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

/** natsim ARGS run in this process on streams of the caller's: its exit code. */
export async function natsimOn(io: CliIO, ...args: string[]): Promise<number> {
  built ??= import(DIST_MAIN);
  const { main } = await built;
  return main(['node', 'natsim', ...args], io);
}

/** natsim ARGS as a separate process, the way a user runs it (NO_COLOR set, as natsim() has no terminal). */
export function spawnNatsim(...args: string[]): CliRun {
  const r = spawnSync(process.execPath, ['bin/natsim.js', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A folder of the test's own, inside the run's (test/support/run-tmp.ts removes it when the run ends). */
export function tempDir(): string {
  return mkdtempSync(join(process.env.NATSIM_TEST_TMP ?? tmpdir(), 'natsim-test-'));
}
