/**
 * SipHash as lib/siphash.c computes it, for ip_vs_mh.c's hsiphash(). On 64-bit kernels
 * hsiphash is not HalfSipHash: it is SipHash-1-3 over 64-bit words with a key of two unsigned
 * longs, its 64-bit result truncated to u32 (the BITS_PER_LONG == 64 branch of siphash.c).
 * natsim models an x86-64 host, so that is the variant here; 32-bit kernels would differ.
 * The core also runs SipHash-2-4 so it can be checked against the reference vectors.
 */

const MASK64 = (1n << 64n) - 1n;

/** SIPHASH_CONST_0..3 ("somepseudorandomlygeneratedbytes"). */
const C0 = 0x736f6d6570736575n;
const C1 = 0x646f72616e646f6dn;
const C2 = 0x6c7967656e657261n;
const C3 = 0x7465646279746573n;

/** siphash_key_t / 64-bit hsiphash_key_t: key[0], key[1]. */
export interface SipKey {
  readonly k0: bigint;
  readonly k1: bigint;
}

interface SipState {
  v0: bigint;
  v1: bigint;
  v2: bigint;
  v3: bigint;
}

function rol64(x: bigint, r: bigint): bigint {
  return ((x << r) | (x >> (64n - r))) & MASK64;
}

/** SIPHASH_PERMUTATION. */
function sipRound(s: SipState): void {
  s.v0 = (s.v0 + s.v1) & MASK64; s.v1 = rol64(s.v1, 13n); s.v1 ^= s.v0; s.v0 = rol64(s.v0, 32n);
  s.v2 = (s.v2 + s.v3) & MASK64; s.v3 = rol64(s.v3, 16n); s.v3 ^= s.v2;
  s.v0 = (s.v0 + s.v3) & MASK64; s.v3 = rol64(s.v3, 21n); s.v3 ^= s.v0;
  s.v2 = (s.v2 + s.v1) & MASK64; s.v1 = rol64(s.v1, 17n); s.v1 ^= s.v2; s.v2 = rol64(s.v2, 32n);
}

function rounds(s: SipState, n: number): void {
  for (let i = 0; i < n; i++) sipRound(s);
}

/** Little-endian u64 from `len` (≤ 8) bytes at `at`, as get_unaligned_le64 / the tail switch. */
function readLe(data: Uint8Array, at: number, len: number): bigint {
  let m = 0n;
  for (let i = len - 1; i >= 0; i--) m = (m << 8n) | BigInt(data[at + i]!);
  return m;
}

/**
 * __siphash_unaligned / __hsiphash_unaligned with `c` compression and `d` finalisation rounds:
 * PREAMBLE, the 8-byte blocks, the tail with the length in the top byte, POSTAMBLE.
 */
export function sipHashCD(data: Uint8Array, key: SipKey, c: number, d: number): bigint {
  const s: SipState = { v0: C0 ^ key.k0, v1: C1 ^ key.k1, v2: C2 ^ key.k0, v3: C3 ^ key.k1 };
  const whole = data.length - (data.length % 8);
  for (let at = 0; at < whole; at += 8) {
    const m = readLe(data, at, 8);
    s.v3 ^= m;
    rounds(s, c);
    s.v0 ^= m;
  }
  const b = ((BigInt(data.length) << 56n) | readLe(data, whole, data.length - whole)) & MASK64;
  s.v3 ^= b;
  rounds(s, c);
  s.v0 ^= b;
  s.v2 ^= 0xffn;
  rounds(s, d);
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

/** hsiphash() on a 64-bit kernel: SipHash-1-3, returned as u32. */
export function hsiphash(data: Uint8Array, key: SipKey): number {
  return Number(sipHashCD(data, key, 1, 3) & 0xffffffffn);
}
