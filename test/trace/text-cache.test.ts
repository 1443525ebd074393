/**
 * TextCache keeps texts by three numbers: what it gives must be what `make` makes of those
 * numbers, whatever it kept before — numbers that share a slot, an IPv6 handle equal to an
 * IPv4 address modulo 2^32 (the hash sees them as one).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TextCache } from '../../src/trace/text-cache.js';

const make = (a: number, b: number, c: number): string => `${a}/${b}/${c}`;
// few numbers, so that keys repeat, and a 4-slot cache, so that they collide
const num = fc.constantFrom(0, 1, 443, 0x0a000001, 2 ** 32 + 1, 2 ** 32 + 0x0a000001);

describe('TextCache', () => {
  it("gives make's text for each key, in any order of keys", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(num, num, num), { maxLength: 80 }), (keys) => {
        const cache = new TextCache(2);
        for (const [a, b, c] of keys) expect(cache.of(a, b, c, make)).toBe(make(a, b, c));
      }),
      { numRuns: 300 },
    );
  });
});
