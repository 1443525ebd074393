/**
 * The ones-complement sum of a long region in WebAssembly SIMD (ones-sum.wat), sixteen bytes a
 * turn where the DataView loop it replaced read a 32-bit word at a time: nf_checksum sums every
 * received packet's payload, the replay's longest loop. WebAssembly reads only its own memory, so the
 * bytes are copied into it first (a memcpy, cheaper than the loop it replaces).
 */
import { ONES_SUM_WASM } from './ones-sum-module.js';

// lib ES2022 declares no WebAssembly (a DOM and Node global): the two constructors used here
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: object };
};

interface OnesSumExports {
  readonly memory: { readonly buffer: ArrayBuffer };
  /** The sum of memory bytes [start, end), folded to 16 bits, as big-endian words. */
  readonly sum: (start: number, end: number) => number;
}

/**
 * The sum of data[start, end) as big-endian 16-bit words, folded to 16 bits; null where this
 * Node has no WebAssembly (`node --jitless`), and onesSum sums bytes in JavaScript instead.
 */
export const simdOnesSum: ((data: Uint8Array, start: number, end: number) => number) | null = typeof WebAssembly === 'undefined' ? null : moduleSum();

function moduleSum(): (data: Uint8Array, start: number, end: number) => number {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(ONES_SUM_WASM, 'base64')));
  const { memory, sum } = instance.exports as OnesSumExports;
  // the module's memory never grows (its maximum is its size), so this view stays valid
  const memoryBytes = new Uint8Array(memory.buffer);
  // An array that fits in the module's memory is copied whole (a packet: no view to make); a
  // longer one in pieces of the memory's even length, so each piece's words are the region's.
  return (data, start, end) => {
    // the memory holds the last packet's bytes past this one's end: a region past it would sum them
    if (!(start >= 0 && end <= data.length)) throw new RangeError(`bug: a sum of bytes [${start}, ${end}) of ${data.length}`);
    if (data.length <= memoryBytes.length) {
      memoryBytes.set(data);
      return sum(start, end);
    }
    let total = 0;
    for (let at = start; at < end; at += memoryBytes.length) {
      const stop = Math.min(end, at + memoryBytes.length);
      memoryBytes.set(data.subarray(at, stop));
      total += sum(0, stop - at);
    }
    return total;
  };
}
