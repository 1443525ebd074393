/** flatText only changes how V8 holds a text: what it gives is the text it is given. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flatText } from '../../src/trace/flat-text.js';

describe('flatText', () => {
  it('is the text it is given, made of pieces or not', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 8 }), (pieces) => {
        expect(flatText(pieces.reduce((a, b) => a + b, ''))).toBe(pieces.join(''));
      }),
      { numRuns: 200 },
    );
  });
});
