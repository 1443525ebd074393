/**
 * The run's seeded random source. Every random choice the kernel makes (NAT port offset,
 * conntrack ids, ...) draws from here, so one seed gives byte-identical output.
 * xoshiro128** seeded through splitmix32.
 */
export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(
    /** The seed this source started from. */
    readonly seed: number,
  ) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** A uniformly distributed unsigned 32-bit number. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    return result;
  }

  /** get_random_u16 */
  u16(): number {
    return this.u32() & 0xffff;
  }

  /** A number in [0, n) (n ≤ 2^32). */
  below(n: number): number {
    return Math.floor((this.u32() / 0x100000000) * n);
  }
}

/**
 * The seed of a stream of draws of its own (`label`: what it is for, and whose), from the
 * run's seed: draws the kernel makes apart from its get_random_* calls (which CPU runs a
 * packet, a boot's hash key) must not move the run's other draws.
 */
export function streamSeed(seed: number, label: string): number {
  let h = (seed ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
