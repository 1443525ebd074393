/**
 * IPv6 packets: the extension header walk as ipv6_skip_exthdr does it, and the packet layer
 * against the kernel's own bytes. fixtures/kernel/ip6-masq-router/capture.pcap holds
 * each forwarded packet as it came In and went Out of the masquerading router: taking the In
 * bytes, decrementing the hop limit and rewriting the address (and for the ICMPv6 error the
 * quoted packet, then the ICMPv6 checksum) must give the Out bytes exactly — the incremental
 * pseudo-header checksum updates included, on full and on CHECKSUM_PARTIAL checksums.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketDirection } from '../../src/capture/index.js';
import { ipv6Frames } from '../ipv6/capture6.js';
import { IPPROTO } from '../../src/netfilter/constants.js';
import { ipv6SkipExthdr, NEXTHDR } from '../../src/ipv6/exthdrs-core.js';
import { ICMPV6, Ipv6Packet } from '../../src/packet/ipv6.js';
import { formatIpv6, ipv6Handle, ipv6Word, parseIpv6 } from '../../src/packet/ipv6-addr.js';
import { csumReplace32, csumReplacePartial32, onesSum } from '../../src/packet/checksum.js';
import { readU16 } from '../../src/packet/l3-packet.js';

const CAPTURE = 'fixtures/kernel/ip6-masq-router/capture.pcap';
const v6 = (s: string): number => parseIpv6(s)!;

/** A packet: the fixed header, then `chain` (extension headers as [type, bytes]), then `l4`. */
function packet(chain: readonly [number, readonly number[]][], proto: number, l4: readonly number[]): Uint8Array {
  const body: number[] = [];
  const types = [...chain.map(([t]) => t), proto];
  chain.forEach(([, bytes], i) => body.push(types[i + 1]!, ...bytes.slice(1)));
  body.push(...l4);
  const head = [0x60, 0, 0, 0, body.length >> 8, body.length & 0xff, types[0]!, 64, ...new Array<number>(15).fill(0), 1, ...new Array<number>(15).fill(0), 2];
  return Uint8Array.from([...head, ...body]);
}

describe('ipv6_skip_exthdr', () => {
  it('walks hop-by-hop, routing and destination options to the L4 header', () => {
    const opts = [0, 0, 1, 4, 0, 0, 0, 0]; // next header (filled in), length 0 = 8 bytes, PadN
    const p = packet([[NEXTHDR.HOP, opts], [NEXTHDR.ROUTING, [0, 0, 0, 0, 0, 0, 0, 0]], [NEXTHDR.DEST, opts]], IPPROTO.UDP, [0x9c, 0x41, 0, 53, 0, 8, 0, 0]);
    expect(ipv6SkipExthdr(p, 40, p[6]!)).toEqual({ offset: 64, nexthdr: IPPROTO.UDP, fragOff: 0 });
    const pkt = Ipv6Packet.decode(p) as Ipv6Packet;
    expect([pkt.proto, pkt.l4off, pkt.sport, pkt.dport]).toEqual([IPPROTO.UDP, 64, 40001, 53]);
  });

  it('counts AH in 4-byte units, and stops at ESP and unknown headers', () => {
    const ah = [0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]; // (4 + 2) × 4 = 24
    const p = packet([[NEXTHDR.AUTH, ah]], IPPROTO.TCP, new Array<number>(20).fill(0));
    expect(ipv6SkipExthdr(p, 40, p[6]!).offset).toBe(64);
    const esp = packet([], NEXTHDR.ESP, [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Ipv6Packet.decode(esp)).toMatchObject({ proto: NEXTHDR.ESP, l4off: 40 });
    const unknown = packet([], 253, [0, 0]);
    expect(Ipv6Packet.decode(unknown)).toMatchObject({ proto: 253, l4off: 40 });
  });

  it('a first fragment is walked through, a later one ends the walk at its fragment header', () => {
    const first = packet([[NEXTHDR.FRAGMENT, [0, 0, 0, 1, 0, 0, 0, 7]]], IPPROTO.UDP, [0, 1, 0, 2, 0, 8, 0, 0]);
    expect(ipv6SkipExthdr(first, 40, first[6]!)).toEqual({ offset: 48, nexthdr: IPPROTO.UDP, fragOff: 1 });
    const later = packet([[NEXTHDR.FRAGMENT, [0, 0, 0x05, 0x78, 0, 0, 0, 7]]], IPPROTO.UDP, [0, 1, 0, 2]);
    expect(ipv6SkipExthdr(later, 40, later[6]!)).toEqual({ offset: 40, nexthdr: NEXTHDR.FRAGMENT, fragOff: 0x0578 });
    // ipv6_get_l4proto: conntrack finds no protocol in a non-first fragment
    expect(Ipv6Packet.decode(later)).toMatchObject({ proto: -1, l4off: -1, sport: 0 });
  });

  it('"no next header" and a chain running past the packet give -1, never a read past the end', () => {
    expect(ipv6SkipExthdr(packet([], NEXTHDR.NONE, []), 40, NEXTHDR.NONE).offset).toBe(-1);
    const cut = packet([], NEXTHDR.HOP, [6]); // a hop-by-hop header of one byte
    expect(Ipv6Packet.decode(cut)).toMatchObject({ proto: -1, l4off: -1 });
  });

  it('any bytes after a fixed header decode or are refused, and never throw', () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 6, 17, 43, 44, 50, 51, 58, 59, 60, 200), fc.uint8Array({ maxLength: 120 }), fc.integer({ min: 0, max: 200 }), (next, rest, claimed) => {
        const p = packet([], next, [...rest]);
        p[4] = claimed >> 8;
        p[5] = claimed & 0xff;
        const pkt = Ipv6Packet.decode(p);
        if (typeof pkt === 'string') {
          expect(['truncated', 'bad-payload-length']).toContain(pkt);
          return;
        }
        expect(pkt.l4off === -1 || pkt.l4off >= 40).toBe(true);
        pkt.checksumsValid();
        if (pkt.isIcmpv6Error()) pkt.quotedPacket();
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses what is not an IPv6 packet', () => {
    expect(Ipv6Packet.decode(new Uint8Array([0x45, 0, 0, 20]))).toBe('not-ipv6');
    expect(Ipv6Packet.decode(new Uint8Array(39).fill(0x60))).toBe('truncated');
    const p = packet([], IPPROTO.UDP, [0, 1, 0, 2, 0, 8, 0, 0]);
    p[5] = 9; // claims one byte more than there is
    expect(Ipv6Packet.decode(p)).toBe('truncated');
  });
});

