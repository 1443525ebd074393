/**
 * Texts made from three numbers, kept by those numbers (direct-mapped: a text replaces the one
 * in its slot). A flow's packets print the same pieces on every line that shows them (its
 * addresses, its ports): each is made, and made flat, once while its flow goes on, rather than
 * formatted again as a tree of pieces on each line (flat-text.ts).
 */
import { flatText } from './flat-text.js';

export class TextCache {
  /** The three numbers of each slot's text; NaN, equal to nothing, while the slot is empty. */
  private readonly keys: Float64Array;
  private readonly texts: string[];

  /** 2^bits slots. */
  constructor(private readonly bits: number) {
    this.keys = new Float64Array(3 << bits).fill(NaN);
    this.texts = new Array<string>(1 << bits).fill('');
  }

  /** The text of (a, b, c): the one kept, or `make`'s, then kept. */
  of(a: number, b: number, c: number, make: (a: number, b: number, c: number) => string): string {
    // `| 0` takes a number modulo 2^32 (an IPv6 handle: its index), as a hash needs no more
    const slot = (Math.imul(a | 0, 0x9e3779b1) + Math.imul(b | 0, 0x85ebca6b) + (c | 0)) >>> (32 - this.bits);
    const k = 3 * slot;
    const { keys } = this;
    if (keys[k] === a && keys[k + 1] === b && keys[k + 2] === c) return this.texts[slot]!;
    const text = flatText(make(a, b, c));
    keys[k] = a;
    keys[k + 1] = b;
    keys[k + 2] = c;
    this.texts[slot] = text;
    return text;
  }
}
