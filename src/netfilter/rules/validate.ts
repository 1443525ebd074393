/**
 * The checks the kernel makes when a ruleset is loaded (nf_tables_check_loops and the
 * expressions' validate callbacks, x_tables' checkentry): every jump has a target, no chain
 * reaches itself (through a verdict map's jumps and gotos too, as nft_lookup_validate walks
 * them), and NAT statements sit only where the NAT core can apply them —
 * nft_nat_validate / xt_nat: snat at POST_ROUTING or LOCAL_IN, dnat and redirect at
 * PRE_ROUTING or LOCAL_OUT; nft_masq_validate / xt_MASQUERADE: POST_ROUTING only; all in a nat
 * chain; REJECT only where it can answer; an x_tables match or target only at its hooks.
 * A regular chain is checked against every base chain that reaches it, as the kernel does.
 */
import { InputError } from '../../errors.js';
import { Hook, HOOK_NFT_NAME } from '../constants.js';
import type { Action, BaseChainSpec, Chain, Rule, Ruleset, Table } from './model.js';

const NAT_HOOKS: Readonly<Record<'snat' | 'dnat' | 'masquerade' | 'redirect', readonly Hook[]>> = {
  snat: [Hook.PostRouting, Hook.LocalIn],
  dnat: [Hook.PreRouting, Hook.LocalOut],
  masquerade: [Hook.PostRouting],
  redirect: [Hook.PreRouting, Hook.LocalOut],
};

/** Where REJECT may answer: xt_REJECT's hooks; nft_reject_validate also allows prerouting. */
const REJECT_HOOKS: Readonly<Record<Table['source'], readonly Hook[]>> = {
  'iptables-nft': [Hook.LocalIn, Hook.Forward, Hook.LocalOut],
  'iptables-legacy': [Hook.LocalIn, Hook.Forward, Hook.LocalOut],
  nft: [Hook.PreRouting, Hook.LocalIn, Hook.Forward, Hook.LocalOut],
};

/** Throws the first problem, or (with `onError`) reports each and goes on. */
export function validateRuleset(ruleset: Ruleset, onError: ((e: InputError) => void) | null = null): void {
  const each = (check: () => void): void => {
    try {
      check();
    } catch (e) {
      if (!onError || !(e instanceof InputError)) throw e;
      onError(e);
    }
  };
  for (const table of ruleset.tables) {
    for (const chain of table.chains.values()) {
      if (chain.base) walk(table, chain, chain.base, [], each);
    }
    for (const chain of table.chains.values()) {
      for (const rule of chain.rules) each(() => jumpTargets(table, rule));
    }
  }
}

function walk(table: Table, chain: Chain, base: BaseChainSpec, path: readonly string[], each: (check: () => void) => void): void {
  for (const rule of chain.rules) each(() => walkRule(table, chain, base, path, rule, each));
}

function walkRule(table: Table, chain: Chain, base: BaseChainSpec, path: readonly string[], rule: Rule, each: (check: () => void) => void): void {
  checkXtHooks(base, rule);
  const action = rule.action;
  if (action === null) return;
  if (action.kind === 'snat' || action.kind === 'dnat' || action.kind === 'masquerade' || action.kind === 'redirect') checkNat(action.kind, base, rule);
  if (action.kind === 'reject' && !REJECT_HOOKS[table.source].includes(base.hook)) {
    fail(rule, `reject only works at ${REJECT_HOOKS[table.source].map((h) => HOOK_NFT_NAME[h]).join(', ')} (this rule is reached from hook ${HOOK_NFT_NAME[base.hook]})`);
  }
  for (const target of jumpTargets(table, rule)) {
    if (target.base) fail(rule, `cannot jump to base chain '${target.name}'`);
    if (target.name === chain.name || path.includes(target.name)) fail(rule, `jump to '${target.name}' makes a loop (${[...path, chain.name, target.name].join(' → ')})`);
    walk(table, target, base, [...path, chain.name], each);
  }
}

/** The chains a rule's jump or goto names, or every one its verdict map's elements name. */
function jumpTargets(table: Table, rule: Rule): Chain[] {
  const action: Action | null = rule.action;
  const verdicts = action?.kind === 'vmap' ? action.map.elements.map((e) => e.verdict) : [action];
  const names = new Set(verdicts.flatMap((v) => (v?.kind === 'jump' || v?.kind === 'goto' ? [v.chain] : [])));
  return [...names].map((name) => table.chains.get(name) ?? fail(rule, `no chain '${name}' in table ${table.family} ${table.name}`));
}

/** xt_check_match / xt_check_target: an x_tables module only at the hooks it registered for. */
function checkXtHooks(base: BaseChainSpec, rule: Rule): void {
  for (const m of rule.matches) if (m.kind === 'xt' && m.module.hooks) onlyAt(`-m ${m.module.name}`, m.module.hooks, base, rule);
  for (const e of rule.effects) if (e.kind === 'xt' && e.target.hooks) onlyAt(e.target.name, e.target.hooks, base, rule);
}

function onlyAt(what: string, hooks: readonly Hook[], base: BaseChainSpec, rule: Rule): void {
  if (!hooks.includes(base.hook)) fail(rule, `${what} only works at ${hooks.map((h) => HOOK_NFT_NAME[h]).join(', ')} (this rule is reached from hook ${HOOK_NFT_NAME[base.hook]})`);
}

function checkNat(kind: keyof typeof NAT_HOOKS, base: BaseChainSpec, rule: Rule): void {
  if (base.type !== 'nat') fail(rule, `${kind} only works in a nat chain (this rule is reached from a ${base.type} chain)`);
  const hooks = NAT_HOOKS[kind];
  if (!hooks.includes(base.hook)) {
    fail(rule, `${kind} only works at ${hooks.map((h) => HOOK_NFT_NAME[h]).join(' or ')} (this rule is reached from hook ${HOOK_NFT_NAME[base.hook]})`);
  }
}

function fail(rule: Rule, reason: string): never {
  throw new InputError(rule.place, reason);
}
