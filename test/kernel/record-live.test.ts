/**
 * A kernel recording made now, on this machine, verified by natsim: scripts/record/icmp-masq.sh
 * builds the seed topology in network namespaces, pings through an nft masquerade router and
 * saves the router's snapshot and capture; natsim verify must match every packet. It needs
 * root, iproute2, nft, tcpdump and ping; without them it is skipped, and says why.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { natsim, tempDir } from '../cli/helpers.js';

function missing(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  for (const tool of ['ip', 'nft', 'tcpdump', 'ping']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  const probe = `natsimprobe${process.pid}`;
  if (spawnSync('ip', ['netns', 'add', probe]).status !== 0) return 'cannot create network namespaces';
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

/** Records the case; null and the reason when it could not be recorded here. */
function record(): { dir: string | null; why: string | null } {
  const cannot = missing();
  if (cannot) return { dir: null, why: cannot };
  const dir = join(tempDir(), 'icmp-masq');
  const rec = spawnSync('bash', ['scripts/record/icmp-masq.sh', dir], { encoding: 'utf8', timeout: 60_000 });
  if (rec.status !== 0) return { dir: null, why: `the recording failed here: ${rec.stderr.trim().split('\n').pop() ?? rec.status}` };
  return { dir, why: null };
}

const recording = record();
if (recording.why) console.log(`record-live: skipped (${recording.why}): natsim verify is not run on a fresh kernel recording here`);

describe('a kernel recording made now', () => {
  it.skipIf(recording.dir === null)('icmp-masq recorded on this kernel: natsim verify matches every packet', async () => {
    const dir = recording.dir!;
    const run = await natsim('verify', join(dir, 'capture.pcap'), '--node', dir);
    expect(run.stdout).toMatch(/verify: (\d+)\/\1 packets match/);
    expect(run.code).toBe(0);
  });
});
