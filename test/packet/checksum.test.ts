/**
 * The ones-complement sum (packet/checksum.ts onesSum), byte by byte for a short region and in
 * WebAssembly SIMD (packet/ones-sum.ts) for a long one, against RFC 1071's plain word-by-word
 * definition, for any bytes, any start and end (odd ones included), any initial sum, a view at
 * any offset of a larger buffer (as a packet lies in a capture chunk) and an array longer than
 * the module's memory, and against RFC 1071's own example.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checksum, csumApply, csumApplyPartial, csumReplace32, csumReplacePartial32, onesSum, wordChange } from '../../src/packet/checksum.js';
import { ONES_SUM_WASM } from '../../src/packet/ones-sum-module.js';

/** RFC 1071 §4.1, one 16-bit word at a time with its end-around carry, a trailing odd byte padded with zero. */
function reference(data: Uint8Array, start: number, end: number, initial: number): number {
  let sum = initial;
  for (let i = start; i < end; i += 2) {
    sum += (data[i]! << 8) | (i + 1 < end ? data[i + 1]! : 0);
    if (sum > 0xffff) sum -= 0xffff;
  }
  return sum;
}

/** `length` bytes from a xorshift32 generator started at `seed`. */
function bytesFrom(seed: number, length: number): Uint8Array {
  const data = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = x & 0xff;
  }
  return data;
}

describe('onesSum', () => {
  it('equals the word-by-word sum of RFC 1071 for any region and initial sum', () => {
    const region = fc.uint8Array({ maxLength: 1600 }).chain((data) =>
      fc.tuple(fc.constant(data), fc.nat({ max: data.length }), fc.nat({ max: data.length }), fc.nat({ max: 0xffff })),
    );
    fc.assert(
      fc.property(region, ([data, a, b, initial]) => {
        const [start, end] = a <= b ? [a, b] : [b, a];
        expect(onesSum(data, start, end, initial)).toBe(reference(data, start, end, initial));
      }),
      { numRuns: 500 },
    );
  });

  it('sums a view at any offset of its buffer, views of two buffers in turn', () => {
    const region = fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 1600 }), fc.nat({ max: 7 }), fc.uint8Array({ maxLength: 100 }));
    fc.assert(
      fc.property(region, ([bytes, at, other]) => {
        const buffer = new Uint8Array(at + bytes.length + 3).fill(0xa5);
        buffer.set(bytes, at);
        const view = buffer.subarray(at, at + bytes.length);
        expect(onesSum(other, 0, other.length)).toBe(reference(other, 0, other.length, 0));
        expect(onesSum(view, 1, view.length, 7)).toBe(reference(bytes, 1, bytes.length, 7));
        expect(onesSum(view, 0, view.length)).toBe(reference(bytes, 0, bytes.length, 0));
      }),
      { numRuns: 300 },
    );
  });

  it('gives RFC 1071 §3\'s example sum (00 01 f2 03 f4 f5 f6 f7 → ddf2)', () => {
    const data = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(onesSum(data, 0, 8)).toBe(0xddf2);
    expect(checksum(data, 0, 8)).toBe(~0xddf2 & 0xffff);
  });

  it('sums an array longer than the WebAssembly memory in pieces, from any start', () => {
    // the bytes drawn from a seed: fast-check draws a 300,000-element array an element at a time
    const longer = fc.tuple(fc.integer({ min: 140_000, max: 300_000 }), fc.integer(), fc.nat({ max: 70_000 }), fc.nat({ max: 0xffff }));
    fc.assert(
      fc.property(longer, ([length, seed, start, initial]) => {
        const data = bytesFrom(seed, length);
        expect(onesSum(data, start, data.length, initial)).toBe(reference(data, start, data.length, initial));
        expect(onesSum(data, start + 1, data.length - 1, initial)).toBe(reference(data, start + 1, data.length - 1, initial));
      }),
      { numRuns: 20 },
    );
  });

  it('sums a 64 KiB region of 0xff bytes without losing a carry', () => {
    const data = new Uint8Array(65535).fill(0xff);
    expect(onesSum(data, 0, data.length)).toBe(reference(data, 0, data.length, 0));
    const whole = new Uint8Array(2 * 65536).fill(0xff);
    expect(onesSum(whole, 0, whole.length)).toBe(reference(whole, 0, whole.length, 0));
  });

  it('refuses a long region past the end of its bytes (the module\'s memory holds older ones there)', () => {
    const data = new Uint8Array(100).fill(1);
    expect(() => onesSum(data, 0, 102)).toThrow(RangeError);
    expect(() => onesSum(data.subarray(0, 80), 0, 81)).toThrow(RangeError);
  });

  it('runs the module assembled from ones-sum.wat (scripts/wasm.mjs wrote ones-sum-module.ts from it)', async () => {
    const { assembleOnesSum } = await import('../../scripts/wasm.mjs');
    expect(Buffer.from(await assembleOnesSum()).toString('base64')).toBe(ONES_SUM_WASM);
  });
});

describe('the change of several words folded once (inet_proto_csum_replace16)', () => {
  const words = fc.array(fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff })), { minLength: 1, maxLength: 4 });

  it('gives what csum_replace4 word after word gives, on a full checksum and a partial one', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffff }), words, (check, pairs) => {
        const change = pairs.reduce((sum, [from, to]) => sum + wordChange(from, to), 0);
        expect(csumApply(check, change)).toBe(pairs.reduce((c, [from, to]) => csumReplace32(c, from, to), check));
        expect(csumApplyPartial(check, change)).toBe(pairs.reduce((c, [from, to]) => csumReplacePartial32(c, from, to), check));
      }),
      { numRuns: 1000 },
    );
  });
});
