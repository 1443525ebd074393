/**
 * Usage errors are the one line `natsim: …` every natsim error is, with exit 2 — commander's
 * own (unknown option, missing argument, bad value) as natsim's (options that exclude each
 * other) — and a folder where a file belongs is said to be one, not EISDIR.
 */
import { describe, expect, it } from 'vitest';
import { natsim } from './helpers.js';

const SEED = 'fixtures/seeds/icmp-masquerade.yaml';
const CAPTURE = 'fixtures/kernel/icmp-masq/capture.pcap';

async function expectUsage(args: string[], line: string): Promise<void> {
  const run = await natsim(...args);
  expect(run.stderr).toBe(`${line}\n`);
  expect(run.stdout).toBe('');
  expect(run.code).toBe(2);
}

describe('usage errors', () => {
  it.each([
    [['trace', '--bogus', SEED], "natsim: unknown option '--bogus' (see --help)"],
    [['stats'], "natsim: missing required argument 'input' (see --help)"],
    [['frob'], "natsim: unknown command 'frob' (see --help)"],
    [['verify', CAPTURE], "natsim: required option '--node <dir>' not specified (see --help)"],
    [['trace', '--seed', 'x', SEED], "natsim: option '--seed <n>' argument 'x' is invalid. expected a whole number ≥ 0 (see --help)"],
    [['trace', '--style', 'fancy', SEED], "natsim: option '--style <style>' argument 'fancy' is invalid. Allowed choices are kernel, masq, json. (see --help)"],
  ])('%j: one line, exit 2', (args, line) => expectUsage(args, line));
});

describe('a folder where a file belongs', () => {
  it.each([
    [['trace', 'fixtures'], 'natsim: fixtures: is a folder, not a file'],
    [['trace', CAPTURE, '--scenario', 'fixtures'], 'natsim: fixtures: is a folder, not a file'],
    [['verify', 'fixtures', '--node', 'fixtures/kernel/icmp-masq'], 'natsim: fixtures: is a folder, not a file'],
    [['stats', '--write-pcap', 'fixtures', SEED], 'natsim: fixtures: is a folder: give a file name to write to'],
    [['lint', 'fixtures'], 'natsim: fixtures: is a folder, not a file'],
  ])('%j says so', (args, line) => expectUsage(args, line));
});
