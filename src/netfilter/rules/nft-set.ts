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
  /**
   * Shared with every rule that names the set, so `add element` later reaches them too. Read-only
   * here: every change goes through addElement, replaceElement, removeElementAt or
   * flushElements (and collectExpired), which keep the set's lookup index (SetIndex) true.
   */
  readonly elements: readonly SetElement[];
  /** The garbage-collection tick that ran last (virtual ns), see collectExpired. */
  lastGc: number;
  /** Bumped by every change of `elements`: the index is good while its version matches. */
  version: number;
  index: SetIndex | null;
}

/**
 * How a set's elements are looked up, made at the first lookup after a change that moved
 * elements (a packet walked every element before: 17 times the replay's CPU with a
 * 20,000-address blocklist). It holds positions and the lookup reads the element there, so one
 * replaced in place is seen as it is.
 * - exact: every keyed element is an exact key; their positions by key, in the elements' order
 *   (the first live one is what the walk finds), as nft_set_hash looks up. An added element is
 *   filed in place.
 * - intervals: one field of numbers below 2^32 (no IPv6 handle: those are not in address
 *   order) or of strings (an IPv6 address's register, 32 hex digits in address order; an
 *   interface name, a wildcard `eth*` the range ['eth', 'eth\uffff']), ranges that do not
 *   overlap, as nft_set_rbtree holds them: sorted, searched by halves with the comparisons the
 *   walk makes; at most one element holds a value, so it is the one the walk finds.
 * - walk: a set of WALK_UP_TO elements or fewer (a rule's `{ tcp, udp }`: the walk costs less
 *   than making a concatenation's key), and anything else (overlapping ranges, such as a
 *   wildcard name beside a name it covers; a concatenation with ranges).
 */
type SetIndex =
  | { readonly kind: 'exact'; readonly version: number; readonly byKey: Map<number | string, number[]>; readonly catchAll: number[] }
  | { readonly kind: 'intervals'; readonly version: number; readonly mins: Bounds; readonly maxs: Bounds; readonly positions: Int32Array; readonly catchAll: readonly number[] }
  | { readonly kind: 'walk'; readonly version: number };

/** An interval index's range ends, sorted: numbers, or registers (strings) compared as the walk compares them. */
type Bounds = Float64Array | readonly string[];

/** nft_set_gc_interval: one second (HZ jiffies) unless `gc-interval` says otherwise. */
export const DEFAULT_GC_INTERVAL = 1e9;

/** The set or map a rule's `{ … }` makes: anonymous and constant, without timeouts. */
export function anonymousSet(key: readonly SetDatatype[], verdictMap: boolean, data: readonly SetDatatype[] | null = null): NftSet {
  return { name: null, key, verdictMap, data, flags: SetFlag.Constant, timeout: 0, size: 0, gcInterval: DEFAULT_GC_INTERVAL, counter: false, elements: [], lastGc: 0, version: 0, index: null };
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
  const index = setIndex(set);
  if (index.kind === 'walk') return walkElements(set, regs, now, catchAll);
  const elements = set.elements;
  if (index.kind === 'exact') {
    const positions = index.byKey.get(regsKey(regs, set.key.length));
    if (positions !== undefined) {
      for (const p of positions) if (!elementExpired(elements[p]!, now)) return elements[p];
    }
  } else {
    const p = intervalHolding(index, regs[0]!);
    if (p >= 0 && !elementExpired(elements[p]!, now)) return elements[p];
  }
  if (!catchAll) return undefined;
  let star: SetElement | undefined;
  for (const p of index.catchAll) if (!elementExpired(elements[p]!, now)) star = elements[p];
  return star;
}

/** findElement over every element in turn (SetIndex walk). */
function walkElements(set: NftSet, regs: ArrayLike<number | string>, now: number, catchAll: boolean): SetElement | undefined {
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
  const elements = mutable(set);
  let kept = 0;
  for (const e of elements) if (!elementExpired(e, tick)) elements[kept++] = e;
  if (kept === elements.length) return;
  elements.length = kept;
  set.version++;
}

/** Appends an element (a declaration's, `add element`, nft_dynset_new). */
export function addElement(set: NftSet, e: SetElement): void {
  const elements = mutable(set);
  elements.push(e);
  const index = set.index !== null && set.index.version === set.version ? set.index : null;
  set.version++;
  // an exact index files `e` in place if it is an exact key; otherwise the next lookup makes
  // the index again (a walked set may have grown past WALK_UP_TO)
  if (index !== null && index.kind === 'exact' && fileExact(index, e, elements.length - 1, set.key.length)) set.index = { ...index, version: set.version };
}

/** Puts `next` where `old` is (nft_dynset's delete marks an element dead in place): its key is old's. */
export function replaceElement(set: NftSet, old: SetElement, next: SetElement): void {
  const elements = mutable(set);
  elements[elements.indexOf(old)] = next;
  // the index holds positions, and the position holds the same key: it stays good
  const current = set.index !== null && set.index.version === set.version;
  set.version++;
  if (current) set.index = { ...set.index!, version: set.version };
}

