/**
 * nf_tables sets and maps: a key of one field or a concatenation of several, elements compared
 * field by field, and for a map the verdict each element carries (natsim models verdict maps,
 * the data kube-proxy's vmaps hold). One element model stands for the kernel's backends, which
 * agree on what matches: exact keys (nft_set_hash.c), intervals of a single field with `flags
 * interval` (nft_set_rbtree.c), and ranges per field of a concatenation (nft_set_pipapo.c).
 * Elements may time out (NFT_SET_EXT_TIMEOUT): an expired element matches nothing, and
 * nft_rhash_gc takes it out of the set a garbage-collection interval later.
 * A catch-all element (`*`, NFT_SET_ELEM_CATCHALL) has no key: a lookup that finds no other
 * element takes it (nft_set_catchall_lookup), the backends' update (nft_dynset) never does.
 * The lookup is nft_lookup_eval (net/netfilter/nft_lookup.c).
 */
import type { RuleContext } from './context.js';
import type { NftExpr, Rule, VerdictAction } from './model.js';
import type { FieldRange, SetDatatype } from './nft-datatype.js';

export type { FieldRange, SetDatatype } from './nft-datatype.js';

/** The NFT_SET_* flags (include/uapi/linux/netfilter/nf_tables.h) natsim acts on. */
export const SetFlag = {
  Constant: 0x2,
  Interval: 0x4,
  Timeout: 0x10,
  /** `dynamic`: rules add elements (nft_dynset); only the hash backend can (nft_set_rhash_type). */
  Eval: 0x20,
} as const;

/** The set flag words nft prints, and their bits. */
export const SET_FLAG_BY_WORD: Readonly<Record<string, number>> = { constant: SetFlag.Constant, interval: SetFlag.Interval, timeout: SetFlag.Timeout, dynamic: SetFlag.Eval };

/** NFT_SET_EXT_TIMEOUT of an element that expires: its timeout and when it runs out (virtual ns). */
export interface ElementExpiry {
  readonly timeout: number;
  /** Moved on by `update @set` (nft_dynset_eval). */
  expiration: number;
}

export interface SetElement {
  /** A range per key field; empty for the catch-all element (`*`). */
  readonly key: readonly FieldRange[];
  /** A verdict map's data; null in a set. */
  readonly verdict: VerdictAction | null;
  /** A data map's value, a range per data field (`: 10.0.0.1 . 80`, `: 10.0.0.1-10.0.0.9`); null otherwise. */
  readonly data: readonly FieldRange[] | null;
  /** null: the element never expires (no timeout extension, or a timeout of 0). */
  readonly expiry: ElementExpiry | null;
  /**
   * NFT_SET_EXT_EXPRESSIONS that change what a rule does (an element's own `limit`, which
   * nft_dynset_expr_setup cloned for it), run by nft_set_elem_update_expr when the element is
   * found. Counters are left out: they count and change nothing.
   */
  readonly exprs?: readonly NftExpr[];
}

export interface NftSet {
  /** null for an anonymous set (`{ … }` written in the rule). */
  readonly name: string | null;
  readonly key: readonly SetDatatype[];
  /** A verdict map (`type … : verdict`, or an anonymous `vmap { … }`). */
  readonly verdictMap: boolean;
  /** A data map's data fields (`type ipv4_addr : ipv4_addr . inet_service`); null for a set or verdict map. */
  readonly data: readonly SetDatatype[] | null;
  /** SetFlag bits. */
  readonly flags: number;
  /** The elements' default timeout (`timeout 3h`), ns; 0 for none. */
  readonly timeout: number;
  /** `size N`: the most elements rules may add; 0 when not declared. */
  readonly size: number;
  /** `gc-interval`, ns: how often nft_rhash_gc collects expired elements. */
  readonly gcInterval: number;
  /** `counter` in the declaration: every element gets one (set->exprs), the statement a rule's add or update must then give. */
  readonly counter: boolean;
  /** Shared with every rule that names the set, so `add element` later reaches them too. */
  readonly elements: SetElement[];
  /** The garbage-collection tick that ran last (virtual ns), see collectExpired. */
  lastGc: number;
}

