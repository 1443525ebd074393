/**
 * The seed "SNAT失败为什么会表现为超时" run on each kernel profile
 * (fixtures/seeds/snat-failure-timeout-seed.yaml): the second connection's SYNs, each dropped at
 * confirm, and the figures the seed printed — `conntrack -S` on the CPU of the SYNs and netstat's
 * TCPTimeouts and "connections aborted due to timeout". The seed's own figures are 5.4's.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/load.js';
import type { KernelVersion } from '../../src/kernel/profile.js';
import { runWorld } from '../support/run-world.js';

const S = 1e9;
const SEED = 'fixtures/seeds/snat-failure-timeout-seed.yaml';

function run(kernel?: KernelVersion) {
  const { world, events } = runWorld(loadScenario(SEED), { kernel });
  const host = world.hosts.get('host')!;
  // the second connection's SYNs, each dropped at confirm
  const clashes = events.filter((e) => e.kind === 'drop' && e.counter === 'insert_failed');
  return {
    synTimes: clashes.map((e) => e.time / S),
    stats: host.nf.stats.row(0),
    nstat: Object.fromEntries(world.sockets.get('host')!.mib.nonZero()),
    outcome: world.appEvents.map((e) => e.text.replace(/^\S+ \S+ > \S+: /, '')),
  };
}

describe('the seed experiment, SNAT to one port', () => {
  it('5.4, the scenario\'s kernel: the seed\'s figures — 7 SYNs 1, 2, 4, 8, 16, 32 s apart, found=7 insert_failed=7 drop=7, TCPTimeouts 7', () => {
    const r = run();
    expect(r.synTimes).toEqual([1, 2, 4, 8, 16, 32, 64]);
    expect(r.stats).toEqual({ found: 7, invalid: 0, ignore: 5, insert: 0, insert_failed: 7, drop: 7, early_drop: 0, error: 0, search_restart: 0 });
    expect(r.nstat).toMatchObject({ TcpExtTCPTimeouts: 7, TcpExtTCPAbortOnTimeout: 1 });
    expect(r.outcome).toEqual(['connected after 1 SYN(s)', 'connect failed: connection timed out after 127.0 s (7 SYNs)']);
  });

  it('4.15: the same SYNs and drops, but found=0 (one port: the rover looks nothing up) and TCPTimeouts 1', () => {
    const r = run('4.15');
    expect(r.synTimes).toEqual([1, 2, 4, 8, 16, 32, 64]);
    expect(r.stats).toMatchObject({ found: 0, insert_failed: 7, drop: 7 });
    expect(r.nstat).toMatchObject({ TcpExtTCPTimeouts: 1, TcpExtTCPAbortOnTimeout: 1 });
  });

  it('6.18: 11 SYNs (4 linear retransmissions), found=0 (nf_nat_used_tuple_harder), no ignore counter', () => {
    const r = run('6.18');
    expect(r.synTimes).toEqual([1, 2, 3, 4, 5, 6, 8, 12, 20, 36, 68]);
    expect(r.stats).toEqual({ found: 0, invalid: 0, insert: 0, insert_failed: 11, drop: 11, early_drop: 0, error: 0, search_restart: 0, clash_resolve: 0, chaintoolong: 0 });
    expect(r.nstat).toMatchObject({ TcpExtTCPTimeouts: 11, TcpExtTCPAbortOnTimeout: 1 });
  });
});
