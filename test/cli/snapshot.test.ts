/**
 * natsim snapshot, with stand-in tools on PATH (the machine's own `ip`, `nft`… would make the
 * result depend on where the tests run): the files land under the names natsim verify --node
 * reads, a snapshot of a recorded router verifies its capture, and a missing tool or a refused
 * permission is a one-line error.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { natsim, tempDir } from './helpers.js';

const CASE = resolve('fixtures/kernel/masq-to-ports-multi-ip');

/** A bin folder whose tools print the recording's files (or fail as `failing` says). */
function fakeTools(tools: Record<string, string>): string {
  const bin = tempDir();
  for (const [name, body] of Object.entries(tools)) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return bin;
}

const IP = `case "$2" in link) /bin/cat ${CASE}/ip-link.json;; addr) /bin/cat ${CASE}/ip-addr.json;; route) /bin/cat ${CASE}/ip-route.json;; esac`;

function snapshot(bin: string, dir: string) {
  const r = spawnSync(process.execPath, ['bin/natsim.js', 'snapshot', dir], { encoding: 'utf8', env: { PATH: bin, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('natsim snapshot', () => {
  it('writes the snapshot files, skips tools that are not installed, and the snapshot verifies its capture', () => {
    const bin = fakeTools({ ip: IP, sysctl: `/bin/cat ${CASE}/sysctl.txt`, 'iptables-save': `/bin/cat ${CASE}/iptables-save.txt`, nft: `/bin/cat ${CASE}/nft-ruleset.txt` });
    const dir = join(tempDir(), 'rt');
    const run = snapshot(bin, dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('snapshot: skipped ipset-save.txt: ipset is not installed');
    for (const f of ['ip-link.json', 'ip-addr.json', 'ip-route.json', 'sysctl.txt', 'nft-ruleset.txt', 'iptables-save.txt']) {
      expect(readFileSync(join(dir, f), 'utf8')).toBe(readFileSync(join(CASE, f), 'utf8'));
    }
    expect(existsSync(join(dir, 'ipset-save.txt'))).toBe(false);
    const verify = natsim('verify', `${CASE}/capture.pcap`, '--node', dir);
    expect(verify.stdout).toContain('verify: 34/34 packets match');
  });

  it('writes iptables-legacy-save.txt when the node has x_tables tables, and nothing when it has none', () => {
    const legacy = resolve('fixtures/kernel/log-trace-legacy');
    const tools = { ip: IP, sysctl: `/bin/cat ${CASE}/sysctl.txt`, 'iptables-save': 'exit 0' };
    const dir = join(tempDir(), 'rt');
    expect(snapshot(fakeTools({ ...tools, 'iptables-legacy-save': `/bin/cat ${legacy}/iptables-legacy-save.txt` }), dir).stdout).toContain(`snapshot: wrote ${join(dir, 'iptables-legacy-save.txt')}`);
    expect(readFileSync(join(dir, 'iptables-legacy-save.txt'), 'utf8')).toBe(readFileSync(join(legacy, 'iptables-legacy-save.txt'), 'utf8'));
    const none = join(tempDir(), 'rt');
    expect(snapshot(fakeTools({ ...tools, 'iptables-legacy-save': 'exit 0' }), none).code).toBe(0);
    expect(existsSync(join(none, 'iptables-legacy-save.txt'))).toBe(false);
  });

  it('a missing ip is an error naming the package', () => {
    const run = snapshot(fakeTools({ sysctl: 'exit 0' }), join(tempDir(), 'x'));
    expect(run.stderr).toMatch(/ip-link\.json: 'ip' is not installed \(package iproute2\)\n$/);
    expect(run.code).toBe(2);
  });

  it('a refused permission says to run as root', () => {
    const bin = fakeTools({ ip: IP, sysctl: 'exit 0', nft: 'echo "Error: Could not process rule: Operation not permitted" >&2; exit 1' });
    const run = snapshot(bin, join(tempDir(), 'x'));
    expect(run.stderr).toMatch(/nft-ruleset\.txt: 'nft list ruleset' was refused: Error: Could not process rule: Operation not permitted \(run as root\)\n$/);
    expect(run.code).toBe(2);
  });
});
