/**
 * natsim's dmesg-style lines for IPv6: the seed's conntrack line names the family as the
 * kernel's nf_ct_l3num does (L3:ipv6[10], NFPROTO_IPV6) where IPv4 has L3:ipv4[2], and its
 * tuples print the addresses compressed; the packet line has a hop limit and no IP id.
 */
import { describe, expect, it } from 'vitest';
import { ctLine } from '../../src/trace/kernel-style.js';
import { l3Text, packetLine, pfName } from '../../src/trace/format-common.js';
import { CtInfo } from '../../src/netfilter/conntrack/conn.js';
import { parseIpv6 } from '../../src/packet/ipv6-addr.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';
import type { PacketView, TupleView } from '../../src/trace/events.js';
import { natsim } from '../cli/helpers.js';

const v6 = (t: string): number => parseIpv6(t)!;

describe('the IPv6 trace lines', () => {
  const orig: TupleView = { src: v6('fd00:3::1'), dst: v6('fd00:206::1'), srcU: 17219, dstU: 128 << 8, proto: 58 };
  const reply: TupleView = { src: v6('fd00:206::1'), dst: v6('fd00:206::250'), srcU: 17219, dstU: 129 << 8, proto: 58 };

  it('conntrack: L3:ipv6[10], ICMPv6 with its type, code and id', () => {
    const line = ctLine({ id: 1, ctinfo: CtInfo.New, orig, reply, status: 0, tcpState: null });
    expect(line).toBe('ctinfo:NEW L3:ipv6[10],L4:icmpv6:[58] dir:0,src=fd00:3::1,dst=fd00:206::1,type=128,code=0,id=17219 dir:1,src=fd00:206::1,dst=fd00:206::250,type=129,code=0,id=17219');
  });

  it('keeps the IPv4 names for IPv4', () => {
    expect(l3Text(parseIpv4('10.0.3.1')!)).toBe('ipv4[2]');
    expect(pfName(parseIpv4('10.0.3.1')!)).toBe('AF_INET');
    expect(l3Text(orig.src)).toBe('ipv6[10]');
    expect(pfName(orig.src)).toBe('AF_INET6');
  });

  it('the packet line: hop limit, no IP id, echo id for ICMPv6 queries and the code for errors', () => {
    const base: PacketView = { saddr: orig.src, daddr: orig.dst, proto: 58, sport: 17219, dport: 0, ipId: 0, ttl: 63, length: 104, icmpType: 128, icmpCode: 0, tcpFlags: 0, fragOffset: 0, moreFragments: false };
    expect(packetLine(base)).toBe('fd00:3::1 -> fd00:206::1 protocol 58 icmp type 128 echo-id 17219 hoplimit 63');
    expect(packetLine({ ...base, icmpType: 1, icmpCode: 4 })).toBe('fd00:3::1 -> fd00:206::1 protocol 58 icmp type 1 code 4 hoplimit 63');
  });
});

describe('IPv6 in the other trace styles (ip6-masq-router recording)', () => {
  const CAPTURE = 'fixtures/kernel/ip6-masq-router/capture.pcap';

  it('--json gives IPv6 addresses as text', async () => {
    const run = await natsim('trace', CAPTURE, '--json');
    expect(run.code).toBe(0);
    const first = JSON.parse(run.stdout.split('\n')[0]!);
    expect(first.pkt).toMatchObject({ saddr: 'fd00:3::1', daddr: 'fd00:206::1', proto: 58 });
  });

  it('--json names an IPv6 packet\'s flow label and hop limit as such, not as an IP id and a TTL', async () => {
    const run = await natsim('trace', CAPTURE, '--json');
    const pkts = run.stdout.trim().split('\n').map((l) => JSON.parse(l).pkt).filter((p) => p !== undefined);
    expect(pkts.length).toBeGreaterThan(0);
    for (const p of pkts) {
      expect(Object.keys(p)).toEqual(expect.arrayContaining(['flowLabel', 'hopLimit']));
      expect(Object.keys(p)).not.toEqual(expect.arrayContaining(['ipId']));
      expect(p).not.toHaveProperty('ttl');
    }
    expect(pkts[0]).toMatchObject({ hopLimit: 64 });
  });

  it('--style masq names the IPv6 fields and prints the addresses compressed', async () => {
    const run = await natsim('trace', CAPTURE, '--style', 'masq');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/REPLY: outgoing interface: eth0, src-ipv6:fd00:206::1, src-port:\d+, dst-ipv6:fd00:206::250, dst-port:\d+/);
    expect(run.stdout).not.toContain('ipv4');
  });
});
