/**
 * What natsim sends in a capture replay and what it only passes on. The node's own packets
 * (its sockets' and its TCP stack's) are taken from the capture and fed at LOCAL_OUT
 * (own-output.ts); so would be any answer of the kernel's that natsim failed to make itself —
 * a REJECT's RST or ICMP error, ip_error's net unreachable — and verify would then match it to
 * itself. Each recording's count of packets taken from the capture is therefore pinned here,
 * each with the reason it is not natsim's to make; every other recording takes none.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadNode, nodeScenario } from '../../src/node/snapshot.js';
import { replayCapture } from '../../src/world/capture-replay.js';
import { Ipv6Packet } from '../../src/packet/ipv6.js';
import { formatIpv6 } from '../../src/packet/ipv6-addr.js';

const FROM_CAPTURE: Readonly<Record<string, { readonly n: number; readonly why: string }>> = {
  'output-dnat-local': { n: 13, why: "the node's own connections (curl and its TCP)" },
  'redirect-local-listener': { n: 4, why: "the local proxy's side of the redirected connection" },
  'dnat66-port-forward': { n: 1, why: "rt's TCP stack resets a SYN to a port nothing listens on (tcp_v6_send_reset; no socket layer in a replay)" },
  'conntrack-flush-midstream': { n: 1, why: "rt's TCP stack resets w's segment to 192.168.206.250:43200, which no entry maps back after the flush (tcp_v4_send_reset)" },
  'conntrack-flush-midstream-strict': { n: 2, why: "rt's TCP stack resets w's segments to its own address, which no entry maps back (tcp_v4_send_reset)" },
  'icmp-redirect': { n: 1, why: "rt's UDP answers a datagram to its closed port 9999 with port unreachable (icmp_send from __udp4_lib_rcv); the redirects are natsim's own" },
  'ip6-redirect': { n: 1, why: "rt's TCP stack resets the SYN REDIRECT sent to its port 8080, where nothing listens (tcp_v6_send_reset)" },
};

const CASES = readdirSync('fixtures/kernel').filter((d) => readdirSync(`fixtures/kernel/${d}`).includes('capture.pcap'));

describe("the packets natsim takes from the capture are only the node's own", () => {
  it.each(CASES)('%s', async (name) => {
    const dir = `fixtures/kernel/${name}`;
    const r = await replayCapture(`${dir}/capture.pcap`, nodeScenario(loadNode(dir)), { keepPackets: true, followKernel: true });
    expect(r.packets!.sent.length).toBeGreaterThan(0);
    expect(r.packets!.sent.filter((p) => p.fromCapture).length).toBe(FROM_CAPTURE[name]?.n ?? 0);
  });
});

describe('kernel recording ip6-reject: nf_reject_ipv6', () => {
  it('answers as the kernel did: RSTs from the rejected destination, ICMPv6 1/1 and 1/4 from rt, none taken from the capture', async () => {
    const dir = 'fixtures/kernel/ip6-reject';
    const r = await replayCapture(`${dir}/capture.pcap`, nodeScenario(loadNode(dir)), { keepPackets: true, followKernel: true });
    const sent = r.packets!.sent.map((p) => ({ p: Ipv6Packet.decode(p.bytes) as Ipv6Packet, fromCapture: p.fromCapture }));
    expect(sent.filter((s) => s.fromCapture)).toEqual([]);
    const text = sent.map(({ p }) => (p.proto === 6 ? `tcp ${formatIpv6(p.saddr)}.${p.sport} > ${formatIpv6(p.daddr)}.${p.dport} flags ${p.tcpFlags} seq ${p.tcpSeq} hlim ${p.hopLimit}` : `icmpv6 ${formatIpv6(p.saddr)} > ${formatIpv6(p.daddr)} ${p.icmpType}/${p.icmpCode} len ${p.length}`));
    // tcpdump of the recording: "fd00:206::1.22 > fd00:3::1.43022: Flags [R.], seq 0, ack 2593668223, win 0" (hlim 64)
    expect(text[0]).toBe('tcp fd00:206::1.22 > fd00:3::1.43022 flags 20 seq 0 hlim 64');
    expect(text.slice(1, 3)).toEqual(['icmpv6 fd00:3::254 > fd00:3::1 1/1 len 128', 'icmpv6 fd00:3::254 > fd00:3::1 1/1 len 128']);
    // the default reject of the ip6 family, for TCP and UDP alike: port unreachable; eight errors in 3.5 s, none rate-limited (the kernel's neither)
    expect(text.slice(3, 9)).toEqual([...Array(2).fill('icmpv6 fd00:3::254 > fd00:3::1 1/4 len 128'), ...Array(4).fill('icmpv6 fd00:3::254 > fd00:3::1 1/4 len 106')]);
    expect(text[9]).toBe('tcp fd00:3::254.2222 > fd00:3::1.43222 flags 20 seq 0 hlim 64');
    expect(text).toHaveLength(10);
    // every answer byte for byte but the flow label of the ICMPv6 errors (the kernel's own hash)
    for (const [i, s] of r.packets!.sent.entries()) {
      const k = r.packets!.recorded[i]!.bytes;
      const n = s.bytes;
      expect([...n.subarray(4)], `packet ${i + 1}`).toEqual([...k.subarray(4)]);
    }
  });
});
