/**
 * Kernel recording ip6-snat-range (scripts/record/ip6-snat-range.sh, Linux 6.18): ip6tables
 * SNAT to IPv6 address ranges. find_best_ips_proto hashes the source address (jhash2 over its
 * four words, initval the destination's last word) and walks the range's words: within them
 * while the words before are at the range's maximum, any value once one is below it — so
 * fd00:207::1:0:0-fd00:207::2:0:5 gave fd00:3::5 the address fd00:207::1:396f:d219. No draw is
 * random: natsim, left to itself, must choose every address the kernel chose.
 */
import { describe, expect, it } from 'vitest';
import { loadNode, nodeScenario } from '../../src/node/snapshot.js';
import { replayCapture } from '../../src/world/capture-replay.js';
import { formatIpv6 } from '../../src/packet/ipv6-addr.js';
import { Ipv6Packet } from '../../src/packet/ipv6.js';

const DIR = 'fixtures/kernel/ip6-snat-range';

describe('kernel recording ip6-snat-range', () => {
  it('chooses, without following the capture, the source address the kernel chose for each connection', async () => {
    const r = await replayCapture(`${DIR}/capture.pcap`, nodeScenario(loadNode(DIR)), { keepPackets: true, followKernel: false });
    const sources = (list: readonly { bytes: Uint8Array }[]) => list.map((p) => formatIpv6((Ipv6Packet.decode(p.bytes) as Ipv6Packet).saddr));
    // capture.txt, in order: fd00:3::1 … ::6 to udp/9, then to udp/10
    expect(sources(r.packets!.recorded)).toEqual(['fd00:207::18', 'fd00:207::1a', 'fd00:207::19', 'fd00:207::1d', 'fd00:207::13', 'fd00:207::1e', 'fd00:207::2:0:3', 'fd00:207::2:0:3', 'fd00:207::2:0:3', 'fd00:207::2:0:5', 'fd00:207::1:396f:d219', 'fd00:207::2:0:5']);
    expect(sources(r.packets!.sent)).toEqual(sources(r.packets!.recorded));
    expect(r.packets!.sent.map((p) => Buffer.from(p.bytes).toString('hex'))).toEqual(r.packets!.recorded.map((p) => Buffer.from(p.bytes).toString('hex')));
  });
});
