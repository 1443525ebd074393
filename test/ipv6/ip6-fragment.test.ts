/**
 * ip6_fragment (ipv6/ip6-fragment.ts) and the IPv6 fragment path end to end, against the kernel
 * recording fixtures/kernel/ip6-udp-frag-mtu1400: the client's kernel cut its 3000-byte
 * datagrams for MTU 1400 with ip6_fragment, so natsim cutting the reassembled datagram under the
 * same identification must give the client's fragments byte for byte; the replay of rt counts
 * what nstat counted, and each datagram rt cut leaves under one new identification.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketDirection } from '../../src/capture/record.js';
import { Sysctl } from '../../src/host/sysctl.js';
import { ip6FindFirstFragOpt, ip6FragmentPackets } from '../../src/ipv6/ip6-fragment.js';
import { Frag6User, NfCtFrag6 } from '../../src/ipv6/nf-conntrack-reasm.js';
import { loadNode, nodeScenario } from '../../src/node/snapshot.js';
import { Ipv6Packet } from '../../src/packet/ipv6.js';
import { Mib, type MibName } from '../../src/sockets/mib.js';
import { replayCapture } from '../../src/world/capture-replay.js';
import { ipv6Frames } from './capture6.js';

const DIR = 'fixtures/kernel/ip6-udp-frag-mtu1400';
const LAN = 2;
const WAN = 3;

/** The fragment identification of a packet whose fixed header is followed by a fragment header. */
const fragId = (p: Ipv6Packet): number => new DataView(p.data.buffer, p.data.byteOffset).getUint32(44);

/** The recording's IPv6 packets with a fragment header, by interface and direction. */
async function fragmentsOf(ifindex: number, dir: PacketDirection): Promise<Ipv6Packet[]> {
  return (await ipv6Frames(`${DIR}/capture.pcap`)).filter((f) => f.ifindex === ifindex && f.dir === dir && f.pkt.nexthdr === 44).map((f) => f.pkt);
}

/** nf_ct_frag6_gather over `pieces` in order: the whole datagram. */
function reassemble(pieces: readonly Ipv6Packet[]): Ipv6Packet {
  const reasm = new NfCtFrag6(new Sysctl(), new Mib());
  for (const p of pieces) {
    const r = reasm.gather(p, Frag6User.ConntrackIn, LAN, 0);
    if (r.kind === 'whole') return r.pkt;
    expect(r.kind).toBe('queued');
  }
  throw new Error('the pieces did not make a datagram');
}

