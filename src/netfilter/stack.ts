/**
 * Which hook ops a host has, as on a real box, per family (an ip table's chains hook into the
 * IPv4 table, an ip6 table's into the IPv6 one, an inet table's into both): nothing without
 * rules; conntrack (with defrag and confirm) once something of the family asks for it (conntrack/netns.ts: nf_ct_netns_get); the NAT core's
 * four ops once any NAT chain exists (nf_nat_register_fn); one op per filter chain at its own
 * hook and priority.
 */
import { Verdict } from './constants.js';
import type { NetDevice } from '../host/device.js';
import { HookTable, type HookOp, type HookOpRunner, type HookState } from './hooks.js';
import type { Ipv4Skb, Ipv6Skb, Skb } from './skb.js';
import { IPV4_OPS, IPV6_OPS, type FamilyOps } from './hook-ops.js';
import type { NetfilterNet } from './net.js';
import { NFPROTO_IPV4, NFPROTO_IPV6, tablesOfFamily, type Ruleset, type Table, type Chain } from './rules/model.js';
import { evaluateChain } from './rules/eval.js';
import { RuleContext, type RuleEnv } from './rules/context.js';
import { conntrackIn } from './conntrack/core.js';
import { confirm } from './conntrack/confirm.js';
import { natInetFn, type NatChain } from './nat/core.js';
import { chainDrop } from './skb.js';
import { ipv4ConntrackDefrag } from '../ipv4/nf-defrag-ipv4.js';
import { ipv6Defrag } from '../ipv6/nf-defrag-ipv6.js';
import { ruleRef } from '../trace/events.js';

/** An op function of its own: what a module outside the stack registers (IPVS's hooks). */
export type HookFn<S extends Skb> = (skb: S, state: HookState) => Verdict;

/**
 * The ops a host's tables hold, by what they run (known when the hooks are built): conntrack's
 * own three, the NAT core's with the NAT chains of its hook, a filter chain, or a function.
 */
export type StackOp<S extends Skb> = HookOp &
  (
    | { readonly kind: 'defrag' | 'conntrack' | 'confirm' }
    | { readonly kind: 'nat'; readonly chains: readonly NatChain[] }
    | { readonly kind: 'chain'; readonly table: Table; readonly chain: Chain }
    | { readonly kind: 'fn'; readonly fn: HookFn<S> }
  );

/** A family's hook table as a host holds it. */
export type StackHooks<S extends Skb> = HookTable<S, StackOp<S>>;

/** The two hook tables of a host (nf_hooks_ipv4, nf_hooks_ipv6): an inet table's chains are in both. */
export interface FamilyHooks {
  readonly ipv4: StackHooks<Ipv4Skb>;
  readonly ipv6: StackHooks<Ipv6Skb>;
}

/** Which conntrack each family registered (nf_ct_netns_get for NFPROTO_IPV4, NFPROTO_IPV6; inet asks for both). */
export interface Tracked {
  readonly ipv4: boolean;
  readonly ipv6: boolean;
}

export function buildHooks(net: NetfilterNet, ruleset: Ruleset, tracked: Tracked, devices: readonly NetDevice[], env: RuleEnv): FamilyHooks {
  const defrag4 = (skb: Ipv4Skb, state: HookState): Verdict => ipv4ConntrackDefrag(net, skb, state);
  const defrag6 = (skb: Ipv6Skb, state: HookState): Verdict => ipv6Defrag(net, skb, state);
  const ipv4 = new HookTable(stackRunner(net, devices, env, defrag4));
  const ipv6 = new HookTable(stackRunner(net, devices, env, defrag6));
  buildFamily(ipv4, tablesOfFamily(ruleset, NFPROTO_IPV4), tracked.ipv4, IPV4_OPS);
  buildFamily(ipv6, tablesOfFamily(ruleset, NFPROTO_IPV6), tracked.ipv6, IPV6_OPS);
  return { ipv4, ipv6 };
}

/** How a family's table runs its ops: each kind a direct call (HookOpRunner says why). */
function stackRunner<S extends Skb>(net: NetfilterNet, devices: readonly NetDevice[], env: RuleEnv, defrag: HookFn<S>): HookOpRunner<S, StackOp<S>> {
  return (op, skb, state) => {
    switch (op.kind) {
      case 'defrag':
        return defrag(skb, state);
      case 'conntrack':
        return conntrackIn(net, skb, state);
      case 'confirm':
        return confirm(net, skb, state);
      case 'nat':
        return natInetFn(net, op.chains, devices, env, skb, state);
      case 'chain':
        return runFilterChain(op.table, op.chain, env, skb, state);
      case 'fn':
        return op.fn(skb, state);
    }
  };
}

/** One family's table: conntrack when asked for, the NAT core's ops once a NAT chain exists, one op per other chain. */
function buildFamily<S extends Skb>(hooks: StackHooks<S>, tables: readonly Table[], tracked: boolean, ops: FamilyOps): void {
  const natChains: NatChain[][] = [[], [], [], [], []];
  for (const table of tables) {
    for (const chain of table.chains.values()) {
      if (chain.base?.type === 'nat') insertByPriority(natChains[chain.base.hook]!, { table, chain });
    }
  }
  // nf_defrag_ipv{4,6} and ipv{4,6}_conntrack_ops: conntrack only ever sees whole datagrams
  if (tracked) for (const { hook, priority, name, role } of ops.conntrack) hooks.register({ hook, priority, name, kind: role });
  // nf_nat_ipv{4,6}_ops: each op runs the NAT chains of its hook
  if (natChains.some((list) => list.length > 0)) {
    for (const { hook, priority, name } of ops.nat) hooks.register({ hook, priority, name, kind: 'nat', chains: natChains[hook]! });
  }
  for (const table of tables) {
    for (const chain of table.chains.values()) {
      const base = chain.base;
      if (base && base.type !== 'nat') hooks.register({ hook: base.hook, priority: base.priority, name: `${table.family} ${table.name} ${chain.name}`, kind: 'chain', table, chain });
    }
  }
}

/** Same ordering rule as the hooks themselves: newest first among equal priorities. */
function insertByPriority(list: NatChain[], entry: NatChain): void {
  const prio = entry.chain.base!.priority;
  const at = list.findIndex((e) => e.chain.base!.priority >= prio);
  list.splice(at < 0 ? list.length : at, 0, entry);
}

/** A filter (or route, or raw) chain's op: the chain's verdict, its drop with the rule that decided. */
function runFilterChain(table: Table, chain: Chain, env: RuleEnv, skb: Skb, state: HookState): Verdict {
  const outcome = evaluateChain(table, chain, new RuleContext(skb, state, env), () => {
    throw new Error(`bug: NAT statement in ${chain.base!.type} chain ${chain.name}`);
  });
  if (state.trace && outcome.rule) state.trace.rule = ruleRef(outcome.rule);
  if (outcome.verdict === Verdict.Drop) skb.drop = chainDrop(skb.drop, table, chain, outcome.rule, outcome.rule ? `rule "${outcome.rule.text}"` : `policy of chain ${chain.name}`);
  return outcome.verdict;
}
