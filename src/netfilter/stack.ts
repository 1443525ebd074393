/**
 * Which hook ops a host has, as on a real box: nothing without rules; conntrack (with defrag
 * and confirm) once something asks for it (conntrack/netns.ts: nf_ct_netns_get); the NAT core's
 * four ops once any NAT chain exists (nf_nat_register_fn); one op per filter chain at its own
 * hook and priority.
 */
import { Verdict } from './constants.js';
import type { NetDevice } from '../host/device.js';
import { HookTable, type HookOp } from './hooks.js';
import type { Ipv4Skb } from './skb.js';
import { IPV4_CONNTRACK_OPS, IPV4_NAT_OPS, type ConntrackOpRole } from './hook-ops.js';
import type { NetfilterNet } from './net.js';
import type { Ruleset, Table, Chain } from './rules/model.js';
import { evaluateChain } from './rules/eval.js';
import { RuleContext, type RuleEnv } from './rules/context.js';
import { conntrackIn } from './conntrack/core.js';
import { confirm } from './conntrack/confirm.js';
import { natInetFn, type NatChain } from './nat/core.js';
import { chainDrop } from './skb.js';
import { ipv4ConntrackDefrag } from '../ipv4/nf-defrag-ipv4.js';
import { ruleRef } from '../trace/events.js';

export function buildHooks(net: NetfilterNet, ruleset: Ruleset, tracked: boolean, devices: readonly NetDevice[], env: RuleEnv): HookTable<Ipv4Skb> {
  const hooks = new HookTable<Ipv4Skb>();
  const natChains: NatChain[][] = [[], [], [], [], []];
  for (const table of ruleset.tables) {
    for (const chain of table.chains.values()) {
      if (chain.base?.type === 'nat') insertByPriority(natChains[chain.base.hook]!, { table, chain });
    }
  }
  if (tracked) registerConntrack(hooks, net);
  if (natChains.some((list) => list.length > 0)) registerNat(hooks, net, natChains, devices, env);
  for (const table of ruleset.tables) {
    for (const chain of table.chains.values()) {
      if (chain.base && chain.base.type !== 'nat') registerFilterChain(hooks, table, chain, env);
    }
  }
  return hooks;
}

/** Same ordering rule as the hooks themselves: newest first among equal priorities. */
function insertByPriority(list: NatChain[], entry: NatChain): void {
  const prio = entry.chain.base!.priority;
  const at = list.findIndex((e) => e.chain.base!.priority >= prio);
  list.splice(at < 0 ? list.length : at, 0, entry);
}

/** nf_defrag_ipv4 and ipv4_conntrack_ops: conntrack only ever sees whole datagrams. */
function registerConntrack(hooks: HookTable<Ipv4Skb>, net: NetfilterNet): void {
  const fns: Record<ConntrackOpRole, HookOp<Ipv4Skb>['fn']> = {
    defrag: (skb, state) => ipv4ConntrackDefrag(net, skb, state),
    conntrack: (skb, state) => conntrackIn(net, skb, state),
    confirm: (skb, state) => confirm(net, skb, state),
  };
  for (const op of IPV4_CONNTRACK_OPS) {
    hooks.register({ hook: op.hook, priority: op.priority, name: op.name, fn: fns[op.role] });
  }
}

/** nf_nat_ipv4_ops: each op runs the NAT chains of its hook. */
function registerNat(hooks: HookTable<Ipv4Skb>, net: NetfilterNet, chains: NatChain[][], devices: readonly NetDevice[], env: RuleEnv): void {
  for (const { hook, priority, name } of IPV4_NAT_OPS) {
    const list = chains[hook]!;
    hooks.register({ hook, priority, name, fn: (skb, state) => natInetFn(net, list, devices, env, skb, state) });
  }
}

function registerFilterChain(hooks: HookTable<Ipv4Skb>, table: Table, chain: Chain, env: RuleEnv): void {
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
