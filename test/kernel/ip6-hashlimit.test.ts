/**
 * Kernel recording ip6-hashlimit (scripts/record/ip6-hashlimit.sh, Linux 6.18, ip6tables-nft):
 * `-m hashlimit --hashlimit-mode srcip --hashlimit-srcmask 64 --hashlimit-above 2/sec
 * --hashlimit-burst 3 -j DROP` in FORWARD; bursts of UDP datagrams from fd00:3::1, fd00:3::2
 * (one /64: one bucket) and fd00:4::1. natsim must forward exactly the datagrams the kernel
 * forwarded, drop the 8 the rule's counter counted, and hold the one bucket that
 * /proc/net/ip6t_hashlimit/h6 listed after the run.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadNode, nodeScenario } from '../../src/node/snapshot.js';
import { replayCapture } from '../../src/world/capture-replay.js';
import { XtHashlimit } from '../../src/netfilter/rules/xt-hashlimit.js';
import { formatIpv6, formatIpv6Full } from '../../src/packet/ipv6-addr.js';
import { Ipv6Packet } from '../../src/packet/ipv6.js';

const DIR = 'fixtures/kernel/ip6-hashlimit';
const RULE = '-A FORWARD -m hashlimit --hashlimit-above 2/sec --hashlimit-burst 3 --hashlimit-mode srcip --hashlimit-name h6 --hashlimit-srcmask 64 -j DROP';

describe('kernel recording ip6-hashlimit', async () => {
  const r = await replayCapture(`${DIR}/capture.pcap`, nodeScenario(loadNode(DIR)), { keepPackets: true });

  it('forwards the datagrams the kernel forwarded, byte for byte, and drops the 8 it dropped', () => {
    const { sent, recorded } = r.packets!;
    // capture.txt: 3 of fd00:3::1's first 5, none of fd00:3::2's 3 (its /64's bucket is empty),
    // 3 of fd00:4::1's 5, all 3 of fd00:3::2's after 1.6 s, 3 of fd00:3::1's 4 after 3.2 s
    const from = (p: { bytes: Uint8Array }) => {
      const ip = Ipv6Packet.decode(p.bytes) as Ipv6Packet;
      return `${formatIpv6(ip.saddr)}.${ip.sport}`;
    };
    expect(sent.map(from)).toEqual(['fd00:3::1.40001', 'fd00:3::1.40001', 'fd00:3::1.40001', 'fd00:4::1.40003', 'fd00:4::1.40003', 'fd00:4::1.40003', 'fd00:3::2.40004', 'fd00:3::2.40004', 'fd00:3::2.40004', 'fd00:3::1.40005', 'fd00:3::1.40005', 'fd00:3::1.40005']);
    expect(sent.map((p) => [p.ifindex, Buffer.from(p.bytes).toString('hex')])).toEqual(recorded.map((p) => [p.ifindex, Buffer.from(p.bytes).toString('hex')]));
    // nft-ruleset.txt: the rule's counter, "counter packets 8 bytes 440 drop"
    expect(Object.fromEntries(r.host.packets.dropped)).toEqual({ [`rule "${RULE}"`]: 8 });
  });

  it('holds the one bucket /proc/net/ip6t_hashlimit/h6 lists: fd00:3::/64, with its credit cap and cost', () => {
    // dl_seq_real_show: "%ld %pI6:%u->%pI6:%u %llu %llu %llu", expiry in s, key, credit, cap, cost
    const lines = readFileSync(`${DIR}/hashlimit-h6.txt`, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    const [, key, , cap, cost] = lines[0]!.split(' ');
    const modules = r.host.ruleset.tables.flatMap((t) => [...t.chains.values()]).flatMap((c) => c.rules).flatMap((rule) => rule.matches).flatMap((m) => (m.kind === 'xt' ? [m.module] : []));
    const table = modules.filter((m): m is XtHashlimit => m instanceof XtHashlimit)[0]!.table;
    // fd00:4::/64, last seen 5.7 s before the end, has expired (one unit of 2/sec: 1 s) and been collected
    expect([...table.buckets.values()].map((b) => `${formatIpv6Full(b.dst.src)}:${b.dst.sport}->${'0000:'.repeat(7)}0000:${b.dst.dport}`)).toEqual([key]);
    const bucket = [...table.buckets.values()][0]!;
    expect([bucket.creditCap, bucket.cost]).toEqual([BigInt(cap!), BigInt(cost!)]);
  });
});