/** Takes out the element at `at` (`delete element`). */
export function removeElementAt(set: NftSet, at: number): void {
  mutable(set).splice(at, 1);
  set.version++;
}

/** Empties the set (`flush set`). */
export function flushElements(set: NftSet): void {
  mutable(set).length = 0;
  set.version++;
}

/** The elements as the array they are, for the functions above that change them. */
function mutable(set: NftSet): SetElement[] {
  return set.elements as SetElement[];
}

/** The set's index, made again if the elements changed since. */
function setIndex(set: NftSet): SetIndex {
  if (set.index !== null && set.index.version === set.version) return set.index;
  set.index = (set.elements.length > WALK_UP_TO ? (exactIndex(set) ?? intervalIndex(set)) : null) ?? { kind: 'walk', version: set.version };
  return set.index;
}

/** Elements up to which a set is walked rather than indexed. */
const WALK_UP_TO = 8;

/** The exact index, or null when some keyed element is not an exact key. */
function exactIndex(set: NftSet): SetIndex | null {
  const index = { kind: 'exact' as const, version: set.version, byKey: new Map<number | string, number[]>(), catchAll: [] };
  for (let p = 0; p < set.elements.length; p++) if (!fileExact(index, set.elements[p]!, p, set.key.length)) return null;
  return index;
}

/** Files element `e` at position `p`; false when it is not an exact key of `fields` fields. */
function fileExact(index: Extract<SetIndex, { kind: 'exact' }>, e: SetElement, p: number, fields: number): boolean {
  if (e.key.length === 0) {
    index.catchAll.push(p);
    return true;
  }
  if (e.key.length !== fields || e.key.some((f) => f.min !== f.max)) return false;
  const key = fields === 1 ? e.key[0]!.min : e.key.map((f) => f.min).join(KEY_SEPARATOR);
  const positions = index.byKey.get(key);
  if (positions === undefined) index.byKey.set(key, [p]);
  else positions.push(p);
  return true;
}

/**
 * The interval index, or null when the set is not one field of disjoint ranges whose ends are
 * all numbers below 2^32 or all strings (a lookup's value is then of the same kind: the field's
 * register).
 */
function intervalIndex(set: NftSet): SetIndex | null {
  if (set.key.length !== 1) return null;
  const catchAll: number[] = [];
  const keyed: number[] = [];
  let numbers = 0;
  for (let p = 0; p < set.elements.length; p++) {
    const key = set.elements[p]!.key;
    if (key.length === 0) {
      catchAll.push(p);
      continue;
    }
    const { min, max } = key[0]!;
    if (typeof min === 'number' && typeof max === 'number' && max < 2 ** 32) numbers++;
    else if (typeof min !== 'string' || typeof max !== 'string') return null;
    keyed.push(p);
  }
  if (numbers !== 0 && numbers !== keyed.length) return null;
  // the walk's comparisons (holds): < and > on numbers, or on strings by code units
  const lo = (p: number): number => set.elements[p]!.key[0]!.min as number;
  const hi = (p: number): number => set.elements[p]!.key[0]!.max as number;
  keyed.sort((a, b) => (lo(a) < lo(b) ? -1 : lo(a) > lo(b) ? 1 : 0));
  for (let i = 1; i < keyed.length; i++) if (lo(keyed[i]!) <= hi(keyed[i - 1]!)) return null;
  const [mins, maxs]: [Bounds, Bounds] = numbers !== 0 ? [Float64Array.from(keyed, lo), Float64Array.from(keyed, hi)] : [keyed.map((p) => String(lo(p))), keyed.map((p) => String(hi(p)))];
  return { kind: 'intervals', version: set.version, mins, maxs, positions: Int32Array.from(keyed), catchAll };
}

/** The position of the element whose range holds `v`, or -1: the last range starting at or below it, if it reaches it. */
function intervalHolding(index: Extract<SetIndex, { kind: 'intervals' }>, v: number | string): number {
  // numbers against numbers or strings against strings (intervalIndex): one comparison, typed as numbers
  const mins = index.mins as ArrayLike<number>;
  const x = v as number;
  let a = 0;
  let b = mins.length;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (mins[mid]! <= x) a = mid + 1;
    else b = mid;
  }
  return a > 0 && x <= (index.maxs as ArrayLike<number>)[a - 1]! ? index.positions[a - 1]! : -1;
}

/** Joins a concatenation's fields into one map key: no field's text holds it (names hold no NUL). */
const KEY_SEPARATOR = '\u0000';

/** The map key of the registers' first `fields` values, as fileExact makes an element's. */
function regsKey(regs: ArrayLike<number | string>, fields: number): number | string {
  if (fields === 1) return regs[0]!;
  let key = String(regs[0]!);
  for (let f = 1; f < fields; f++) key += KEY_SEPARATOR + String(regs[f]!);
  return key;
}

/** The key type as nft prints it: `ipv4_addr . inet_proto . inet_service`. */
export function keyTypeText(types: readonly SetDatatype[]): string {
  return types.join(' . ');
}
