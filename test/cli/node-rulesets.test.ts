/**
 * A node snapshot whose iptables-save.txt says iptables-nft could not show a table ("# Table
 * `nat' contains incompatible base-chains": the nat rules were made with nft) is replayed with
 * nft-ruleset.txt, and the user is told so on stderr.
 */
import { describe, expect, it } from 'vitest';
import { natsim } from './helpers.js';
import { CASE, TAINTED_SAVE, taintedNode } from './tainted-node.js';

describe('iptables-save.txt with "incompatible base-chains"', () => {
  const note = "natsim: note: rt: using nft-ruleset.txt: iptables-save.txt does not show table nat (iptables-nft: \"incompatible base-chains\")\n";

  it('verify uses nft-ruleset.txt, says so on stderr, and reproduces every packet', async () => {
    const run = await natsim('verify', `${CASE}/capture.pcap`, '--node', taintedNode(TAINTED_SAVE));
    expect(run.stderr).toBe(note);
    expect(run.stdout).toMatch(/^node rt \(.*\): using nft-ruleset\.txt \(iptables-save\.txt does not show table nat/);
    expect(run.stdout).toMatch(/^verify: (\d+)\/\1 packets match$/m);
    expect(run.code).toBe(0);
  });

  it('the older header ("is incompatible") too, and for every command that takes --node', async () => {
    const node = taintedNode(TAINTED_SAVE.replace("contains incompatible base-chains, use 'nft' tool to list them.", "is incompatible, use 'nft' tool."));
    const run = await natsim('conntrack', `${CASE}/capture.pcap`, '--node', node);
    expect(run.stderr.startsWith(note)).toBe(true);
    expect(run.stdout).toBe((await natsim('conntrack', `${CASE}/capture.pcap`, '--node', CASE)).stdout);
  });

  it('diff, which replays the input twice, says it once', async () => {
    const run = await natsim('diff', `${CASE}/capture.pcap`, '--node', taintedNode(TAINTED_SAVE), '--sysctl', 'net.netfilter.nf_conntrack_max=1000');
    expect([run.code, run.stderr]).toEqual([0, note]);
  });
});