describe('IPv6 NAT on the kernel recording ip6-masq-router', () => {
  const LAN = v6('fd00:3::1');
  const WAN = v6('fd00:206::250');

  it('decodes every IPv6 frame, NDP included, with valid checksums', async () => {
    const all = await ipv6Frames(CAPTURE);
    expect(all.length).toBe(51);
    for (const { pkt } of all) expect(pkt.checksumsValid()).toBe(true);
    const ndp = all.filter(({ pkt }) => pkt.proto === IPPROTO.ICMPV6 && pkt.icmpType >= ICMPV6.NDISC_ROUTER_SOLICITATION && pkt.icmpType <= ICMPV6.NDISC_REDIRECT);
    expect(ndp.length).toBeGreaterThan(0);
    for (const { pkt } of ndp) expect(pkt.hopLimit).toBe(255);
  });

  it('each masqueraded packet is its In bytes with hop limit − 1 and the new address, checksums updated incrementally', async () => {
    const all = await ipv6Frames(CAPTURE);
    const isNdp = (p: Ipv6Packet): boolean => p.proto === IPPROTO.ICMPV6 && p.icmpType >= ICMPV6.NDISC_ROUTER_SOLICITATION && p.icmpType <= ICMPV6.NDISC_REDIRECT;
    const used = new Set<number>();
    let checked = 0;
    for (let i = 0; i < all.length; i++) {
      const inn = all[i]!;
      if (inn.dir !== PacketDirection.Host || isNdp(inn.pkt) || inn.pkt.hopLimit <= 1) continue;
      // forwarding keeps the flow label: the Out packet is the next one with the same label and length
      const at = all.findIndex((f, j) => j > i && !used.has(j) && f.dir === PacketDirection.Outgoing && !isNdp(f.pkt) && f.pkt.flowLabel === inn.pkt.flowLabel && f.pkt.length === inn.pkt.length);
      if (at < 0) continue;
      const out = all[at]!;
      const pkt = Ipv6Packet.decode(inn.pkt.data) as Ipv6Packet;
      if (pkt.saddr === LAN && out.pkt.saddr === WAN) pkt.setSaddr(WAN);
      else if (pkt.daddr === WAN && out.pkt.daddr === LAN) {
        pkt.setDaddr(LAN);
        if (pkt.isIcmpv6Error()) {
          const quoted = pkt.quotedPacket() as Ipv6Packet;
          quoted.setSaddr(LAN);
          pkt.refreshIcmpChecksum();
        }
      } else continue;
      used.add(at);
      pkt.decreaseHopLimit();
      expect(Buffer.from(pkt.data).toString('hex'), `packet ${at + 1}: ${formatIpv6(out.pkt.saddr)} > ${formatIpv6(out.pkt.daddr)}`).toBe(Buffer.from(out.pkt.data).toString('hex'));
      checked++;
    }
    // 6 echo, 20 TCP, 4 UDP/53, the 40001 datagram and its port unreachable
    expect(checked).toBe(20);
  });

  it('reads the echo id, the flow label and the quoted packet of the port unreachable', async () => {
    const all = await ipv6Frames(CAPTURE);
    const echo = all.find(({ pkt }) => pkt.proto === IPPROTO.ICMPV6 && pkt.icmpType === ICMPV6.ECHO_REQUEST)!.pkt;
    expect(echo.sport).toBe(16962);
    const error = all.find(({ pkt }) => pkt.isIcmpv6Error() && pkt.icmpType === ICMPV6.DEST_UNREACH && pkt.icmpCode === 4)!.pkt;
    expect(error.flowLabel).toBe(0x1f335);
    const quoted = error.quotedPacket() as Ipv6Packet;
    expect([formatIpv6(quoted.saddr), formatIpv6(quoted.daddr), quoted.proto, quoted.sport, quoted.dport]).toEqual(['fd00:206::250', 'fd00:206::1', IPPROTO.UDP, 40001, 9]);
  });
});

