/**
 * The commands' outputs for scripts: `stats --plain` is conntrack -S's text, `stats --json` adds
 * natsim's packet counts, `conntrack` is conntrack -L's, `conntrack --events --json` one object
 * per event — for the SNAT seed, whose figures the kernel recording snat-fixed-port-clash shows.
 */
import { describe, expect, it } from 'vitest';
import { natsim } from './helpers.js';

const SEED = 'fixtures/seeds/snat-failure-timeout.yaml';

describe('natsim stats', () => {
  it('--plain prints exactly conntrack -S', async () => {
    const run = await natsim('stats', '--plain', SEED);
    expect(run.stdout).toBe('cpu=0   \tfound=0 invalid=0 insert=0 insert_failed=6 drop=6 early_drop=0 error=0 search_restart=0 clash_resolve=0 chaintoolong=0 \n');
    expect(run.code).toBe(0);
  });

  it('--json adds the packets natsim saw, dropped by reason', async () => {
    const [line] = (await natsim('stats', '--json', SEED)).stdout.trim().split('\n');
    const stats = JSON.parse(line!);
    expect(stats.cpus[0]).toMatchObject({ insert_failed: 6, drop: 6 });
    expect(stats.packets.dropped).toEqual({ 'conntrack insert_failed': 6 });
  });

  it("--cpus N: a line per CPU, the packets spread over them by natsim's draw, which it says", async () => {
    const run = await natsim('stats', '--json', '--cpus', '4', SEED);
    const stats = JSON.parse(run.stdout.trim());
    expect(stats.cpus).toHaveLength(4);
    expect(stats.cpus.reduce((n: number, c: { drop: number }) => n + c.drop, 0)).toBe(6);
    expect(stats.cpus.filter((c: { drop: number }) => c.drop > 0).length).toBeGreaterThan(1); // one flow, several CPUs
    expect(run.stderr).toMatch(/the per-CPU split is natsim's draw/);
  });

  it('a capture beside a node snapshot has its CPUs (cpu-online.txt): a line for each', async () => {
    const lines = (await natsim('stats', '--plain', 'fixtures/kernel/tcp-lifecycle/capture.pcap')).stdout.trim().split('\n');
    expect(lines.map((l) => l.slice(0, 5))).toEqual(['cpu=0', 'cpu=1']);
  });
});

describe('--kernel', () => {
  const ARTICLE = 'fixtures/seeds/snat-failure-timeout-seed.yaml'; // kernel: "5.4"

  it.each([
    [[], 'cpu=0   \tfound=7 invalid=0 ignore=5 insert=0 insert_failed=7 drop=7 early_drop=0 error=0 search_restart=0 \n'],
    [['--kernel', '4.15'], 'cpu=0   \tfound=0 invalid=0 ignore=5 insert=0 insert_failed=7 drop=7 early_drop=0 error=0 search_restart=0 \n'],
    [['--kernel', '6.18'], 'cpu=0   \tfound=0 invalid=0 insert=0 insert_failed=11 drop=11 early_drop=0 error=0 search_restart=0 clash_resolve=0 chaintoolong=0 \n'],
  ])('stats --plain %j prints that kernel\'s conntrack -S fields, over the scenario\'s kernel', async (args, line) => {
    const run = await natsim('stats', '--plain', ...args, ARTICLE);
    expect([run.code, run.stdout]).toEqual([0, line]);
  });

  it('a version natsim has no profile for is a usage error', async () => {
    const run = await natsim('stats', '--kernel', '4.9', SEED);
    expect(run.stderr).toContain("option '--kernel <version>' argument '4.9' is invalid. natsim has profiles for Linux 4.15, 5.4, 6.18");
    expect(run.code).toBe(2);
  });
});

describe('natsim conntrack', () => {
  it('lists the table as conntrack -L does', async () => {
    const run = await natsim('conntrack', SEED);
    expect(run.stdout).toMatch(/^tcp {6}6 431\d{3} ESTABLISHED src=127\.0\.0\.1 dst=127\.0\.0\.1 sport=\d+ dport=8080 src=127\.0\.0\.1 dst=127\.0\.0\.1 sport=8080 dport=40000 \[ASSURED\] mark=0 use=1\n$/);
    expect(run.stderr).toBe('conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\n');
  });

  it('--events --json gives one object per event', async () => {
    const events = (await natsim('conntrack', '--events', '--json', SEED)).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.map((e) => `${e.event} ${e.entry.tcpState}`)).toEqual(['NEW SYN_SENT', 'UPDATE SYN_RECV', 'UPDATE ESTABLISHED']);
  });
});

describe('limits', () => {
  it('--until stops the clock: by 3 s only 3 of the 6 SYNs have clashed', async () => {
    const stats = JSON.parse((await natsim('stats', '--json', '--until', '3s', SEED)).stdout.trim());
    expect(stats.cpus[0]).toMatchObject({ insert_failed: 3, drop: 3 });
  });

  it('--max-packets stops feeding a capture', async () => {
    const stats = JSON.parse((await natsim('stats', '--json', '--max-packets', '5', 'fixtures/kernel/tcp-lifecycle/capture.pcap')).stdout.trim());
    expect(stats.packets.received).toBe(1); // the first five records are ARP but for one SYN
  });

  it('a bad duration is a usage error', async () => {
    const run = await natsim('stats', '--until', '3x', SEED);
    expect(run.stderr).toContain("option '--until <time>' argument '3x' is invalid");
    expect(run.code).toBe(2);
  });
});

describe('natsim ipvs', () => {
  const LVS = 'fixtures/seeds/lvs-nat-fullnat.yaml';

  it('lists the virtual services as ipvsadm -Ln does, with the counts the connections left', async () => {
    const run = await natsim('ipvs', '--until', '0.3s', LVS);
    expect(run.stdout).toBe(
      [
        'IP Virtual Server version 1.2.1 (size=4096)',
        'Prot LocalAddress:Port Scheduler Flags',
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
        'TCP  10.0.0.254:80 rr',
        '  -> 192.168.122.249:8080         Masq    1      1          0         ',
        '',
      ].join('\n'),
    );
  });

  it('--connection lists the entries as ipvsadm -Lnc does', async () => {
    const run = await natsim('ipvs', '--connection', '--until', '0.3s', LVS);
    expect(run.stdout.split('\n').slice(1, 3)).toEqual([
      'pro expire state       source             virtual            destination',
      'TCP 14:59  ESTABLISHED 10.0.5.119:54052   10.0.0.254:80      192.168.122.249:8080',
    ]);
  });

  it('says so when the host has no IPVS', async () => {
    const run = await natsim('ipvs', SEED);
    expect([run.code, run.stdout, run.stderr]).toEqual([0, '', 'natsim: host: no IPVS virtual services\n']);
  });
});