describe('ip6_fragment', () => {
  it('cuts the client\'s reassembled 3000-byte datagram for MTU 1400 into the client kernel\'s very fragments (1400, 1400, 352)', async () => {
    const client = (await fragmentsOf(LAN, PacketDirection.Host)).slice(0, 3);
    const whole = reassemble(client);
    expect([whole.length, whole.nexthdr]).toEqual([3048, 17]);
    const first = ip6FindFirstFragOpt(whole.data)!;
    const pieces = ip6FragmentPackets(whole, first, 1400 - first.hlen - 8, null, fragId(client[0]!));
    expect(pieces.map((p) => p.length)).toEqual([1400, 1400, 352]);
    pieces.forEach((p, i) => expect(Array.from(p.data), `fragment ${i + 1}`).toEqual(Array.from(client[i]!.data)));
  });

  it('keeps the sizes a reassembled datagram arrived in when each fits and all but the last are multiples of 8 (the frag_list fast path)', async () => {
    const whole = reassemble((await fragmentsOf(LAN, PacketDirection.Host)).slice(0, 3));
    const first = ip6FindFirstFragOpt(whole.data)!;
    const sizes = (arrived: number[]) => ip6FragmentPackets(whole, first, 1352, arrived, 7).map((p) => p.length - 48);
    expect(sizes([1000, 1000, 1008])).toEqual([1000, 1000, 1008]);
    // a middle piece not a multiple of 8, or one over the room: the slow path's cut
    expect(sizes([1000, 1004, 1004])).toEqual([1352, 1352, 304]);
    expect(sizes([1400, 1000, 608])).toEqual([1352, 1352, 304]);
  });

  it('leaves hop-by-hop, routing and the destination options before a routing header in every fragment (ip6_find_1stfragopt)', () => {
    /** A packet whose extension headers are `chain` (type, 8 bytes each), then UDP. */
    const withChain = (chain: number[]): Uint8Array => {
      const d = new Uint8Array(40 + chain.length * 8 + 8);
      d[0] = 0x60;
      d[6] = chain[0] ?? 17;
      chain.forEach((_, i) => (d[40 + i * 8] = chain[i + 1] ?? 17));
      return d;
    };
    const HOP = 0;
    const ROUTING = 43;
    const DEST = 60;
    expect(ip6FindFirstFragOpt(withChain([]))).toEqual({ hlen: 40, prevhdr: 6 });
    expect(ip6FindFirstFragOpt(withChain([HOP]))).toEqual({ hlen: 48, prevhdr: 40 });
    expect(ip6FindFirstFragOpt(withChain([HOP, DEST, ROUTING, DEST]))).toEqual({ hlen: 64, prevhdr: 56 });
    expect(ip6FindFirstFragOpt(withChain([DEST]))).toEqual({ hlen: 48, prevhdr: 40 });
    expect(ip6FindFirstFragOpt(withChain([HOP]).subarray(0, 41))).toBeNull();
  });

  it('any datagram cut at any MTU comes back whole from nf_ct_frag6_gather, in pieces no larger than the MTU under one id (property)', async () => {
    const whole = reassemble((await fragmentsOf(LAN, PacketDirection.Host)).slice(0, 3));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1280, max: 1500 }), fc.array(fc.nat(), { minLength: 3, maxLength: 3 }), (cut, mtu, order) => {
        const d = whole.data.slice(0, 48 + cut);
        d[4] = (d.length - 40) >> 8;
        d[5] = (d.length - 40) & 0xff;
        const pkt = Ipv6Packet.decode(d) as Ipv6Packet;
        const pieces = ip6FragmentPackets(pkt, ip6FindFirstFragOpt(d)!, mtu - 48, null, 0xfeed);
        expect(pieces.every((p) => p.length <= mtu && fragId(p) === 0xfeed)).toBe(true);
        const shuffled = [...pieces];
        order.forEach((o, i) => {
          const j = o % shuffled.length;
          [shuffled[i % shuffled.length], shuffled[j]] = [shuffled[j]!, shuffled[i % shuffled.length]!];
        });
        expect(Array.from(reassemble(shuffled).data)).toEqual(Array.from(d));
      }),
      { numRuns: 150 },
    );
  });
});

describe('rt of ip6-udp-frag-mtu1400, replayed', () => {
  it('counts what nstat counted: too big and fragmentation failures, fragments made, expired queues', async () => {
    const r = await replayCapture(`${DIR}/capture.pcap`, nodeScenario(loadNode(DIR)));
    const nstat = readFileSync(`${DIR}/nstat.txt`, 'utf8');
    const names: MibName[] = ['Ip6InTooBigErrors', 'Ip6FragOKs', 'Ip6FragFails', 'Ip6FragCreates', 'Ip6ReasmTimeout', 'Ip6ReasmFails'];
    const kernel = names.map((n) => Number(new RegExp(`^${n}\\s+(\\d+)`, 'm').exec(nstat)![1]));
    expect(kernel).toEqual([2, 4, 2, 12, 2, 2]);
    expect(names.map((n) => r.host.nf.mib.get(n))).toEqual(kernel);
    expect(r.host.nf.frag6.memory).toBe(0);
  });

  it('cuts each datagram under one new identification, as the kernel did (ipv6_select_ident)', async () => {
    const r = await replayCapture(`${DIR}/capture.pcap`, nodeScenario(loadNode(DIR)), { keepPackets: true });
    const decode = (bytes: Uint8Array) => Ipv6Packet.decode(bytes) as Ipv6Packet;
    const ids = (pkts: Ipv6Packet[]) => pkts.filter((p) => p.nexthdr === 44).map(fragId);
    const natsim = ids(r.packets!.sent.filter((s) => s.ifindex === WAN).map((s) => decode(s.bytes)));
    const kernel = ids(r.packets!.recorded.filter((s) => s.ifindex === WAN).map((s) => decode(s.bytes)));
    const incoming = ids(await fragmentsOf(LAN, PacketDirection.Host));
    for (const out of [natsim, kernel]) {
      expect(out).toHaveLength(6);
      expect(new Set(out.slice(0, 3)).size).toBe(1);
      expect(new Set(out.slice(3)).size).toBe(1);
      expect(out[0]).not.toBe(out[3]);
      expect(out.some((id) => incoming.includes(id))).toBe(false);
    }
  });
});