describe('the L4 checksum over the pseudo-header', () => {
  /** A TCP or UDP packet with these addresses and L4 bytes (its checksum field as they hold it). */
  const arbitraryPacket = fc.record({
    src: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    dst: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    proto: fc.constantFrom(IPPROTO.TCP, IPPROTO.UDP),
    l4: fc.uint8Array({ minLength: 20, maxLength: 90 }),
  });
  const bytesOf = (a: { src: Uint8Array; dst: Uint8Array; proto: number; l4: Uint8Array }): Uint8Array =>
    Uint8Array.from([0x60, 0, 0, 0, a.l4.length >> 8, a.l4.length & 0xff, a.proto, 64, ...a.src, ...a.dst, ...a.l4]);
  const checkAt = (p: Ipv6Packet): number => p.l4off + (p.proto === IPPROTO.TCP ? 16 : 6);
  /** The pseudo-header's sum, from its RFC 8200 8.1 layout. */
  const pseudoSum = (a: { src: Uint8Array; dst: Uint8Array; proto: number; l4: Uint8Array }): number =>
    onesSum(Uint8Array.from([...a.src, ...a.dst, 0, 0, a.l4.length >> 8, a.l4.length & 0xff, 0, 0, 0, a.proto]), 0, 40);

  it('is RFC 8200 8.1\'s: the addresses, the upper-layer length and the next header, then the L4 bytes', () => {
    fc.assert(
      fc.property(arbitraryPacket, (a) => {
        const p = Ipv6Packet.decode(bytesOf(a)) as Ipv6Packet;
        p.fillL4Checksum();
        const l4 = p.data.slice(p.l4off);
        const check = readU16(l4, p.proto === IPPROTO.TCP ? 16 : 6);
        l4.fill(0, p.proto === IPPROTO.TCP ? 16 : 6, p.proto === IPPROTO.TCP ? 18 : 8);
        const expected = ~onesSum(l4, 0, l4.length, pseudoSum(a)) & 0xffff;
        expect(check).toBe(p.proto === IPPROTO.UDP && expected === 0 ? 0xffff : expected);
        expect(p.checksumsValid()).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a new address changes it as csum_replace4 on each of its words in turn would, full or partial', () => {
    fc.assert(
      fc.property(arbitraryPacket, fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.boolean(), fc.boolean(), (a, to, source, partial) => {
        const bytes = bytesOf(a);
        // the pseudo-header sum in the field: CHECKSUM_PARTIAL, unless it happens to verify
        if (partial) bytes.set([pseudoSum(a) >> 8, pseudoSum(a) & 0xff], 40 + (a.proto === IPPROTO.TCP ? 16 : 6));
        const p = Ipv6Packet.decode(bytes) as Ipv6Packet;
        fc.pre(p.csumPartial === partial);
        const from = source ? p.saddr : p.daddr;
        const handle = ipv6Handle(to);
        let expected = readU16(p.data, checkAt(p));
        for (let i = 0; i < 4; i++) expected = (p.csumPartial ? csumReplacePartial32 : csumReplace32)(expected, ipv6Word(from, i), ipv6Word(handle, i));
        if (p.proto === IPPROTO.UDP && expected === 0) expected = 0xffff;
        if (source) p.setSaddr(handle);
        else p.setDaddr(handle);
        expect(readU16(p.data, checkAt(p))).toBe(expected);
        expect(Array.from(p.data.subarray(source ? 8 : 24, source ? 24 : 40))).toEqual(Array.from(to));
        // the pseudo-header sum kept through the rewrite is the one summed afresh from the new bytes
        p.fillL4Checksum();
        const fresh = Ipv6Packet.decode(p.data) as Ipv6Packet;
        fresh.fillL4Checksum();
        expect(Array.from(p.data)).toEqual(Array.from(fresh.data));
      }),
      { numRuns: 300 },
    );
  });
});
