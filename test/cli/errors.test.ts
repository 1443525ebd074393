/**
 * Bad input ends in one line naming the file and the place, and exit code 2 — never a stack
 * trace, never output that pretends all went well.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { natsim, tempDir } from './helpers.js';

const CASE = 'fixtures/kernel/icmp-masq';

/** A copy of the icmp-masq case whose capture bytes are changed by `mutate`. */
function brokenCapture(mutate: (bytes: Buffer) => Buffer): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'capture.pcap'), mutate(readFileSync(`${CASE}/capture.pcap`)));
  for (const f of ['ip-addr.json', 'ip-route.json', 'sysctl.txt', 'nft-ruleset.txt']) copyFileSync(`${CASE}/${f}`, join(dir, f));
  return join(dir, 'capture.pcap');
}

function expectOneLineError(run: { code: number; stdout: string; stderr: string }, ...fragments: string[]): void {
  expect(run.code).toBe(2);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^natsim: /);
  for (const f of fragments) expect(lines[0]).toContain(f);
  expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('bad input', () => {
  it('a capture with a bad magic number', async () => {
    const file = brokenCapture((b) => Buffer.concat([Buffer.from([1, 2, 3, 4]), b.subarray(4)]));
    expectOneLineError(await natsim('trace', file), file, 'byte offset 0');
  });

  it('a capture whose last record is cut short', async () => {
    const file = brokenCapture((b) => b.subarray(0, b.length - 10));
    expectOneLineError(await natsim('trace', file), file, 'record 16');
  });

  it('a rule natsim does not support names file, line and token', async () => {
    const dir = tempDir();
    const scenario = join(dir, 'bad-rule.yaml');
    writeFileSync(
      scenario,
      [
        'natsim: 1',
        'hosts:',
        '  rt:',
        '    interfaces: { eth0: { addr: [10.0.0.1/24] } }',
        '    ruleset: |',
        '      table ip t {',
        '        chain post {',
        '          type nat hook postrouting priority srcnat; policy accept;',
        '          ip saddr 10.0.0.0/24 ct state new frobnicate masquerade',
        '        }',
        '      }',
        '',
      ].join('\n'),
    );
    const run = await natsim('trace', scenario);
    expectOneLineError(run, `${scenario}:9:`);
    expect(run.stdout).toBe('');
  });

  it('a scenario key natsim does not know', async () => {
    const dir = tempDir();
    const scenario = join(dir, 'bad-key.yaml');
    writeFileSync(scenario, 'natsim: 1\nhosts:\n  a:\n    interfacez: {}\n');
    expectOneLineError(await natsim('trace', scenario), `${scenario}:4:5`, "unknown key 'interfacez'");
  });

  it('a scenario step that sends to a group, which natsim does not send (not even a trace before it)', async () => {
    const dir = tempDir();
    const scenario = join(dir, 'group.yaml');
    writeFileSync(scenario, 'natsim: 1\nhosts:\n  a:\n    interfaces: { eth0: { addr: [10.0.0.1/24], link: l } }\nrun:\n  - { at: 0s, on: a, do: udp send 224.0.0.251:5353 }\n');
    const run = await natsim('trace', scenario);
    expectOneLineError(run, `${scenario}:6:5`, '224.0.0.251 is a multicast group to a');
    expect(run.stdout).toBe('');
  });

  it('a capture without a scenario beside it', async () => {
    const dir = tempDir();
    const file = join(dir, 'lonely.pcap');
    copyFileSync(`${CASE}/capture.pcap`, file);
    expectOneLineError(await natsim('trace', file), 'lonely.yaml', '--scenario');
  });

  it('an unknown option is a usage error', async () => {
    const run = await natsim('trace', '--frobnicate', `${CASE}/capture.pcap`);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown option');
  });
});
