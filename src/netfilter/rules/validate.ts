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

/**
 * nf_tables' jump stack (NFT_JUMP_STACK_SIZE): nft_chain_validate refuses a chain reached at
 * this level (-EMLINK, "Too many links"), so at most 15 jumps or gotos nest below a base chain.
 * x_tables has no such limit: ipt_do_table's jump stack is as deep as the table has chains.
 */
const NFT_JUMP_STACK_SIZE = 16;

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
    const graph = new JumpGraph(table, each);
    const heights = new Map<Chain, Height>();
    const checked = new Map<string, Set<Chain>>();
    for (const chain of table.chains.values()) {
      if (!chain.base) continue;
      const height = measure(graph, chain, heights, each);
      if (table.source !== 'iptables-legacy' && height.depth >= NFT_JUMP_STACK_SIZE) each(() => tooDeep(chain, heights));
      const key = `${chain.base.type} ${chain.base.hook}`;
      const seen = checked.get(key) ?? new Set<Chain>();
      checked.set(key, seen);
      checkReached(table, graph, chain, chain.base, seen, each);
    }
  }
}

/** A jump, goto or verdict-map element: the rule that holds it and the chain it names. */
interface Jump {
  readonly rule: Rule;
  readonly target: Chain;
}

/** Each chain's jumps, found once (unknown chains and base-chain targets reported then). */
class JumpGraph {
  private readonly out = new Map<Chain, readonly Jump[]>();

  constructor(table: Table, each: (check: () => void) => void) {
    for (const chain of table.chains.values()) {
      const jumps: Jump[] = [];
      for (const rule of chain.rules) {
        each(() => {
          for (const target of jumpTargets(table, rule)) {
            if (target.base) fail(rule, `cannot jump to base chain '${target.name}'`);
            jumps.push({ rule, target });
          }
        });
      }
      this.out.set(chain, jumps);
    }
  }

  jumps(chain: Chain): readonly Jump[] {
    return this.out.get(chain) ?? [];
  }
}

/** How far below a chain its jumps reach, and through which jump (null for none). */
interface Height {
  readonly depth: number;
  readonly via: Jump | null;
}

/**
 * The loop check and jump depth, each chain walked once (mark_source_chains keeps a back
 * pointer per chain for the same reason; nft_chain_validate skips a chain already validated at
 * that depth): a depth-first walk on an explicit stack, a chain on the walk's path reached again
 * is a loop. A loop's jump is reported and left out, so lint goes on.
 */
function measure(graph: JumpGraph, base: Chain, heights: Map<Chain, Height>, each: (check: () => void) => void): Height {
  interface Visit {
    readonly chain: Chain;
    readonly jumps: readonly Jump[];
    next: number;
    height: Height;
  }
  const onPath = new Set<Chain>();
  const path: Visit[] = [];
  const open = (chain: Chain): void => {
    onPath.add(chain);
    path.push({ chain, jumps: graph.jumps(chain), next: 0, height: { depth: 0, via: null } });
  };
  const known = heights.get(base);
  if (known) return known;
  open(base);
  for (;;) {
    const visit = path[path.length - 1]!;
    const jump = visit.jumps[visit.next++];
    if (jump === undefined) {
      heights.set(visit.chain, visit.height);
      onPath.delete(visit.chain);
      path.pop();
      const parent = path[path.length - 1];
      if (parent === undefined) return visit.height;
      deeper(parent, parent.jumps[parent.next - 1]!, visit.height);
      continue;
    }
    if (onPath.has(jump.target)) {
      const names = [...path.map((v) => v.chain.name), jump.target.name].join(' → ');
      each(() => fail(jump.rule, `jump to '${jump.target.name}' makes a loop (${names})`));
      continue;
    }
    const done = heights.get(jump.target);
    if (done) deeper(visit, jump, done);
    else open(jump.target);
  }
}

function deeper(visit: { height: Height }, jump: Jump, below: Height): void {
  if (below.depth + 1 > visit.height.depth) visit.height = { depth: below.depth + 1, via: jump };
}

/** nft_chain_validate's -EMLINK, at the jump on the deepest path that reaches level 16. */
function tooDeep(base: Chain, heights: ReadonlyMap<Chain, Height>): never {
  const names = [base.name];
  let jump = heights.get(base)!.via!;
  while (names.length < NFT_JUMP_STACK_SIZE) {
    names.push(jump.target.name);
    jump = heights.get(jump.target)!.via!;
  }
  fail(jump.rule, `jump to '${jump.target.name}' is the ${NFT_JUMP_STACK_SIZE}th nested jump below base chain '${base.name}': nf_tables allows ${NFT_JUMP_STACK_SIZE - 1} (NFT_JUMP_STACK_SIZE; nft says "Too many links") (${[...names, jump.target.name].join(' → ')})`);
}

/**
 * The hook-dependent checks on every rule a base chain reaches, each chain once per hook and
 * chain type (what the checks depend on), as the kernel keeps a hook mask per chain.
 */
function checkReached(table: Table, graph: JumpGraph, base: Chain, spec: BaseChainSpec, seen: Set<Chain>, each: (check: () => void) => void): void {
  const todo = [base];
  seen.add(base);
  for (let chain = todo.pop(); chain !== undefined; chain = todo.pop()) {
    for (const rule of chain.rules) each(() => checkRule(table, spec, rule));
    for (const { target } of graph.jumps(chain)) {
      if (seen.has(target)) continue;
      seen.add(target);
      todo.push(target);
    }
  }
}

function checkRule(table: Table, base: BaseChainSpec, rule: Rule): void {
  checkXtHooks(base, rule);
  const action = rule.action;
  if (action === null) return;
  if (action.kind === 'snat' || action.kind === 'dnat' || action.kind === 'masquerade' || action.kind === 'redirect') checkNat(action.kind, base, rule);
  if (action.kind === 'reject' && !REJECT_HOOKS[table.source].includes(base.hook)) {
    fail(rule, `reject only works at ${REJECT_HOOKS[table.source].map((h) => HOOK_NFT_NAME[h]).join(', ')} (this rule is reached from hook ${HOOK_NFT_NAME[base.hook]})`);
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
