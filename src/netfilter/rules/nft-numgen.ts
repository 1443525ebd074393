/**
 * `numgen random|inc mod N [offset K]` (net/netfilter/nft_numgen.c): a number in
 * [K, K + N). random draws once per evaluation from the run's seeded PRNG, as nft_ng_random_gen
 * does with get_random_u32() scaled by reciprocal_scale(); inc counts round the modulus from a
 * counter that nft_ng_inc_init starts at N - 1, so the first packet gets K.
 */
import type { RuleContext } from './context.js';
import type { KeyExpr } from './model.js';
import type { NftCursor } from './nft-tokens.js';
import { parseU32 } from './syntax.js';

type Numgen = Extract<KeyExpr, { kind: 'numgen' }>;

/** nft_ng_random_eval / nft_ng_inc_eval. */
export function numgenValue(ng: Numgen, ctx: RuleContext): number {
  if (ng.mode === 'random') return ctx.followedNumgen(ng) ?? reciprocalScale(ctx.randomU32(), ng.modulus) + ng.offset;
  ng.counter.value = ng.counter.value + 1 < ng.modulus ? ng.counter.value + 1 : 0;
  return ng.counter.value + ng.offset;
}

/** reciprocal_scale (include/linux/math.h): ((u64)val * ep_ro) >> 32. */
function reciprocalScale(val: number, epRo: number): number {
  return Number((BigInt(val) * BigInt(epRo)) >> 32n);
}

/** After `numgen`: random|inc mod N [offset K], refused as nft_ng_*_init refuses (ERANGE, EOVERFLOW). */
export function readNumgen(cur: NftCursor): Numgen {
  const modeTok = cur.next();
  if (modeTok.text !== 'random' && modeTok.text !== 'inc') cur.fail(modeTok, `unsupported numgen type '${modeTok.text}' (random, inc)`);
  cur.expect('mod');
  const modTok = cur.next();
  const modulus = parseU32(modTok.text) ?? cur.fail(modTok, `expected a modulus, found '${modTok.text}'`);
  if (modulus === 0) cur.fail(modTok, 'numgen modulus must be at least 1');
  let offset = 0;
  if (cur.peek().text === 'offset') {
    cur.next();
    const offTok = cur.next();
    offset = parseU32(offTok.text) ?? cur.fail(offTok, `expected an offset, found '${offTok.text}'`);
    if (offset + modulus - 1 > 0xffffffff) cur.fail(offTok, 'numgen offset + modulus overflows 32 bits');
  }
  return { kind: 'numgen', mode: modeTok.text, modulus, offset, counter: { value: modulus - 1 } };
}