/** nft_set_gc_interval: one second (HZ jiffies) unless `gc-interval` says otherwise. */
export const DEFAULT_GC_INTERVAL = 1e9;

/** The set or map a rule's `{ … }` makes: anonymous and constant, without timeouts. */
export function anonymousSet(key: readonly SetDatatype[], verdictMap: boolean, data: readonly SetDatatype[] | null = null): NftSet {
  return { name: null, key, verdictMap, data, flags: SetFlag.Constant, timeout: 0, size: 0, gcInterval: DEFAULT_GC_INTERVAL, counter: false, elements: [], lastGc: 0 };
}

/** __nft_set_elem_expired: the element has a timeout and `now` has reached its expiration. */
function elementExpired(e: SetElement, now: number): boolean {
  return e.expiry !== null && now >= e.expiry.expiration;
}

/**
 * nft_lookup_eval's element: the live element holding the key (the registers `regs`, one per
 * field), each field within its element's range, else the live catch-all element; undefined
 * for none. Expired elements are skipped, as nft_rhash_cmp does.
 */
export function setLookup(set: NftSet, regs: ArrayLike<number | string>, now: number): SetElement | undefined {
  return findElement(set, regs, now, true);
}

/**
 * The backend's own lookup (set->ops->update in nft_dynset_eval): `catchAll` false leaves the
 * catch-all element out, as nft_rhash_update does.
 */
export function findElement(set: NftSet, regs: ArrayLike<number | string>, now: number, catchAll = false): SetElement | undefined {
  const elements = set.elements;
  let star: SetElement | undefined;
  for (let i = 0; i < elements.length; i++) {
    const e = elements[i]!;
    if (e.key.length === 0) {
      if (catchAll && !elementExpired(e, now)) star = e;
    } else if (holds(e, regs) && !elementExpired(e, now)) return e;
  }
  return star;
}

/**
 * nft_lookup_eval without NFT_LOOKUP_F_INV (a set match, a map's data or verdict): the element
 * the key (null: a field that did not load) finds, once its expressions have let the rule go on
 * (nft_set_elem_update_expr); undefined for NFT_BREAK.
 */
export function lookupEval(set: NftSet, regs: ArrayLike<number | string> | null, ctx: RuleContext, rule: Rule): SetElement | undefined {
  if (regs === null) return undefined;
  const e = setLookup(set, regs, ctx.skb.time);
  return e !== undefined && elementExprsPass(e, ctx, rule) ? e : undefined;
}

/** nft_set_elem_update_expr: the element's expressions in turn; false when one ends the rule (NFT_BREAK). */
export function elementExprsPass(e: SetElement, ctx: RuleContext, rule: Rule): boolean {
  const exprs = e.exprs;
  if (exprs) for (const x of exprs) if (!x.eval(ctx, rule)) return false;
  return true;
}

function holds(e: SetElement, regs: ArrayLike<number | string>): boolean {
  const key = e.key;
  for (let f = 0; f < key.length; f++) {
    const v = regs[f]!;
    if (v < key[f]!.min || v > key[f]!.max) return false;
  }
  return true;
}

/**
 * nft_rhash_gc, run every gcInterval from the time the ruleset was loaded (virtual time 0): the
 * ticks due by `now` take out every element that had expired at the last of them. Until then
 * an expired element still counts against the set's size, as it does in the kernel.
 */
export function collectExpired(set: NftSet, now: number): void {
  const tick = Math.floor(now / set.gcInterval) * set.gcInterval;
  if (tick <= set.lastGc) return;
  set.lastGc = tick;
  let kept = 0;
  for (const e of set.elements) if (!elementExpired(e, tick)) set.elements[kept++] = e;
  set.elements.length = kept;
}

/** The key type as nft prints it: `ipv4_addr . inet_proto . inet_service`. */
export function keyTypeText(types: readonly SetDatatype[]): string {
  return types.join(' . ');
}
