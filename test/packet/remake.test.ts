/**
 * A packet adopted into a spare (InetPacket.remake, as the capture replay reuses the packet of
 * its last record) is the packet a new parse gives: every field, whatever packet of either
 * family the spare held before, fragments, ICMP, extension headers and bad checksums included.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ipv4Packet } from '../../src/packet/ipv4.js';
import { Ipv6Packet } from '../../src/packet/ipv6.js';
import type { L3Packet } from '../../src/packet/l3-packet.js';

/** Bytes that an IPv4 or IPv6 parse takes: the version, the header and total lengths set, the rest drawn. */
const packetBytes = fc
  .record({
    v6: fc.boolean(),
    body: fc.uint8Array({ minLength: 48, maxLength: 160 }),
    ihl: fc.integer({ min: 5, max: 8 }),
    proto: fc.constantFrom(1, 6, 17, 58, 0, 43, 44, 60, 132),
    fragment: fc.boolean(),
  })
  .map(({ v6, body, ihl, proto, fragment }) => {
    const d = Uint8Array.from(body);
    if (v6) {
      d[0] = 0x60 | (d[0]! & 0x0f);
      d[4] = (d.length - 40) >> 8;
      d[5] = (d.length - 40) & 0xff;
      d[6] = proto;
    } else {
      d[0] = 0x40 | ihl;
      d[2] = d.length >> 8;
      d[3] = d.length & 0xff;
      if (!fragment) d[6] = d[7] = 0;
      d[9] = proto;
    }
    return d;
  });

function adopt(bytes: Uint8Array, spare: L3Packet | null): L3Packet | string {
  return bytes[0]! >> 4 === 6 ? Ipv6Packet.adopt(bytes, spare) : Ipv4Packet.adopt(bytes, spare);
}

/** Every field of the packet (the class's own), its bytes as an array. */
function fields(p: L3Packet): Record<string, unknown> {
  return { ...p, data: Array.from(p.data) };
}

describe('a packet adopted into a spare', () => {
  it('is the packet a new parse of its bytes gives, whatever the spare held', () => {
    fc.assert(
      fc.property(packetBytes, packetBytes, (before, bytes) => {
        const spare = adopt(before.slice(), null);
        const fresh = adopt(bytes.slice(), null);
        fc.pre(typeof spare !== 'string' && typeof fresh !== 'string');
        const remade = adopt(bytes.slice(), spare as L3Packet);
        expect(remade).toBe(spare);
        expect(fields(remade as L3Packet)).toEqual(fields(fresh as L3Packet));
      }),
      { numRuns: 400 },
    );
  });

  it('is left as it was when the bytes are refused', () => {
    const spare = Ipv4Packet.adopt(Uint8Array.from([0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0, 53, 0, 53, 0, 8, 0, 0])) as Ipv4Packet;
    const before = fields(spare);
    expect(Ipv4Packet.adopt(Uint8Array.from([0x45, 0, 0, 60, 0]), spare)).toBe('truncated');
    expect(fields(spare)).toEqual(before);
  });
});
