/**
 * IPv4 packets: decoding, and NAT rewrites whose incremental checksum updates must equal a
 * full recomputation (property tests over random packets and rewrites).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Ipv4Packet, writeU16 } from '../../src/packet/ipv4.js';
import { checksum, pseudoHeaderSum } from '../../src/packet/checksum.js';
import { buildIcmpEcho } from '../../src/packet/build.js';

/** A TCP or UDP packet with correct checksums built from scratch (independent of the setters). */
function l4Packet(proto: 6 | 17, saddr: number, daddr: number, sport: number, dport: number, payload: Uint8Array, zeroUdpSum = false): Uint8Array {
  const l4len = (proto === 6 ? 20 : 8) + payload.length;
  const d = new Uint8Array(20 + l4len);
  d[0] = 0x45;
  writeU16(d, 2, d.length);
  d[8] = 64;
  d[9] = proto;
  new DataView(d.buffer).setUint32(12, saddr);
  new DataView(d.buffer).setUint32(16, daddr);
  writeU16(d, 10, checksum(d, 0, 20));
  writeU16(d, 20, sport);
  writeU16(d, 22, dport);
  if (proto === 6) d[32] = 5 << 4;
  else writeU16(d, 24, l4len);
  d.set(payload, 20 + (proto === 6 ? 20 : 8));
  if (!zeroUdpSum) {
    const sum = checksum(d, 20, d.length, pseudoHeaderSum(saddr, daddr, proto, l4len));
    writeU16(d, proto === 6 ? 36 : 26, proto === 17 && sum === 0 ? 0xffff : sum);
  }
  return d;
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });

describe('Ipv4Packet', () => {
  it('reports what it does not handle', () => {
    expect(Ipv4Packet.decode(new Uint8Array([0x60]))).toBe('ipv6');
    expect(Ipv4Packet.decode(new Uint8Array(10).fill(0x45))).toBe('truncated');
    const frag = l4Packet(17, 1, 2, 3, 4, new Uint8Array(4));
    frag[6] = 0x20; // more fragments
    expect((Ipv4Packet.decode(frag) as Ipv4Packet).isFragment()).toBe(true); // a packet: nf_defrag_ipv4 reassembles it
    const badIhl = l4Packet(17, 1, 2, 3, 4, new Uint8Array(4));
    badIhl[0] = 0x44;
    expect(Ipv4Packet.decode(badIhl)).toBe('bad-ihl');
  });

  it('NAT rewrites keep every checksum valid (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom<6 | 17>(6, 17), u32, u32, u16, u16, fc.uint8Array({ maxLength: 40 }), u32, u32, u16, u16, (proto, s, d, sp, dp, payload, s2, d2, sp2, dp2) => {
        const p = Ipv4Packet.decode(l4Packet(proto, s, d, sp, dp, payload)) as Ipv4Packet;
        p.setSaddr(s2);
        p.setDaddr(d2);
        p.setSport(sp2);
        p.setDport(dp2);
        p.decreaseTtl();
        expect(p.checksumsValid()).toBe(true);
        // and the bytes equal a packet built from scratch with the new fields (TTL aside)
        const fresh = l4Packet(proto, s2, d2, sp2, dp2, payload);
        fresh[8] = 63;
        writeU16(fresh, 10, 0);
        writeU16(fresh, 10, checksum(fresh, 0, 20));
        const sumAt = proto === 6 ? 36 : 26;
        // ones-complement has two zeros: compare sums by validity, the rest byte for byte
        const a = p.data.slice();
        a.fill(0, sumAt, sumAt + 2);
        fresh.fill(0, sumAt, sumAt + 2);
        expect(Buffer.from(a).equals(Buffer.from(fresh))).toBe(true);
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('a UDP packet without checksum keeps checksum 0 through NAT', () => {
    const p = Ipv4Packet.decode(l4Packet(17, 0x0a000301, 0xc0a8ce01, 42000, 5353, new Uint8Array(5), true)) as Ipv4Packet;
    p.setSaddr(0xc0a8cefa);
    p.setSport(50002);
    expect(p.data[26]).toBe(0);
    expect(p.data[27]).toBe(0);
    expect(p.checksumsValid()).toBe(true);
  });

  it('rewrites the ICMP echo id with a valid ICMP checksum', () => {
    const p = buildIcmpEcho({ saddr: 0x0a000301, daddr: 0xc0a8ce01, ipId: 1, ttl: 64, type: 8, echoId: 4716, seq: 1, payload: new Uint8Array(56) });
    expect(p.checksumsValid()).toBe(true);
    p.setSport(40262);
    expect(p.sport).toBe(40262);
    expect(p.checksumsValid()).toBe(true);
  });
});
