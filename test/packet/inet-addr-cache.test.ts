/**
 * formatInetAddr keeps the text of the addresses it formatted last (a bounded, direct-mapped
 * cache): whatever the order addresses come in — the same one again, another in its slot,
 * either family — it says what the uncached formatters say.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatInetAddr } from '../../src/packet/inet-addr.js';
import { formatIpv4 } from '../../src/packet/ipv4-addr.js';
import { formatIpv6, handleOfWords } from '../../src/packet/ipv6-addr.js';

const uncached = (addr: number): string => (addr >= 2 ** 32 ? formatIpv6(addr) : formatIpv4(addr));

/** An IPv4 address, or the same with other top bytes: those share its slot, so each replaces the other there. */
const ipv4 = fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 3 })).map(([a, k]) => (a ^ (k << 24)) >>> 0);
const ipv6 = fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), fc.nat({ max: 3 }), fc.nat({ max: 3 })).map(([w0, w3, w1, w2]) => handleOfWords(Uint32Array.of(w0, w1, w2, w3)));

describe('the address text cache', () => {
  it('formats as the uncached formatters, in any order of addresses', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(ipv4, ipv6, fc.constantFrom(0, 0xffffffff, 0x0a000001, 0x0a000001 ^ 0x01000000)), { maxLength: 60 }), (addrs) => {
        for (const a of [...addrs, ...addrs.reverse()]) expect(formatInetAddr(a)).toBe(uncached(a));
      }),
      { numRuns: 300 },
    );
  });
});
