/**
 * natsim without WebAssembly (`node --jitless`, where V8 has none): nf_checksum's sum falls back
 * to the JavaScript byte loop (packet/ones-sum.ts), and the trace is the one natsim prints with
 * it, bad checksums (the seed's ICMP has none) and NAT's incremental updates alike.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { spawnNatsim } from './helpers.js';

describe('natsim where Node has no WebAssembly', () => {
  it.each(['icmp-masquerade', 'explain-failures'])('prints the same trace as with it (%s)', (seed) => {
    const file = `fixtures/seeds/${seed}.yaml`;
    const jitless = spawnSync(process.execPath, ['--jitless', 'bin/natsim.js', 'trace', file], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const usual = spawnNatsim('trace', file);
    expect(jitless.status).toBe(usual.code);
    expect(jitless.stdout.length).toBeGreaterThan(0);
    expect(jitless.stdout).toBe(usual.stdout);
  });
});
