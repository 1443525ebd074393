/**
 * The suite runs the CLI in-process (helpers.ts natsim(): main() on memory streams) for speed;
 * this holds that to what the binary does. For every command, and for each way output reaches
 * stderr (notes, footers, diff's worker, commander's usage errors, input errors), the spawned
 * bin/natsim.js gives the same exit code, stdout and stderr as the in-process run. One case
 * each: every spawn is 0.3–0.6 s of node start-up.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { natsim, spawnNatsim, tempDir } from './helpers.js';
import { CASE, TAINTED_SAVE, taintedNode } from './tainted-node.js';

const SEED = 'fixtures/seeds/icmp-masquerade.yaml';
const CAPTURE = `${CASE}/capture.pcap`;
const tmp = tempDir();
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const tainted = taintedNode(TAINTED_SAVE);

describe('natsim in-process and as a process agree', () => {
  // the third: what stderr must hold, where the case is there for its stderr
  it.each<[string, string[], string?]>([
    ['--help', ['--help']],
    ['a usage error', ['trace', '--bogus', SEED], "natsim: unknown option '--bogus'"],
    ['an input error', ['trace', join(tmp, 'missing.yaml')], 'missing.yaml'],
    ['trace', ['trace', SEED]],
    ['stats, with its per-CPU note', ['stats', '--cpus', '4', SEED], "the per-CPU split is natsim's draw"],
    ['conntrack, with its footer on stderr', ['conntrack', CAPTURE, '--node', CASE], 'flow entries have been shown'],
    ["a node's note on stderr", ['verify', CAPTURE, '--node', tainted], 'natsim: note: rt: using nft-ruleset.txt'],
    ['explain', ['explain', 'fixtures/kernel/ip6-masq-router/capture.pcap']],
    ["diff, with the changed run's note from its worker", ['diff', CAPTURE, '--node', CASE, '--set-node', tainted], 'natsim: note: rt: using nft-ruleset.txt'],
    ['ipvs without IPVS', ['ipvs', SEED], 'no IPVS virtual services'],
    ['ipvs', ['ipvs', 'fixtures/seeds/kube-proxy-ipvs.yaml']],
    ['report', ['report', SEED, '-o', join(tmp, 'page.html')]],
    ['lint', ['lint', 'fixtures/seeds/icmp-masquerade.yaml']],
    ['check', ['check', 'fixtures/seeds/icmp-masquerade.golden']],
  ])('%s', async (_what, args, stderr) => {
    const run = await natsim(...args);
    expect(run).toEqual(spawnNatsim(...args));
    if (stderr !== undefined) expect(run.stderr).toContain(stderr);
  });
});
