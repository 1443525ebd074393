/**
 * Which rules of a chain a packet can match, by its destination address. The kernel walks a
 * chain rule by rule (ipt_do_table, nft_do_chain) — that is why a kube-proxy node with
 * thousands of Services is slow. natsim gives every verdict, mark, random draw and trace line
 * that walk gives, but skips the rules that cannot match: a rule that asks for exact
 * destination addresses (`-d VIP/32`, `ip daddr { a, b }`) fails for any other destination,
 * and when no match before that one has an effect (`-m statistic`, `-m recent`, `update @set`,
 * `numgen`), skipping it changes nothing. KUBE-SERVICES is such a chain: a packet to no
 * Service meets none of it.
 *
 * The index holds, for each such address, the positions of its rules merged with those of the
 * rules that may match anything, in chain order; built once per chain, when first walked.
 */
import { NFPROTO_IPV6, type Chain, type KeyExpr, type Match, type Rule } from './model.js';
import { SetFlag, type SetElement } from './nft-set.js';
import { isIpv6 } from '../../packet/ipv6-addr.js';

/** Below this many rules a chain is walked whole: the index would not pay for itself. */
const MIN_RULES = 32;
/** Merged lists cost (addresses × other rules) entries; beyond this the chain is walked whole. */
const MAX_ENTRIES = 1 << 17;

/** Ascending rule positions: the candidates for one destination. */
export type Positions = readonly number[];

class DestIndex {
  constructor(
    private readonly byDest: ReadonlyMap<number, Positions>,
    /** The rules that may match any destination (for a destination no rule names). */
    private readonly anyDest: Positions,
  ) {}

  candidates(daddr: number): Positions {
    return this.byDest.get(daddr >>> 0) ?? this.anyDest;
  }
}

const built = new WeakMap<Chain, DestIndex | null>();

/**
 * The positions of `chain`'s rules a packet to `daddr` can match, or null: walk them all. The
 * index is of IPv4 destinations: an IPv6 packet walks the chain whole.
 */
export function candidateRules(chain: Chain, daddr: number): Positions | null {
  if (isIpv6(daddr)) return null;
  let index = built.get(chain);
  if (index === undefined) {
    index = buildIndex(chain.rules);
    built.set(chain, index);
  }
  return index === null ? null : index.candidates(daddr);
}

function buildIndex(rules: readonly Rule[]): DestIndex | null {
  if (rules.length < MIN_RULES) return null;
  const exact = new Map<number, number[]>();
  const anyDest: number[] = [];
  rules.forEach((rule, i) => {
    // an inet table's IPv6 rule (nft's meta nfproto ipv6 dependency) never holds for an IPv4 packet
    if (ipv6Only(rule)) return;
    const dests = exactDestinations(rule);
    if (dests === null) anyDest.push(i);
    else for (const d of dests) (exact.get(d) ?? exact.set(d, []).get(d)!).push(i);
  });
  if (exact.size === 0 || exact.size * anyDest.length > MAX_ENTRIES) return null;
  const byDest = new Map<number, Positions>();
  for (const [d, own] of exact) byDest.set(d, mergeAscending(own, anyDest));
  return new DestIndex(byDest, anyDest);
}

/**
 * The addresses a rule requires the destination to be one of, when a positive match of /32
 * prefixes says so before any match with an effect; null when the rule may match any.
 */
function exactDestinations(rule: Rule): readonly number[] | null {
  for (const m of rule.matches) {
    if (m.kind === 'daddr' && !m.negate && m.prefixes.every((p) => p.len === 32)) return m.prefixes.map((p) => p.addr >>> 0);
    if (hasEffect(m)) return null;
  }
  return null;
}

/**
 * Matches that change state when evaluated, so the walk must reach them as the kernel does:
 * -m statistic, -m recent, nft dynset, a lookup whose key draws a `numgen` or `meta random` or
 * whose dynamic set's elements may carry statements, and the stateful
 * x_tables modules (-m limit, -m hashlimit, -m nfacct).
 */
/**
 * A rule with a key that never loads for IPv4 (ip6 …, icmpv6 …, nft's `meta nfproto ipv6`
 * dependency): it breaks before any later match runs.
 */
function ipv6Only(rule: Rule): boolean {
  for (const m of rule.matches) {
    if (m.kind === 'lookup' && m.key.some((k) => (k.kind === 'payload' && k.nfproto === NFPROTO_IPV6) || isNfprotoIpv6(m.key, m.set.elements))) return true;
    if (hasEffect(m)) return false;
  }
  return false;
}

/** `meta nfproto ipv6`: the key is the family alone, and the set holds IPv6 alone. */
function isNfprotoIpv6(key: readonly KeyExpr[], elements: readonly SetElement[]): boolean {
  const k = key[0]!;
  return key.length === 1 && k.kind === 'meta' && k.key === 'nfproto' && elements.length > 0 && elements.every((e) => e.key[0]!.min === NFPROTO_IPV6 && e.key[0]!.max === NFPROTO_IPV6);
}

function hasEffect(m: Match): boolean {
  // a dynamic set's elements may carry statements (`update @s { ip saddr limit … }`) the lookup runs
  if (m.kind === 'lookup') return m.key.some(drawsRandom) || (m.set.flags & SetFlag.Eval) !== 0;
  if (m.kind === 'xt') return m.module.stateful;
  if (m.kind === 'nft') return m.expr.stateful;
  return m.kind === 'random' || m.kind === 'nth' || m.kind === 'dynset' || m.kind === 'recent';
}

/** A key that draws a random number (`numgen random|inc`, `meta random`, also under `& MASK`). */
function drawsRandom(k: KeyExpr): boolean {
  if (k.kind === 'bitwise') return drawsRandom(k.of) || (k.by !== undefined && drawsRandom(k.by.expr));
  return k.kind === 'numgen' || (k.kind === 'meta' && k.key === 'random');
}

function mergeAscending(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]! < b[j]!)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}
