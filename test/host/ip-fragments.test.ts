/**
 * IPv4 fragments: reassembly as ip_defrag does it (ipv4/ip-fragment.ts) and fragmentation on
 * output as ip_do_fragment does it (ipv4/ip-output.ts). The kernel recording
 * fixtures/kernel/udp-frag-mtu1400 checks both end to end through a masquerading router
 * (test/verify: 1500/1500/68 in, 1396/1396/276 out, and fragmentation needed for DF).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DefragUser, IpDefrag } from '../../src/ipv4/ip-fragment.js';
import { ipDoFragment, ipFinishOutput } from '../../src/ipv4/ip-output.js';
import { Sysctl } from '../../src/host/sysctl.js';
import { Skb } from '../../src/netfilter/skb.js';
import { buildUdp } from '../../src/packet/build.js';
import { checksum } from '../../src/packet/checksum.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';
import type { Ipv4Packet } from '../../src/packet/ipv4.js';
import { Mib } from '../../src/sockets/mib.js';

const ip = (s: string) => parseIpv4(s)!;
const S = 1e9;

/** A UDP datagram of `bytes` payload bytes (DF as buildUdp sets it, cleared when `df` is false). */
function datagram(bytes: number, df = false): Ipv4Packet {
  const payload = Uint8Array.from({ length: bytes }, (_, i) => (i * 7) & 0xff);
  const pkt = buildUdp({ saddr: ip('10.0.3.1'), daddr: ip('192.168.206.1'), sport: 40001, dport: 9000, ipId: 9788, ttl: 64, payload });
  if (!df) {
    pkt.data[6] = 0;
    pkt.data[10] = 0;
    pkt.data[11] = 0;
    const c = checksum(pkt.data, 0, 20);
    pkt.data[10] = c >> 8;
    pkt.data[11] = c & 0xff;
  }
  return pkt;
}

function defragger(): { d: IpDefrag; mib: Mib; sysctl: Sysctl } {
  const sysctl = new Sysctl();
  const mib = new Mib();
  return { d: new IpDefrag(sysctl, mib), mib, sysctl };
}

describe('ip_do_fragment', () => {
  it('cuts a 3028-byte datagram for MTU 1400 into 1396, 1396 and 276 bytes (the recording)', () => {
    const pieces = ipDoFragment(datagram(3000), 1400, null, false);
    expect(pieces.map((p) => [p.length, p.fragOffset, p.moreFragments])).toEqual([
      [1396, 0, true],
      [1396, 1376, true],
      [276, 2752, false],
    ]);
    for (const p of pieces) expect(checksum(p.data, 0, 20)).toBe(0);
  });

  it('sends a reassembled datagram in the pieces it came in when each fits (the frag_list fast path)', () => {
    const pieces = ipDoFragment(datagram(3000), 1500, [1000, 1000, 1008], false);
    expect(pieces.map((p) => p.length - 20)).toEqual([1000, 1000, 1008]);
  });

  it('refuses a DF datagram larger than the MTU, and fragments a reassembled one no larger than it came', () => {
    const df = new Skb(1, datagram(1450, true), 0, 0, null);
    expect(ipFinishOutput(df, 1400)).toEqual({ kind: 'frag-needed', mtu: 1400 });
    const reassembled = new Skb(2, datagram(3000), 0, 0, null);
    reassembled.fragMaxSize = 1396;
    reassembled.ignoreDf = true;
    const out = ipFinishOutput(reassembled, 1500);
    expect(out.kind === 'fragments' && out.pkts.map((p) => p.length)).toEqual([1396, 1396, 276]);
  });
});

