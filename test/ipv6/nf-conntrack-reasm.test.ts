/**
 * nf_ct_frag6_gather (ipv6/nf-conntrack-reasm.ts) on fragments cut from a recorded IPv6
 * datagram of ip6-masq-router (its DNS query over UDP, padded to span several fragments): any
 * order gives back the datagram byte for byte, duplicates are taken as queued, an overlap
 * drops the whole datagram (RFC 5722), queues are keyed by source, destination, id, user and
 * input device, and expire after nf_conntrack_frag6_timeout with the counters and the first
 * fragment for ICMPv6's time exceeded; what nf_ct_frag6_gather lets pass unqueued passes.
 */
import { describe, expect, it } from 'vitest';
import { Sysctl, type SysctlName } from '../../src/host/sysctl.js';
import { IPPROTO } from '../../src/netfilter/constants.js';
import { Frag6User, NfCtFrag6, type Frag6Result } from '../../src/ipv6/nf-conntrack-reasm.js';
import { Ipv6Packet } from '../../src/packet/ipv6.js';
import { Mib } from '../../src/sockets/mib.js';
import { ipv6Frames } from './capture6.js';

const S = 1e9;
const IIF = 2;

/** The recorded UDP datagram with `extra` bytes of payload added (length and checksum fixed). */
async function datagram(extra: number): Promise<Ipv6Packet> {
  const udp = (await ipv6Frames('fixtures/kernel/ip6-masq-router/capture.pcap')).map((f) => f.pkt).find((p) => p.proto === IPPROTO.UDP && p.dport === 53)!;
  const d = new Uint8Array(udp.length + extra);
  d.set(udp.data);
  for (let i = udp.length; i < d.length; i++) d[i] = i & 0xff;
  d[4] = (d.length - 40) >> 8;
  d[5] = (d.length - 40) & 0xff;
  const l4len = d.length - 40;
  d[44] = l4len >> 8;
  d[45] = l4len & 0xff;
  d[46] = 0;
  d[47] = 0;
  const sum = udpChecksum(d);
  d[46] = sum >> 8;
  d[47] = sum & 0xff;
  return Ipv6Packet.decode(d) as Ipv6Packet;
}

