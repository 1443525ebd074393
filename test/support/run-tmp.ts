/**
 * vitest's global setup: one temporary folder for the whole run, which tempDir (test/cli/helpers.ts)
 * makes each test's folders in, and which goes when the run ends — a run of its own, so two runs
 * at once (a CI clone beside a working copy) do not remove each other's files.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'natsim-run-'));
  process.env.NATSIM_TEST_TMP = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
