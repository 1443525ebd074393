/**
 * The kernel style keeps each entry's conntrack line (CtLines) and makes its long-lived texts
 * flat (flatText): what it prints must be what ctLine makes of the view at hand, whatever was
 * kept before — an entry whose ctinfo, state or tuples changed, another entry in its slot.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CtLines, ctLine } from '../../src/trace/kernel-style.js';
import { flatText } from '../../src/trace/flat-text.js';
import type { CtView, TupleView } from '../../src/trace/events.js';

// few values of each field, so that views repeat, differ in one field, or share a slot (ids 1 << 12 or 1 << 13 apart)
const tuples: TupleView[] = [
  { src: 0x0a000001, srcU: 41000, dst: 0x08080808, dstU: 443, proto: 6 },
  { src: 0x08080808, srcU: 443, dst: 0xcb007101, dstU: 41000, proto: 6 },
  { src: 0x0a000001, srcU: 7, dst: 0x08080808, dstU: 0x0800, proto: 1 },
];
const view: fc.Arbitrary<CtView> = fc.record({
  id: fc.constantFrom(1, 2, 1 + (1 << 12), 1 + (1 << 13)),
  ctinfo: fc.constantFrom(0, 3),
  orig: fc.constantFrom(...tuples),
  reply: fc.constantFrom(...tuples),
  status: fc.constant(0),
  tcpState: fc.constantFrom(null, 'SYN_SENT', 'ESTABLISHED'),
});

describe('CtLines', () => {
  it("gives ctLine's text for each view, in any order of views", () => {
    fc.assert(
      fc.property(fc.array(view, { maxLength: 60 }), (views) => {
        const lines = new CtLines();
        for (const v of views) expect(lines.of(v)).toBe(ctLine(v));
      }),
      { numRuns: 300 },
    );
  });
});

describe('flatText', () => {
  it('is the text it is given', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 8 }), (pieces) => {
        const joined = pieces.join('');
        expect(flatText(pieces.reduce((a, b) => a + b, ''))).toBe(joined);
      }),
      { numRuns: 200 },
    );
  });
});
