/**
 * What conntrack makes of each IPv6 packet of the kernel recording ip6-masq-router (before its
 * table lookup): NDP untracked (no entry or event in conntrack-E.txt), the port unreachable
 * RELATED to the reply direction of the UDP 40001 entry, and the ORIGINAL tuples the client's
 * packets make being exactly the entries `conntrack -L -f ipv6` listed (conntrack-L-ipv6.txt)
 * — the hop-limit-1 datagram aside, which died before conntrack confirmed it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PacketDirection } from '../../src/capture/index.js';
import { ipv6Conntrack, icmpv6ValidNew, type Ipv6Conntrack } from '../../src/netfilter/conntrack/icmpv6.js';
import { invertTuple, tupleFromPacket, type Tuple } from '../../src/netfilter/conntrack/tuple.js';
import { L4PROTO_NAME } from '../../src/netfilter/constants.js';
import { ICMPV6 } from '../../src/packet/ipv6.js';
import { formatIpv6 } from '../../src/packet/ipv6-addr.js';
import { ipv6Frames } from './capture6.js';

const DIR = 'fixtures/kernel/ip6-masq-router';
const LAN_IFINDEX = 2;

/** A tuple as conntrack -L prints a direction of it. */
function shown(t: Tuple): string {
  const l4 = L4PROTO_NAME[t.proto] === 'icmpv6' ? `type=${t.icmpType} code=${t.icmpCode} id=${t.srcU}` : `sport=${t.srcU} dport=${t.dstU}`;
  return `${L4PROTO_NAME[t.proto]} src=${formatIpv6(t.src)} dst=${formatIpv6(t.dst)} ${l4}`;
}

/** conntrack-L-ipv6.txt: each entry's protocol and ORIGINAL direction. */
function listedOriginals(): string[] {
  return readFileSync(`${DIR}/conntrack-L-ipv6.txt`, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const words = line.split(/\s+/);
      const first = words.findIndex((w) => w.startsWith('src='));
      const l4 = words.slice(first + 2).filter((w) => /^(sport|dport|type|code|id)=/.test(w));
      return [words[0], words[first], words[first + 1], ...l4.slice(0, words[0] === 'icmpv6' ? 3 : 2)].join(' ');
    })
    .sort();
}

describe('conntrack on the IPv6 packets of ip6-masq-router', () => {
  it('leaves neighbour discovery untracked', async () => {
    const frames = await ipv6Frames(`${DIR}/capture.pcap`);
    const ndp = frames.filter(({ pkt }) => pkt.proto === 58 && pkt.icmpType >= ICMPV6.NDISC_ROUTER_SOLICITATION && pkt.icmpType <= ICMPV6.NDISC_NEIGHBOUR_ADVERTISEMENT);
    expect(ndp.length).toBeGreaterThanOrEqual(4);
    for (const { pkt } of ndp) expect(ipv6Conntrack(pkt)).toEqual({ kind: 'untracked' });
    expect(readFileSync(`${DIR}/conntrack-E.txt`, 'utf8')).not.toMatch(/type=13[3-7]/);
  });

  it('the new entries the client\'s packets make are the ones conntrack -L listed', async () => {
    const frames = await ipv6Frames(`${DIR}/capture.pcap`);
    const originals = new Set<string>();
    const known = new Set<string>();
    for (const { dir, ifindex, pkt } of frames) {
      if (dir !== PacketDirection.Host || ifindex !== LAN_IFINDEX || pkt.hopLimit <= 1) continue;
      const ct: Ipv6Conntrack = ipv6Conntrack(pkt);
      if (ct.kind !== 'lookup') continue;
      const tuple = tupleFromPacket(pkt);
      const key = shown(tuple);
      const reply = invertTuple(tuple);
      if (known.has(key)) continue;
      if (tuple.proto === 58) expect(icmpv6ValidNew(tuple.icmpType)).toBe(true);
      known.add(key);
      if (reply) known.add(shown(reply));
      originals.add(key);
    }
    expect([...originals].sort()).toEqual(listedOriginals());
  });

  it('the port unreachable is RELATED to the reply direction of the 40001 entry', async () => {
    const frames = await ipv6Frames(`${DIR}/capture.pcap`);
    const error = frames.find(({ dir, pkt }) => dir === PacketDirection.Host && pkt.isIcmpv6Error() && pkt.icmpType === 1 && pkt.icmpCode === 4)!;
    const ct = ipv6Conntrack(error.pkt);
    expect(ct.kind).toBe('error');
    // the reply tuple conntrack -L shows for the entry: src=fd00:206::1 dst=fd00:206::250 sport=9 dport=40001
    expect(shown((ct as { related: Tuple }).related)).toBe('udp src=fd00:206::1 dst=fd00:206::250 sport=9 dport=40001');
  });
});
