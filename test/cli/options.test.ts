/**
 * One option table for every command (src/cli/options.ts): --node on every command that
 * replays a capture, read as verify reads it; each command offers only the shared options that
 * mean something to it; the table is usable by a new command as it is.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addSharedOptions, REPLAY_OPTIONS, sharedValues } from '../../src/cli/options.js';
import { natsim } from './helpers.js';

const CASE = 'fixtures/kernel/masq-to-ports-multi-ip';
const CAPTURE = `${CASE}/capture.pcap`;

describe('--node DIR', () => {
  it.each([['trace'], ['stats', '--plain'], ['conntrack'], ['conntrack', '--events'], ['ipvs']])('natsim %s CAPTURE --node DIR replays the capture on the node', async (...command) => {
    const withNode = await natsim(...command, CAPTURE, '--node', CASE);
    expect(withNode.code).toBe(0);
    // a capture inside a snapshot folder is replayed on that node unasked
    expect(withNode.stdout).toBe((await natsim(...command, CAPTURE)).stdout);
  });

  it('conntrack --node lists what the kernel listed (timeouts aside)', async () => {
    const timeoutless = (text: string) => text.trim().split('\n').map((l) => l.replace(/^(\S+\s+\d+) \d+ /, '$1 T ')).sort();
    expect(timeoutless((await natsim('conntrack', CAPTURE, '--node', CASE)).stdout)).toEqual(timeoutless(readFileSync(`${CASE}/conntrack-L.txt`, 'utf8')));
  });

  it('verify and the other commands read the snapshot with the one loader: the same notes on stderr', async () => {
    expect((await natsim('conntrack', CAPTURE, '--node', CASE)).stderr).toBe('conntrack v1.4.7 (conntrack-tools): 5 flow entries have been shown.\n');
    expect((await natsim('verify', CAPTURE, '--node', CASE, '--json')).stderr).toBe('');
  });

  it('is refused with --scenario, and for a scenario input, in one line and exit 2', async () => {
    const both = await natsim('trace', CAPTURE, '--node', CASE, '--scenario', 'fixtures/seeds/icmp-masquerade.yaml');
    expect(both.stderr).toBe('natsim: give --node or --scenario, not both: each describes the host the capture was taken on\n');
    expect(both.code).toBe(2);
    const scenario = await natsim('stats', 'fixtures/seeds/icmp-masquerade.yaml', '--node', CASE);
    expect(scenario.stderr).toMatch(/^natsim: --node describes the host of a capture .*\n$/);
    expect(scenario.code).toBe(2);
  });

  it('--scenario with a scenario input is refused as --node is, not ignored', async () => {
    const run = await natsim('trace', 'fixtures/seeds/icmp-masquerade.yaml', '--scenario', 'fixtures/seeds/icmp-masquerade.yaml');
    expect([run.code, run.stdout]).toEqual([2, '']);
    expect(run.stderr).toMatch(/^natsim: --scenario describes the host of a capture .*is a scenario, which has its hosts\n$/);
  });

  it('a file given as the node folder says so', async () => {
    const run = await natsim('conntrack', CAPTURE, '--node', CAPTURE);
    expect(run.stderr).toBe(`natsim: ${CAPTURE}: is a file: a node snapshot is a folder (natsim snapshot DIR writes one)\n`);
    expect(run.code).toBe(2);
  });
});

describe('each command offers the shared options that mean something to it', () => {
  const help = async (command: string) => (await natsim(command, '--help')).stdout;

  it.each(['trace', 'stats', 'conntrack', 'ipvs'])('%s takes every replay option but --cpus on ipvs', async (command) => {
    const text = await help(command);
    for (const flag of ['--scenario', '--node', '--host', '--seed', '--kernel', '--no-follow-kernel', '--write-pcap', '--until', '--max-packets', '--quiet']) expect(text).toContain(flag);
    expect(text.includes('--cpus')).toBe(command !== 'ipvs');
  });

  it('--no-color on trace and stats only, --json where there is JSON output', async () => {
    const commands = ['trace', 'stats', 'conntrack', 'ipvs', 'verify'];
    const texts = await Promise.all(commands.map(help));
    expect(commands.filter((_, i) => texts[i]!.includes('--no-color'))).toEqual(['trace', 'stats']);
    expect(commands.filter((_, i) => texts[i]!.includes('--json'))).toEqual(['trace', 'stats', 'conntrack', 'verify']);
  });

  it('ipvs refuses --cpus as an unknown option', async () => {
    const run = await natsim('ipvs', '--cpus', '2', CAPTURE);
    expect(run.stderr).toBe("natsim: unknown option '--cpus' (see --help)\n");
    expect(run.code).toBe(2);
  });

  it('stats --no-color works and is plain text off a terminal', async () => {
    const run = await natsim('stats', '--no-color', CAPTURE, '--node', CASE);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^cpu=0/);
  });
});

describe('addSharedOptions / sharedValues, as a new command uses them', () => {
  function parse(names: Parameters<typeof addSharedOptions>[1], argv: string[], settings?: Parameters<typeof addSharedOptions>[2]) {
    let values: ReturnType<typeof sharedValues> | null = null;
    const cmd = addSharedOptions(new Command('x').exitOverride().configureOutput({ writeErr: () => {} }), names, settings).action((o: Record<string, unknown>) => void (values = sharedValues(o)));
    cmd.parse(argv, { from: 'user' });
    return values!;
  }

  it('parses durations, numbers, kernels and flags into typed values, with defaults for the flags', () => {
    expect(parse([...REPLAY_OPTIONS, 'json', 'color'], ['--until', '2m', '--seed', '7', '--kernel', '5.4', '--no-color', '--no-follow-kernel', '--node', 'n', '--conntrack-hash-seed', '40'])).toEqual({
      until: 120e9, seed: 7, kernel: '5.4', color: false, followKernel: false, node: 'n', quiet: false, json: false, conntrackHashSeed: 40,
    });
    expect(parse(['traceCounters'], ['--trace-counters', 'ruleset'])).toMatchObject({ traceCounters: 'ruleset' });
    expect(parse(['json', 'quiet'], [])).toEqual({ json: false, quiet: false, color: true });
  });

  it('offers only the options named, with the help and mandatory ones the command asks for', () => {
    expect(() => parse(['json'], ['--cpus', '2'])).toThrow(/unknown option '--cpus'/);
    expect(() => parse(['node'], [], { required: ['node'] })).toThrow(/required option '--node <dir>'/);
    const cmd = addSharedOptions(new Command('x'), ['json'], { help: { json: 'one object per flow' } });
    expect(cmd.helpInformation()).toMatch(/--json +one object per flow/);
  });
});
