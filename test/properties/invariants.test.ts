/**
 * Property tests over random worlds (fixed seed, bounded runs): clients on a LAN behind a router
 * that masquerades or SNATs (full range, a small port range, --random-fully, one or two
 * addresses) and may DNAT a VIP to a server on the WAN; random TCP/UDP/ping flows, some with
 * colliding source ports or echo ids. What is checked is spelled out in src/fuzz/invariants.ts:
 *   (a) no two confirmed conntrack entries of a host share a tuple (after every transmit and at the end)
 *   (b) every transmitted packet has valid checksums
 *   (c) every received packet is transmitted, delivered or dropped with a reason, exactly once,
 *       and the host's packet counters agree with the trace
 *   (d) the same scenario and seed give byte-identical NDJSON traces (and app events)
 *   (e) where NAT has room for every flow, replies reach the client with the original
 *       addresses and ports: connects connect (or are refused), pings and UDP echoes come back
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { natIsGenerous, checkAccounting, checkWorldCase, runChecked, InvariantViolation, type TransparencyStats } from '../../src/fuzz/invariants.js';
import { InetPacket } from '../../src/packet/l3-packet.js';
import { worldArb, worldYaml, type WorldCase } from '../../src/fuzz/generators.js';
import { Status } from '../../src/netfilter/conntrack/conn.js';

const SEED = 20250117;

/** Runs the checks; on failure the message carries the (shrunk) scenario YAML. */
function check(w: WorldCase, stats: TransparencyStats, coverage: Map<string, number>): void {
  const text = worldYaml(w);
  try {
    const run = checkWorldCase(w, text, stats);
    const bump = (k: string, n = 1) => coverage.set(k, (coverage.get(k) ?? 0) + n);
    bump('worlds');
    if (natIsGenerous(w)) bump('generous worlds');
    bump('transmits', run.transmits);
    bump('conntrack table checks', run.ctChecks);
    bump('receives', run.events.filter((e) => e.kind === 'receive').length);
    bump('drops', run.events.filter((e) => e.kind === 'drop').length);
    let clash = false;
    for (const host of run.world.hosts.values()) for (const ct of host.nf.table.connections()) if (ct.has(Status.NatClash)) clash = true;
    if (clash) bump('worlds with a NAT_CLASH entry');
    if (run.events.some((e) => e.kind === 'hook' && e.nat !== null && (e.before.sport !== e.after.sport || e.before.dport !== e.after.dport))) bump('worlds where NAT changed a port');
  } catch (e) {
    if (e instanceof Error) e.message += `\n--- scenario ---\n${text}`;
    throw e;
  }
}

describe('random worlds keep the invariants', () => {
  it('(a)–(e) over generated NAT-router worlds', () => {
    const stats: TransparencyStats = { connects: 0, refused: 0, pings: 0, udp: 0 };
    const coverage = new Map<string, number>();
    fc.assert(
      fc.property(worldArb, (w) => check(w, stats, coverage)),
      { seed: SEED, numRuns: 150 },
    );
    // the runs exercised what they claim to
    expect(coverage.get('worlds')).toBe(150);
    expect(coverage.get('generous worlds')).toBeGreaterThan(50);
    expect(coverage.get('transmits')).toBeGreaterThan(1000);
    expect(coverage.get('drops')).toBeGreaterThan(0);
    expect(coverage.get('worlds where NAT changed a port')).toBeGreaterThan(10);
    expect(stats.connects).toBeGreaterThan(50);
    expect(stats.refused).toBeGreaterThan(10);
    expect(stats.pings).toBeGreaterThan(10);
    expect(stats.udp).toBeGreaterThan(10);
    console.log(`invariants: ${JSON.stringify(Object.fromEntries(coverage))} ${JSON.stringify(stats)}`);
  });

  it('the checkers catch what they look for', () => {
    const w = fc.sample(worldArb, { seed: SEED, numRuns: 1 })[0]!;
    const text = worldYaml(w);
    const run = runChecked(text, 'gen.yaml');
    // (b): with every checksum taken as bad, the first transmit is reported
    const valid = InetPacket.prototype.checksumsValid;
    InetPacket.prototype.checksumsValid = () => false;
    let caught: unknown = null;
    try {
      runChecked(text, 'gen.yaml');
    } catch (e) {
      caught = e;
    } finally {
      InetPacket.prototype.checksumsValid = valid;
    }
    expect(caught).toBeInstanceOf(InvariantViolation);
    expect((caught as InvariantViolation).invariant).toBe('b');
    // (c): a received packet whose drop event went missing is reported
    const firstDrop = run.events.findIndex((e) => e.kind === 'drop' && run.events.some((r) => r.kind === 'receive' && r.host === e.host && r.skb === e.skb));
    const events = firstDrop >= 0 ? run.events.filter((_, i) => i !== firstDrop) : [...run.events, { ...run.events.find((e) => e.kind === 'receive')!, skb: 999999 }];
    expect(() => checkAccounting(run.world, events)).toThrow(InvariantViolation);
  });
});