/** The UDP checksum over the pseudo-header (RFC 8200 8.1) of the datagram in `d`. */
function udpChecksum(d: Uint8Array): number {
  let sum = d.length - 40 + IPPROTO.UDP;
  for (let i = 8; i < 40; i += 2) sum += (d[i]! << 8) | d[i + 1]!;
  for (let i = 40; i < d.length; i += 2) sum += (d[i]! << 8) | (d[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  return c === 0 ? 0xffff : c;
}

/**
 * The datagram cut at these data offsets (multiples of 8) into fragments with a fragment
 * header of this id, each as ip6_fragment would send it; `hop` puts a hop-by-hop header first.
 */
function fragments(p: Ipv6Packet, cuts: readonly number[], id = 0x1234abcd, hop = false): Ipv6Packet[] {
  const unfrag = p.data.subarray(0, 40);
  const data = p.data.subarray(40);
  const bounds = [0, ...cuts, data.length];
  const out: Ipv6Packet[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const piece = data.subarray(bounds[i]!, bounds[i + 1]!);
    const hopHdr = hop ? Uint8Array.from([44, 0, 1, 4, 0, 0, 0, 0]) : new Uint8Array(0);
    const d = new Uint8Array(40 + hopHdr.length + 8 + piece.length);
    d.set(unfrag);
    d[6] = hop ? 0 : 44;
    d.set(hopHdr, 40);
    const fh = 40 + hopHdr.length;
    const more = i + 2 < bounds.length ? 1 : 0;
    d.set([p.data[6]!, 0, (bounds[i]! >> 8) & 0xff, (bounds[i]! & 0xf8) | more, id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff], fh);
    d.set(piece, fh + 8);
    d[4] = (d.length - 40) >> 8;
    d[5] = (d.length - 40) & 0xff;
    out.push(Ipv6Packet.decode(d) as Ipv6Packet);
  }
  return out;
}

function setup(sysctl: [SysctlName, number][] = []) {
  const mib = new Mib();
  const s = new Sysctl();
  for (const [k, v] of sysctl) s.set(k, v);
  return { reasm: new NfCtFrag6(s, mib), mib };
}

function feed(reasm: NfCtFrag6, frags: readonly Ipv6Packet[], order: readonly number[], iif = IIF): Frag6Result[] {
  return order.map((i) => reasm.gather(frags[i]!, Frag6User.ConntrackIn, iif, 0));
}

describe('nf_ct_frag6_gather', () => {
  it('gives back the datagram byte for byte, in any order, the fragment header gone', async () => {
    const p = await datagram(3000);
    const frags = fragments(p, [1232, 2464]);
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [1, 2, 0],
    ]) {
      const { reasm } = setup();
      const results = feed(reasm, frags, order);
      expect(results.slice(0, 2).map((r) => r.kind)).toEqual(['queued', 'queued']);
      const whole = results[2]!;
      if (whole.kind !== 'whole') throw new Error(whole.kind);
      expect(Buffer.from(whole.pkt.data).equals(Buffer.from(p.data))).toBe(true);
      expect(whole.pkt.checksumsValid()).toBe(true);
      expect(whole.pieces).toEqual([1232, 1232, p.length - 40 - 2464]);
      // IP6CB(skb)->frag_max_size: sizeof(struct ipv6hdr) + the largest payload length
      expect(whole.fragMaxSize).toBe(Math.max(...frags.map((f) => f.length)));
      expect(reasm.memory).toBe(0);
    }
  });

  it('takes a hop-by-hop header before the fragment header into account (fq->nhoffset)', async () => {
    const p = await datagram(1500);
    const { reasm } = setup();
    const results = feed(reasm, fragments(p, [1232], 7, true), [0, 1]);
    const whole = results[1]!;
    if (whole.kind !== 'whole') throw new Error(whole.kind);
    expect(whole.pkt.data[6]).toBe(0);
    expect(whole.pkt.data[40]).toBe(IPPROTO.UDP);
    expect(whole.pkt.length).toBe(p.length + 8);
    expect(whole.pkt.proto).toBe(IPPROTO.UDP);
  });

  it('a duplicate is taken as queued; an overlap drops the whole datagram (RFC 5722)', async () => {
    const p = await datagram(3000);
    const frags = fragments(p, [1232, 2464]);
    const { reasm } = setup();
    expect(feed(reasm, frags, [0, 0])).toEqual([
      { kind: 'queued', duplicate: false },
      { kind: 'queued', duplicate: true },
    ]);
    expect(feed(reasm, frags, [1, 2]).map((r) => r.kind)).toEqual(['queued', 'whole']);
    // a fragment over the first one's end: 1224..2464 overlaps 0..1232
    const overlapping = fragments(p, [1224, 2464]);
    const again = setup();
    expect(feed(again.reasm, [frags[0]!, overlapping[1]!], [0, 1]).map((r) => r.kind)).toEqual(['queued', 'dropped']);
    expect(again.reasm.memory).toBe(0);
    // the queue is gone: the rest starts a new one, which never completes without a first fragment
    expect(feed(again.reasm, frags, [1, 2]).map((r) => r.kind)).toEqual(['queued', 'queued']);
  });

  it('keys queues by source, destination, id, user and input device', async () => {
    const p = await datagram(1500);
    const a = fragments(p, [1232], 1);
    const b = fragments(p, [1232], 2);
    const { reasm } = setup();
    expect(reasm.gather(a[0]!, Frag6User.ConntrackIn, IIF, 0).kind).toBe('queued');
    expect(reasm.gather(b[1]!, Frag6User.ConntrackIn, IIF, 0).kind).toBe('queued');
    expect(reasm.gather(a[1]!, Frag6User.ConntrackOut, IIF, 0).kind).toBe('queued');
    expect(reasm.gather(a[1]!, Frag6User.ConntrackIn, IIF + 1, 0).kind).toBe('queued');
    expect(reasm.gather(a[1]!, Frag6User.ConntrackIn, IIF, 0).kind).toBe('whole');
  });

  it('expires a queue after nf_conntrack_frag6_timeout: the counters, and the first fragment for the time exceeded', async () => {
    const p = await datagram(3000);
    const frags = fragments(p, [1232, 2464]);
    const { reasm, mib } = setup();
    reasm.gather(frags[0]!, Frag6User.ConntrackIn, IIF, 0);
    reasm.gather(frags[2]!, Frag6User.ConntrackIn, IIF, 0);
    expect(reasm.expire(59.9 * S)).toEqual([]);
    const expired = reasm.expire(60 * S);
    expect(expired).toHaveLength(1);
    expect(expired[0]!.head?.data).toEqual(frags[0]!.data);
    expect([mib.get('Ip6ReasmFails'), mib.get('Ip6ReasmTimeout')]).toEqual([1, 1]);
    expect(reasm.memory).toBe(0);
    // without its first fragment: counted, no ICMPv6 error owed
    reasm.gather(frags[1]!, Frag6User.ConntrackIn, IIF, 61 * S);
    expect(reasm.expire(121 * S)).toEqual([{ head: null, iif: IIF, time: 121 * S }]);
    // a LOCAL_OUT queue has no input device: dev_get_by_index_rcu finds none, nothing counted
    reasm.gather(frags[1]!, Frag6User.ConntrackOut, 0, 0);
    expect(reasm.expire(200 * S)).toEqual([]);
    expect(mib.get('Ip6ReasmFails')).toBe(2);
  });

  it('takes the timeout and the memory limit from their sysctls', async () => {
    const p = await datagram(3000);
    const frags = fragments(p, [1232, 2464]);
    const short = setup([['net.netfilter.nf_conntrack_frag6_timeout', 5]]);
    short.reasm.gather(frags[0]!, Frag6User.ConntrackIn, IIF, 0);
    expect(short.reasm.expire(5 * S)).toHaveLength(1);
    const small = setup([['net.netfilter.nf_conntrack_frag6_high_thresh', 100]]);
    expect(small.reasm.gather(frags[0]!, Frag6User.ConntrackIn, IIF, 0).kind).toBe('queued');
    expect(small.reasm.memory).toBeGreaterThan(100);
    // an existing queue still takes fragments; a new one is refused (inet_frag_find)
    expect(small.reasm.gather(frags[1]!, Frag6User.ConntrackIn, IIF, 0).kind).toBe('queued');
    expect(small.reasm.gather(fragments(p, [1232], 99)[0]!, Frag6User.ConntrackIn, IIF, 0)).toMatchObject({ kind: 'dropped', reason: expect.stringContaining('nf_conntrack_frag6_high_thresh') });
  });

  it('lets pass what it does not queue: no fragment header, a truncated first fragment, an end not a multiple of 8', async () => {
    const p = await datagram(100);
    const { reasm } = setup();
    expect(reasm.gather(p, Frag6User.ConntrackIn, IIF, 0)).toEqual({ kind: 'pass', why: 'no fragment header' });
    // a first fragment holding 4 bytes of the UDP header
    const cut = fragments(p, [8])[0]!;
    const short = Uint8Array.from(cut.data.subarray(0, 40 + 8 + 4));
    short[5] = 12;
    expect(reasm.gather(Ipv6Packet.decode(short) as Ipv6Packet, Frag6User.ConntrackIn, IIF, 0).kind).toBe('pass');
    // a non-last fragment of 12 data bytes: -EPROTO kills its queue, and the packet passes
    const frags = fragments(p, [16]);
    expect(reasm.gather(frags[1]!, Frag6User.ConntrackIn, IIF, 0).kind).toBe('queued');
    const odd = Uint8Array.from(frags[0]!.data.subarray(0, 40 + 8 + 12));
    odd[5] = 20;
    expect(reasm.gather(Ipv6Packet.decode(odd) as Ipv6Packet, Frag6User.ConntrackIn, IIF, 0).kind).toBe('pass');
    expect(reasm.memory).toBe(0);
  });

  it('drops a second last fragment that disagrees', async () => {
    const p = await datagram(3000);
    const frags = fragments(p, [1232, 2464]);
    const { reasm } = setup();
    reasm.gather(frags[2]!, Frag6User.ConntrackIn, IIF, 0);
    const shorterLast = fragments(p, [1232, 2456])[2]!;
    const bytes = Uint8Array.from(shorterLast.data.subarray(0, shorterLast.length - 16));
    bytes[4] = (bytes.length - 40) >> 8;
    bytes[5] = (bytes.length - 40) & 0xff;
    expect(reasm.gather(Ipv6Packet.decode(bytes) as Ipv6Packet, Frag6User.ConntrackIn, IIF, 0)).toMatchObject({ kind: 'dropped', reason: expect.stringContaining('last fragment') });
  });
});
