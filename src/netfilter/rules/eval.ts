/**
 * Rule evaluation as nft_do_chain / ipt_do_table do it: rules in order, every match must hold,
 * jump/goto/return through regular chains, and the base chain's policy when nothing decided.
 * NAT statements are terminal and act through a callback (the NAT core owns the connection).
 */
import { Verdict } from '../constants.js';
import { inPrefix } from '../../packet/ipv4-addr.js';
import type { Action, Chain, Match, Rule, Table } from './model.js';

/** The packet fields rules look at. */
export interface RuleContext {
  readonly saddr: number;
  readonly daddr: number;
  readonly proto: number;
  readonly sport: number;
  readonly dport: number;
  readonly iifname: string | null;
  readonly oifname: string | null;
}

export type NatAction = Extract<Action, { kind: 'snat' | 'dnat' | 'masquerade' }>;

export interface ChainOutcome {
  readonly verdict: Verdict;
  /** The rule that decided, or null for the policy. */
  readonly rule: Rule | null;
}

/** nft's jump stack limit (NFT_JUMP_STACK_SIZE); deeper means a loop in the ruleset. */
const MAX_DEPTH = 16;

export function evaluateChain(table: Table, chain: Chain, ctx: RuleContext, onNat: (action: NatAction, rule: Rule) => Verdict): ChainOutcome {
  const decided = runChain(table, chain, ctx, onNat, 0);
  if (decided) return decided;
  return { verdict: chain.base?.policy === 'drop' ? Verdict.Drop : Verdict.Accept, rule: null };
}

/** Runs a chain; null means it fell off the end (or returned) without a verdict. */
function runChain(table: Table, chain: Chain, ctx: RuleContext, onNat: (a: NatAction, r: Rule) => Verdict, depth: number): ChainOutcome | null {
  if (depth > MAX_DEPTH) throw new Error(`chain '${chain.name}': jump depth over ${MAX_DEPTH} (a loop in the ruleset)`);
  for (const rule of chain.rules) {
    if (!rule.matches.every((m) => matches(m, ctx))) continue;
    const a = rule.action;
    if (a === null) continue;
    switch (a.kind) {
      case 'accept':
        return { verdict: Verdict.Accept, rule };
      case 'drop':
        return { verdict: Verdict.Drop, rule };
      case 'return':
        return null;
      case 'jump':
      case 'goto': {
        const target = table.chains.get(a.chain);
        if (!target) throw new Error(`chain '${a.chain}' does not exist`);
        const outcome = runChain(table, target, ctx, onNat, depth + 1);
        if (outcome || a.kind === 'goto') return outcome;
        continue;
      }
      default:
        return { verdict: onNat(a, rule), rule };
    }
  }
  return null;
}

/** A port match implies its protocol, which negation does not invert (`tcp dport != 80` needs tcp). */
function matches(m: Match, ctx: RuleContext): boolean {
  switch (m.kind) {
    case 'sport':
    case 'dport': {
      if (ctx.proto !== m.proto) return false;
      const port = m.kind === 'sport' ? ctx.sport : ctx.dport;
      return m.negate !== m.ranges.some((r) => port >= r.min && port <= r.max);
    }
    default:
      return m.negate !== matchesPositive(m, ctx);
  }
}

function matchesPositive(m: Exclude<Match, { kind: 'sport' | 'dport' }>, ctx: RuleContext): boolean {
  switch (m.kind) {
    case 'saddr':
      return m.prefixes.some((p) => inPrefix(ctx.saddr, p.addr, p.len));
    case 'daddr':
      return m.prefixes.some((p) => inPrefix(ctx.daddr, p.addr, p.len));
    case 'iifname':
      return nameMatches(ctx.iifname, m.name, m.prefix);
    case 'oifname':
      return nameMatches(ctx.oifname, m.name, m.prefix);
    case 'l4proto':
      return m.protos.includes(ctx.proto);
  }
}

function nameMatches(actual: string | null, name: string, prefix: boolean): boolean {
  if (actual === null) return false;
  return prefix ? actual.startsWith(name) : actual === name;
}
