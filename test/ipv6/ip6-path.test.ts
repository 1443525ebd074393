/**
 * The IPv6 packet path on the router of the ip6-masq-router recording (rt: eth1 fd00:3::254,
 * eth0 fd00:206::250, forwarding on, ip6 nat masquerade out of eth0), fed hand-made packets:
 * an echo request to rt itself gets icmpv6_echo_reply's answer; a truncated hop-by-hop header
 * dies in ip6_rcv_core (ipv6_parse_hopopts); a chain truncated after a destination options
 * header reaches conntrack, which gets no tuple (nf_ct_get_tuple: `invalid`++) and lets it
 * pass untracked, so it is forwarded without NAT — never a crash.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { LinkType, PacketDirection } from '../../src/capture/record.js';
import { ETH_P_IPV6 } from '../../src/capture/link-layer.js';
import { loadNode, nodeScenario } from '../../src/node/snapshot.js';
import { buildIcmpv6 } from '../../src/ipv6/icmp.js';
import { ipv6Bytes, parseIpv6 } from '../../src/packet/ipv6-addr.js';
import { ICMPV6, Ipv6Packet } from '../../src/packet/ipv6.js';
import { replayCapture } from '../../src/world/capture-replay.js';

const NODE = 'fixtures/kernel/ip6-masq-router';
const ip6 = (s: string) => parseIpv6(s)!;
const LAN = 2;
const WAN = 3;

/** A one-record-per-packet SLL2 capture of packets rt received. */
function capture(packets: { ifindex: number; bytes: Uint8Array }[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'natsim-ip6-')), 'in.pcap');
  const w = new PcapWriter(file, { linkType: LinkType.LinuxSll2 });
  packets.forEach((p, i) => w.write({ sec: 1000 + i, nsec: 0, ifindex: p.ifindex, direction: PacketDirection.Host, protocol: ETH_P_IPV6, payload: p.bytes }));
  w.close();
  return file;
}

/** An IPv6 header with `nexthdr`, then `rest` as its payload. */
function ipv6(saddr: string, daddr: string, nexthdr: number, rest: Uint8Array, hopLimit = 64): Uint8Array {
  const b = new Uint8Array(40 + rest.length);
  b[0] = 0x60;
  b[4] = rest.length >> 8;
  b[5] = rest.length & 255;
  b[6] = nexthdr;
  b[7] = hopLimit;
  b.set(ipv6Bytes(ip6(saddr)), 8);
  b.set(ipv6Bytes(ip6(daddr)), 24);
  b.set(rest, 40);
  return b;
}

async function replay(packets: { ifindex: number; bytes: Uint8Array }[]) {
  return replayCapture(capture(packets), nodeScenario(loadNode(NODE)), { keepPackets: true });
}

describe('the IPv6 path of rt', () => {
  it('answers an echo request to its own address from that address, id, sequence and data kept', async () => {
    const req = buildIcmpv6({ saddr: ip6('fd00:206::1'), daddr: ip6('fd00:206::250'), type: ICMPV6.ECHO_REQUEST, code: 0, word: (0x4242 << 16) | 7, body: new Uint8Array([1, 2, 3]), flowLabel: 5, hopLimit: 64 });
    const r = await replay([{ ifindex: WAN, bytes: req.data }]);
    expect(r.packets!.sent).toHaveLength(1);
    const reply = Ipv6Packet.decode(r.packets!.sent[0]!.bytes) as Ipv6Packet;
    expect([reply.saddr, reply.daddr, reply.icmpType, reply.sport, reply.hopLimit]).toEqual([ip6('fd00:206::250'), ip6('fd00:206::1'), ICMPV6.ECHO_REPLY, 0x4242, 64]);
    expect(Array.from(reply.data.subarray(46))).toEqual([0, 7, 1, 2, 3]);
    expect(reply.checksumsValid()).toBe(true);
    expect(r.packets!.sent[0]!.ifindex).toBe(WAN);
  });

  it('drops a packet whose hop-by-hop header runs past its end in ip6_rcv_core, before any hook', async () => {
    // next header 0 (hop-by-hop), hdr ext len 1 (16 bytes), only 8 present
    const r = await replay([{ ifindex: LAN, bytes: ipv6('fd00:3::1', 'fd00:206::1', 0, new Uint8Array([17, 1, 0, 0, 0, 0, 0, 0])) }]);
    expect(r.packets!.sent).toHaveLength(0);
    expect([...r.host.packets.dropped.keys()]).toEqual(['truncated hop-by-hop options header (ipv6_parse_hopopts; IPSTATS_MIB_INHDRERRORS)']);
    expect(r.host.nf.stats.total().invalid).toBe(0);
  });

  it('forwards a chain truncated after a destination options header untracked: conntrack counts it invalid, NAT never sees it', async () => {
    // next header 60 (destination options) claiming 16 bytes, 8 present: ipv6_skip_exthdr runs out
    const r = await replay([{ ifindex: LAN, bytes: ipv6('fd00:3::1', 'fd00:206::1', 60, new Uint8Array([17, 1, 0, 0, 0, 0, 0, 0])) }]);
    expect(r.host.nf.stats.total().invalid).toBe(1);
    expect(r.host.nf.table.count).toBe(0);
    expect(r.packets!.sent).toHaveLength(1);
    const out = Ipv6Packet.decode(r.packets!.sent[0]!.bytes) as Ipv6Packet;
    // the walk skips the header by its length to 56, past the 48 bytes there are (ipv6_skip_exthdr reads only each header's first two)
    expect([out.saddr, out.hopLimit, out.l4off, out.length, r.packets!.sent[0]!.ifindex]).toEqual([ip6('fd00:3::1'), 63, 56, 48, WAN]);
  });

  it('answers hop limit 1 with time exceeded from the address it picks on the way back, not forwarding it', async () => {
    const udp = new Uint8Array([0x9c, 0x43, 0, 9, 0, 8, 0, 0]);
    const r = await replay([{ ifindex: LAN, bytes: ipv6('fd00:3::1', 'fd00:206::1', 17, udp, 1) }]);
    expect(r.packets!.sent).toHaveLength(1);
    const err = Ipv6Packet.decode(r.packets!.sent[0]!.bytes) as Ipv6Packet;
    expect([err.saddr, err.daddr, err.icmpType, err.icmpCode, r.packets!.sent[0]!.ifindex]).toEqual([ip6('fd00:3::254'), ip6('fd00:3::1'), ICMPV6.TIME_EXCEED, 0, LAN]);
    expect(r.host.nf.table.count).toBe(0);
  });
});