describe('ip_defrag', () => {
  it('reassembles fragments in any order into the datagram, counting as nstat does', () => {
    const whole = datagram(3000);
    const pieces = ipDoFragment(whole, 1500, null, false);
    const { d, mib } = defragger();
    expect(d.defrag(pieces[2]!, DefragUser.ConntrackIn, 0).kind).toBe('queued');
    expect(d.defrag(pieces[0]!, DefragUser.ConntrackIn, 1).kind).toBe('queued');
    const r = d.defrag(pieces[1]!, DefragUser.ConntrackIn, 2);
    expect(r.kind).toBe('whole');
    if (r.kind !== 'whole') return;
    expect(Array.from(r.pkt.data)).toEqual(Array.from(whole.data));
    expect(r.fragMaxSize).toBe(1500);
    expect(r.pieces).toEqual([1480, 1480, 48]);
    expect([mib.get('IpReasmReqds'), mib.get('IpReasmOKs'), mib.get('IpReasmFails')]).toEqual([3, 1, 0]);
  });

  it('drops a duplicate fragment alone, and the whole datagram when fragments overlap in part', () => {
    const pieces = ipDoFragment(datagram(3000), 1500, null, false);
    const { d, mib } = defragger();
    d.defrag(pieces[0]!, DefragUser.ConntrackIn, 0);
    expect(d.defrag(pieces[0]!, DefragUser.ConntrackIn, 0)).toMatchObject({ kind: 'dropped' });
    // the same datagram cut for MTU 1000: its second piece (976–1952) overlaps the first (0–1480)
    const other = ipDoFragment(datagram(3000), 1000, null, false)[1]!;
    expect(d.defrag(other, DefragUser.ConntrackIn, 0)).toMatchObject({ kind: 'dropped' });
    expect([mib.get('IpReasmOverlaps'), mib.get('IpReasmFails')]).toEqual([1, 1]);
    // the queue went with it: the rest of the first cut cannot complete the datagram
    expect(d.defrag(pieces[1]!, DefragUser.ConntrackIn, 0).kind).toBe('queued');
    expect(d.defrag(pieces[2]!, DefragUser.ConntrackIn, 0).kind).toBe('queued');
  });

  it('gives up on a datagram after net.ipv4.ipfrag_time (30 s) and counts the timeout', () => {
    const pieces = ipDoFragment(datagram(3000), 1500, null, false);
    const { d, mib } = defragger();
    d.defrag(pieces[0]!, DefragUser.ConntrackIn, 0);
    d.defrag(pieces[1]!, DefragUser.ConntrackIn, 31 * S);
    expect([mib.get('IpReasmTimeout'), mib.get('IpReasmFails')]).toEqual([1, 1]);
    // the old queue is gone: the last piece alone cannot complete a datagram
    expect(d.defrag(pieces[2]!, DefragUser.ConntrackIn, 31 * S).kind).toBe('queued');
  });

  it('keeps the queues of conntrack-in and conntrack-out apart', () => {
    const pieces = ipDoFragment(datagram(3000), 1500, null, false);
    const { d } = defragger();
    d.defrag(pieces[0]!, DefragUser.ConntrackIn, 0);
    d.defrag(pieces[1]!, DefragUser.ConntrackIn, 0);
    expect(d.defrag(pieces[2]!, DefragUser.ConntrackOut, 0).kind).toBe('queued');
  });

  it('any fragmentation, in any order, reassembles to the same bytes (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 68, max: 1500 }), fc.array(fc.nat(), { minLength: 8, maxLength: 8 }), (bytes, mtu, order) => {
        const whole = datagram(bytes);
        const pieces = ipDoFragment(whole, mtu, null, false);
        if (pieces.length === 1) return;
        const shuffled = pieces.map((p, i) => ({ p, k: order[i % order.length]! + i / 1000 })).sort((a, b) => a.k - b.k).map((x) => x.p);
        const { d } = defragger();
        const results = shuffled.map((p) => d.defrag(p, DefragUser.ConntrackIn, 0));
        const last = results[results.length - 1]!;
        expect(results.slice(0, -1).every((r) => r.kind === 'queued')).toBe(true);
        expect(last.kind === 'whole' && Array.from(last.pkt.data)).toEqual(Array.from(whole.data));
      }),
      { numRuns: 200 },
    );
  });
});
