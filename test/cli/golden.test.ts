/**
 * Golden outputs: every fixture with a .golden file beside it must render exactly that text
 * (`natsim check` does the same from the command line; `natsim check --update` rewrites).
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findGoldenCases, renderCase } from '../../src/cli/check.js';
import { MemoryStream, natsim, tempDir } from './helpers.js';

const cases = findGoldenCases(['fixtures']);

describe('golden outputs', () => {
  it('exist for the seed experiments and the kernel recordings they come from', () => {
    const names = cases.map((c) => c.golden);
    for (const g of [
      'fixtures/kernel/icmp-masq/capture.golden',
      'fixtures/kernel/icmp-masq/capture.masq.golden',
      'fixtures/kernel/masq-to-ports-multi-ip/capture.golden',
      'fixtures/kernel/masq-to-ports-multi-ip/capture.masq.golden',
      'fixtures/seeds/icmp-masquerade.golden',
      'fixtures/seeds/masquerade-multi-ip.golden',
      'fixtures/seeds/masquerade-multi-ip.masq.golden',
      'fixtures/seeds/snat-failure-timeout.golden',
      'fixtures/seeds/snat-failure-timeout-seed.golden',
      'fixtures/seeds/snat-failure-timeout-seed.linux-4.15.golden',
      'fixtures/seeds/snat-failure-timeout-seed.linux-6.18.golden',
      'fixtures/seeds/masquerade-multi-ip.linux-4.15.masq.golden',
      'fixtures/seeds/kube-proxy-nodeport.golden',
      'fixtures/seeds/kube-proxy-nodeport.masq.golden',
      'fixtures/seeds/docker-published-port.golden',
      'fixtures/seeds/docker-published-port.masq.golden',
      'fixtures/seeds/lvs-nat.golden',
      'fixtures/seeds/lvs-nat-masquerade.golden',
      'fixtures/seeds/lvs-nat-fullnat.golden',
      'fixtures/seeds/lvs-nat-fullnat.masq.golden',
      'fixtures/seeds/kube-proxy-ipvs.golden',
      'fixtures/seeds/kube-proxy-ipvs.masq.golden',
      'fixtures/seeds/kube-proxy-nftables.golden',
      'fixtures/seeds/kube-proxy-nftables.masq.golden',
      'fixtures/seeds/flannel-node.golden',
      'fixtures/seeds/flannel-node.masq.golden',
      'fixtures/seeds/dual-stack-masquerade.golden',
      'fixtures/kernel/dual-stack-router/capture.golden',
      'fixtures/kernel/ip6-masq-router/capture.golden',
      'fixtures/seeds/ip6-masq-sockets.golden',
    ])
      expect(names).toContain(g);
  });

  it('X.linux-V[.STYLE].golden runs X as that kernel', () => {
    const c = cases.find((g) => g.golden === 'fixtures/seeds/masquerade-multi-ip.linux-4.15.masq.golden');
    expect(c).toEqual({ golden: c!.golden, input: 'fixtures/seeds/masquerade-multi-ip.yaml', style: 'masq', kernel: '4.15' });
    expect(cases.find((g) => g.golden === 'fixtures/seeds/masquerade-multi-ip.masq.golden')!.kernel).toBeUndefined();
  });

  it('a .linux-V golden of a kernel natsim has no profile for is an error', async () => {
    const dir = tempDir();
    for (const f of ['icmp-masquerade.yaml', 'icmp-masquerade.golden']) copyFileSync(`fixtures/seeds/${f}`, join(dir, f));
    copyFileSync('fixtures/seeds/icmp-masquerade.golden', join(dir, 'icmp-masquerade.linux-3.10.golden'));
    const run = await natsim('check', dir);
    expect(run.stderr).toBe(`natsim: ${join(dir, 'icmp-masquerade.linux-3.10.golden')}: unknown kernel '3.10' in the name (natsim has profiles for Linux 4.15, 5.4, 6.18)\n`);
    expect(run.code).toBe(2);
  });

  it.each(cases.map((c) => [c.golden, c] as const))('%s', async (_name, c) => {
    const expected = readFileSync(c.golden, 'utf8');
    expect((await renderCase(c, new MemoryStream())).join('\n') + '\n').toBe(expected);
  });
});

describe('natsim check', () => {
  it('passes on the fixtures', async () => {
    const run = await natsim('check', 'fixtures');
    expect(run.stdout).toContain(`check: ${cases.length}/${cases.length} golden outputs match`);
    expect(run.code).toBe(0);
  });

  it('shows a unified diff and exits 1 when an output changed', async () => {
    const dir = tempDir();
    for (const f of ['icmp-masquerade.yaml', 'icmp-masquerade.golden']) copyFileSync(`fixtures/seeds/${f}`, join(dir, f));
    const golden = join(dir, 'icmp-masquerade.golden');
    const text = readFileSync(golden, 'utf8').replace('192.168.206.250 -> 192.168.206.1', '192.168.206.251 -> 192.168.206.1');
    writeFileSync(golden, text);
    const run = await natsim('check', dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`--- ${golden}`);
    expect(run.stdout).toMatch(/^-.*192\.168\.206\.251 -> 192\.168\.206\.1/m);
    expect(run.stdout).toMatch(/^\+.*192\.168\.206\.250 -> 192\.168\.206\.1/m);
    expect((await natsim('check', '--update', dir)).code).toBe(0);
    expect((await natsim('check', dir)).code).toBe(0);
  });
});
