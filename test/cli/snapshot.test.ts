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
  return writeTools(tempDir(), tools);
}

/** Shell scripts named after the tools they stand for, in bin. */
function writeTools(bin: string, tools: Record<string, string>): string {
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
  it('writes the snapshot files, skips tools that are not installed, and the snapshot verifies its capture', async () => {
    const bin = fakeTools({ ip: IP, sysctl: `/bin/cat ${CASE}/sysctl.txt`, 'iptables-save': `/bin/cat ${CASE}/iptables-save.txt`, nft: `/bin/cat ${CASE}/nft-ruleset.txt` });
    const dir = join(tempDir(), 'rt');
    const run = snapshot(bin, dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('snapshot: skipped ipset-save.txt: ipset is not installed');
    for (const f of ['ip-link.json', 'ip-addr.json', 'ip-route.json', 'sysctl.txt', 'nft-ruleset.txt', 'iptables-save.txt']) {
      expect(readFileSync(join(dir, f), 'utf8')).toBe(readFileSync(join(CASE, f), 'utf8'));
    }
    expect(existsSync(join(dir, 'ipset-save.txt'))).toBe(false);
    const verify = await natsim('verify', `${CASE}/capture.pcap`, '--node', dir);
    expect(verify.stdout).toContain('verify: 34/34 packets match');
  });

  it('writes ip-link-details.json (ip -j -d link) for a docker bridge host, and the snapshot verifies its capture', async () => {
    const docker = resolve('fixtures/kernel/docker-bridge-brnf-on');
    const ip = `case "$*" in "-j link") /bin/cat ${docker}/ip-link.json;; "-j -d link") /bin/cat ${docker}/ip-link-details.json;; "-j addr") /bin/cat ${docker}/ip-addr.json;; "-j route"*) /bin/cat ${docker}/ip-route.json;; esac`;
    const bin = fakeTools({ ip, sysctl: `/bin/cat ${docker}/sysctl.txt`, 'iptables-save': `/bin/cat ${docker}/iptables-save.txt` });
    const dir = join(tempDir(), 'rt');
    expect(snapshot(bin, dir).code).toBe(0);
    expect(readFileSync(join(dir, 'ip-link-details.json'), 'utf8')).toBe(readFileSync(join(docker, 'ip-link-details.json'), 'utf8'));
    expect((await natsim('verify', `${docker}/capture.pcap`, '--node', dir)).stdout).toContain('verify: 61/61 packets match');
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

describe('natsim snapshot, where it cannot write or the namespace is not there', () => {
  const tools = () => fakeTools({ ip: `if [ "$1" = netns ]; then echo 'Cannot open network namespace "nope": No such file or directory' >&2; exit 1; fi\n${IP}`, sysctl: `/bin/cat ${CASE}/sysctl.txt` });

  it('a folder under /proc is one error line and exit 2, at once', () => {
    const r = spawnSync(process.execPath, ['bin/natsim.js', 'snapshot', '/proc/natsim-test/node'], { encoding: 'utf8', env: { PATH: tools(), NO_COLOR: '1' }, timeout: 120_000 });
    expect(r.signal).toBeNull();
    expect(r.stderr).toMatch(/^natsim: \/proc\/natsim-test\/node: cannot create the folder: ENOENT[^\n]*\n$/);
    expect(r.status).toBe(2);
  });

  it('--netns with a namespace that does not exist leaves no folder behind', () => {
    const dir = join(tempDir(), 'rt');
    const r = spawnSync(process.execPath, ['bin/natsim.js', 'snapshot', '--netns', 'nope', dir], { encoding: 'utf8', env: { PATH: tools(), NO_COLOR: '1' } });
    expect(r.stderr).toBe(`natsim: ${join(dir, 'ip-link.json')}: 'ip netns exec nope ip -j link' failed: Cannot open network namespace "nope": No such file or directory\n`);
    expect(r.status).toBe(2);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('natsim snapshot: the node sockets and CPUs', () => {
  const base = { ip: IP, sysctl: `/bin/cat ${CASE}/sysctl.txt`, 'iptables-save': `/bin/cat ${CASE}/iptables-save.txt` };

  it('saves ss -tuanpH as sockets.txt and nproc as nproc.txt', () => {
    const dir = join(tempDir(), 'rt');
    const ss = 'tcp   LISTEN 0      4096         0.0.0.0:22        0.0.0.0:*     users:(("sshd",pid=1,fd=3))';
    expect(snapshot(fakeTools({ ...base, ss: `echo '${ss}'`, nproc: 'echo 4' }), dir).code).toBe(0);
    expect(readFileSync(join(dir, 'sockets.txt'), 'utf8')).toBe(`${ss}\n`);
    expect(readFileSync(join(dir, 'nproc.txt'), 'utf8')).toBe('4\n');
    expect(existsSync(join(dir, 'proc-net-tcp.txt'))).toBe(false);
    expect(existsSync(join(dir, 'cpu-online.txt'))).toBe(false);
  });

  it('without ss and nproc, saves /proc/net/tcp, /proc/net/udp and /sys/devices/system/cpu/online instead', () => {
    const dir = join(tempDir(), 'rt');
    const cat = 'case "$1" in /proc/net/tcp) echo "  sl  local_address tcp";; /proc/net/udp) echo "  sl  local_address udp";; /sys/devices/system/cpu/online) echo 0-1;; esac';
    expect(snapshot(fakeTools({ ...base, cat }), dir).code).toBe(0);
    expect(['proc-net-tcp.txt', 'proc-net-udp.txt', 'cpu-online.txt'].map((f) => readFileSync(join(dir, f), 'utf8'))).toEqual(['  sl  local_address tcp\n', '  sl  local_address udp\n', '0-1\n']);
    expect(existsSync(join(dir, 'sockets.txt'))).toBe(false);
  });
});

describe('a dual-stack node', () => {
  /** The recording's ip -j addr and route output as a dual-stack machine prints them (IPv6 beside IPv4). */
  function dualStackTools(): string {
    const bin = tempDir();
    const addrs = JSON.parse(readFileSync(`${CASE}/ip-addr.json`, 'utf8')) as { ifname: string; addr_info: object[] }[];
    for (const link of addrs) link.addr_info.push({ family: 'inet6', local: link.ifname === 'lo' ? '::1' : 'fd00::2', prefixlen: link.ifname === 'lo' ? 128 : 64, scope: 'global' });
    const routes = JSON.parse(readFileSync(`${CASE}/ip-route.json`, 'utf8')) as object[];
    routes.push(
      { dst: 'fd00::/64', dev: 'eth0', protocol: 'kernel', metric: 256, flags: [], pref: 'medium' },
      { dst: 'default', gateway: 'fd00::1', dev: 'eth0', metric: 1024, flags: [], pref: 'medium' },
      { dst: 'default', dev: 'docker0', metric: 2048, flags: [], pref: 'medium' },
      { type: 'local', dst: '::1', dev: 'lo', table: 'local', protocol: 'kernel', metric: 0, flags: [], pref: 'medium' },
    );
    writeFileSync(join(bin, 'addr.json'), JSON.stringify(addrs));
    writeFileSync(join(bin, 'route.json'), JSON.stringify(routes));
    writeFileSync(join(bin, 'route6.json'), JSON.stringify(routes.filter((r) => 'pref' in r)));
    const ip = `case "$2" in link) /bin/cat ${CASE}/ip-link.json;; addr) /bin/cat ${bin}/addr.json;; route) /bin/cat ${bin}/route.json;; -6) /bin/cat ${bin}/route6.json;; esac`;
    const ip6tables = `echo '*nat'; echo ':POSTROUTING ACCEPT [0:0]'; echo '-A POSTROUTING -o eth0 -j MASQUERADE'; echo COMMIT`;
    return writeTools(bin, { ip, sysctl: `/bin/cat ${CASE}/sysctl.txt`, 'iptables-save': `/bin/cat ${CASE}/iptables-save.txt`, 'ip6tables-save': ip6tables });
  }

  it('keeps the IPv6 addresses and routes in the snapshot, and the replay takes them without a note', async () => {
    const bin = dualStackTools();
    const dir = join(tempDir(), 'rt');
    expect(snapshot(bin, dir).code).toBe(0);
    expect(readFileSync(join(dir, 'ip-route.json'), 'utf8')).toBe(readFileSync(join(bin, 'route.json'), 'utf8'));
    expect(readFileSync(join(dir, 'ip-addr.json'), 'utf8')).toContain('fd00::2');
    expect(readFileSync(join(dir, 'ip6-route.json'), 'utf8')).toBe(readFileSync(join(bin, 'route6.json'), 'utf8'));
    expect(readFileSync(join(dir, 'ip6tables-save.txt'), 'utf8')).toContain('-A POSTROUTING -o eth0 -j MASQUERADE');
    const verify = await natsim('verify', `${CASE}/capture.pcap`, '--node', dir);
    expect(verify.stderr).toBe('');
    expect(verify.stdout).toContain('verify: 34/34 packets match');
    // the hash key is drawn per host name (rt here): one key for both, so that they list alike
    const listed = async (node: string) => (await natsim('conntrack', `${CASE}/capture.pcap`, '--node', node, '--conntrack-hash-seed', '1')).stdout;
    expect(await listed(dir)).toBe(await listed(CASE));
  });
});
