/**
 * Which hook ops a host has, as on a real box, per family (an ip table's chains hook into the
 * IPv4 table, an ip6 table's into the IPv6 one, an inet table's into both): nothing without
 * rules; conntrack (with defrag and confirm) once something of the family asks for it (conntrack/netns.ts: nf_ct_netns_get); the NAT core's
 * four ops once any NAT chain exists (nf_nat_register_fn); one op per filter chain at its own
 * hook and priority.
 */
import { Verdict } from './constants.js';
import type { NetDevice } from '../host/device.js';
import { HookTable, type HookOp, type HookState } from './hooks.js';
import type { Ipv4Skb, Ipv6Skb, Skb } from './skb.js';
import { IPV4_CONNTRACK_OPS, IPV4_NAT_OPS, IPV6_CONNTRACK_OPS, IPV6_NAT_OPS, type ConntrackOpRole, type HookOpSpec } from './hook-ops.js';
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

/** The two hook tables of a host (nf_hooks_ipv4, nf_hooks_ipv6): an inet table's chains are in both. */
export interface FamilyHooks {
  readonly ipv4: HookTable<Ipv4Skb>;
  readonly ipv6: HookTable<Ipv6Skb>;
}

/** Which conntrack each family registered (nf_ct_netns_get for NFPROTO_IPV4, NFPROTO_IPV6; inet asks for both). */
export interface Tracked {
  readonly ipv4: boolean;
  readonly ipv6: boolean;
}

export function buildHooks(net: NetfilterNet, ruleset: Ruleset, tracked: Tracked, devices: readonly NetDevice[], env: RuleEnv): FamilyHooks {
  const ipv4 = new HookTable<Ipv4Skb>();
  const ipv6 = new HookTable<Ipv6Skb>();
  const defrag4 = (skb: Ipv4Skb, state: HookState): Verdict => ipv4ConntrackDefrag(net, skb, state);
  const defrag6 = (skb: Ipv6Skb, state: HookState): Verdict => ipv6Defrag(net, skb, state);
  buildFamily(ipv4, net, tablesOfFamily(ruleset, NFPROTO_IPV4), tracked.ipv4 ? IPV4_CONNTRACK_OPS : null, IPV4_NAT_OPS, defrag4, devices, env);
  buildFamily(ipv6, net, tablesOfFamily(ruleset, NFPROTO_IPV6), tracked.ipv6 ? IPV6_CONNTRACK_OPS : null, IPV6_NAT_OPS, defrag6, devices, env);
  return { ipv4, ipv6 };
}

/** One family's table: conntrack when asked for, the NAT core's ops once a NAT chain exists, one op per other chain. */
function buildFamily<S extends Skb>(
  hooks: HookTable<S>,
  net: NetfilterNet,
  tables: readonly Table[],
  conntrackOps: readonly HookOpSpec<ConntrackOpRole>[] | null,
  natOps: readonly HookOpSpec<'nat'>[],
  defrag: HookOp<S>['fn'],
  devices: readonly NetDevice[],
  env: RuleEnv,
): void {
  const natChains: NatChain[][] = [[], [], [], [], []];
  for (const table of tables) {
    for (const chain of table.chains.values()) {
      if (chain.base?.type === 'nat') insertByPriority(natChains[chain.base.hook]!, { table, chain });
    }
  }
  if (conntrackOps) registerConntrack(hooks, net, conntrackOps, defrag);
  if (natChains.some((list) => list.length > 0)) registerNat(hooks, net, natOps, natChains, devices, env);
  for (const table of tables) {
    for (const chain of table.chains.values()) {
      if (chain.base && chain.base.type !== 'nat') registerFilterChain(hooks, table, chain, env);
    }
  }
}

/** Same ordering rule as the hooks themselves: newest first among equal priorities. */
function insertByPriority(list: NatChain[], entry: NatChain): void {
  const prio = entry.chain.base!.priority;
  const at = list.findIndex((e) => e.chain.base!.priority >= prio);
  list.splice(at < 0 ? list.length : at, 0, entry);
}

/** nf_defrag_ipv{4,6} and ipv{4,6}_conntrack_ops: conntrack only ever sees whole datagrams. */
function registerConntrack<S extends Skb>(hooks: HookTable<S>, net: NetfilterNet, ops: readonly HookOpSpec<ConntrackOpRole>[], defrag: HookOp<S>['fn']): void {
  const fns: Record<ConntrackOpRole, HookOp<S>['fn']> = {
    defrag,
    conntrack: (skb, state) => conntrackIn(net, skb, state),
    confirm: (skb, state) => confirm(net, skb, state),
  };
  for (const op of ops) {
    hooks.register({ hook: op.hook, priority: op.priority, name: op.name, fn: fns[op.role] });
  }
}

/** nf_nat_ipv{4,6}_ops: each op runs the NAT chains of its hook. */
function registerNat<S extends Skb>(hooks: HookTable<S>, net: NetfilterNet, ops: readonly HookOpSpec<'nat'>[], chains: NatChain[][], devices: readonly NetDevice[], env: RuleEnv): void {
  for (const { hook, priority, name } of ops) {
    const list = chains[hook]!;
    hooks.register({ hook, priority, name, fn: (skb, state) => natInetFn(net, list, devices, env, skb, state) });
  }
}

function registerFilterChain<S extends Skb>(hooks: HookTable<S>, table: Table, chain: Chain, env: RuleEnv): void {
  const base = chain.base!;
  hooks.register({
    hook: base.hook,
    priority: base.priority,
    name: `${table.family} ${table.name} ${chain.name}`,
    fn: (skb, state) => {
      const outcome = evaluateChain(table, chain, new RuleContext(skb, state, env), () => {
        throw new Error(`bug: NAT statement in ${base.type} chain ${chain.name}`);
      });
      if (state.trace && outcome.rule) state.trace.rule = ruleRef(outcome.rule);
      if (outcome.verdict === Verdict.Drop) skb.drop = chainDrop(skb.drop, table, chain, outcome.rule, outcome.rule ? `rule "${outcome.rule.text}"` : `policy of chain ${chain.name}`);
      return outcome.verdict;
    },
  });
}
