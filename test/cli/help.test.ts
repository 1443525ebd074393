/**
 * `--help` of each command is enough to use it: the exit codes, NO_COLOR where there is colour,
 * the scenario format's essentials for commands that take one, and every file a node snapshot
 * may hold for commands that take --node.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { natsim } from './helpers.js';

const SNAPSHOT_FILES = ['ip-addr.json', 'ip-route.json', 'sysctl.txt', 'nft-ruleset.txt', 'iptables-save.txt', 'iptables-legacy-save.txt', 'ipset-save.txt', 'ipvsadm-save.txt', 'sockets.txt', 'nproc.txt'];

const help = async (...command: string[]) => {
  const run = await natsim(...command, '--help');
  expect(run.code).toBe(0);
  return run.stdout;
};

describe('--help', () => {
  it.each(['trace', 'stats', 'conntrack', 'ipvs', 'verify', 'lint', 'check', 'snapshot'])('%s gives the exit codes', async (command) => {
    expect(await help(command)).toMatch(/Exit codes: 0 done, 1 .*\n2 bad input or usage .*, 70 a bug/);
  });

  it.each(['trace', 'stats', 'conntrack', 'ipvs', 'verify', 'snapshot'])('%s lists every file of a node snapshot', async (command) => {
    const text = await help(command);
    for (const file of SNAPSHOT_FILES) expect(text).toContain(file);
  });

  it.each(['trace', 'stats', 'conntrack', 'ipvs'])("%s gives the scenario format's essentials", async (command) => {
    const text = await help(command);
    for (const essential of ['natsim: 1', 'hosts:', 'interfaces:', 'routes:', 'ruleset-file:', 'run:', 'tcp connect ADDR:PORT', 'Times (at, until, hold, interval, --until)', 'README']) expect(text).toContain(essential);
  });

  it.each(['trace', 'stats'])('%s says how to turn colour off', async (command) => {
    expect(await help(command)).toContain('NO_COLOR=1');
  });

  it('lint says it takes scenarios', async () => {
    expect((await help('lint')).replace(/\s+/g, ' ')).toContain('scenarios (.yaml: their inline rulesets and ruleset files)');
  });
});

describe('a reader that stops early', () => {
  it.each([['--help'], ['explain', 'fixtures/kernel/ip6-masq-router/capture.pcap']])('`natsim %s | head -c 1` ends quietly with 0, no stack trace', (...command) => {
    const run = spawnSync('bash', ['-c', `node bin/natsim.js ${command.join(' ')} | head -c 1 >/dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('0\n');
  });
});
