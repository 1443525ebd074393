/**
 * Bob Jenkins' lookup3 hash as the kernel has it (include/linux/jhash.h jhash2), and
 * reciprocal_scale (include/linux/kernel.h). find_best_ips_proto hashes with it, so natsim's
 * choice among several NAT addresses is the kernel's.
 */

const JHASH_INITVAL = 0xdeadbeef;

function rol32(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

/** jhash2 over 32-bit words. */
export function jhash2(words: readonly number[], initval: number): number {
  let n = words.length;
  let a = (JHASH_INITVAL + (n << 2) + initval) >>> 0;
  let b = a;
  let c = a;
  let i = 0;
  while (n > 3) {
    a = (a + words[i]!) >>> 0;
    b = (b + words[i + 1]!) >>> 0;
    c = (c + words[i + 2]!) >>> 0;
    // __jhash_mix
    a = (a - c) >>> 0; a = (a ^ rol32(c, 4)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rol32(a, 6)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rol32(b, 8)) >>> 0; b = (b + a) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rol32(c, 16)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rol32(a, 19)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rol32(b, 4)) >>> 0; b = (b + a) >>> 0;
    n -= 3;
    i += 3;
  }
  if (n === 0) return c;
  if (n === 3) c = (c + words[i + 2]!) >>> 0;
  if (n >= 2) b = (b + words[i + 1]!) >>> 0;
  a = (a + words[i]!) >>> 0;
  // __jhash_final
  c = (c ^ b) >>> 0; c = (c - rol32(b, 14)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol32(c, 11)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol32(a, 25)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol32(b, 16)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol32(c, 4)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol32(a, 14)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol32(b, 24)) >>> 0;
  return c;
}

/** reciprocal_scale: map a 32-bit value onto [0, range) as ((u64)val * range) >> 32. */
export function reciprocalScale(val: number, range: number): number {
  // The 64-bit product does not fit a double exactly: multiply by the two halves of `range`.
  const high = val * (range >>> 16);
  const low = val * (range & 0xffff);
  return Math.floor((high + Math.floor(low / 0x10000)) / 0x10000) >>> 0;
}

/**
 * An IPv4 address (host order) as the u32 the kernel hashes on a little-endian machine: the
 * four network-order bytes read little-endian.
 */
export function rawLe32(addr: number): number {
  return (((addr & 0xff) << 24) | ((addr & 0xff00) << 8) | ((addr >>> 8) & 0xff00) | (addr >>> 24)) >>> 0;
}
