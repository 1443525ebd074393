/**
 * Which hook ops a host has, as on a real box: nothing without rules; conntrack (with defrag
 * and confirm) once something asks for it (conntrack/netns.ts: nf_ct_netns_get); the NAT core's
 * four ops once any NAT chain exists (nf_nat_register_fn); one op per filter chain at its own
 * hook and priority.
 */
import { Hook, Priority, Verdict } from './constants.js';
import type { NetDevice } from '../host/device.js';
import { HookTable, type HookState } from './hooks.js';
import type { NetfilterNet } from './net.js';
import type { Ruleset, Table, Chain } from './rules/model.js';
import { evaluateChain } from './rules/eval.js';
import { RuleContext, type RuleEnv } from './rules/context.js';
import { conntrackIn } from './conntrack/core.js';
import { confirm } from './conntrack/confirm.js';
import { natInetFn, type NatChain } from './nat/core.js';
import { chainDrop, type Skb } from './skb.js';
import { ipv4ConntrackDefrag } from './defrag.js';

export function buildHooks(net: NetfilterNet, ruleset: Ruleset, tracked: boolean, devices: readonly NetDevice[], env: RuleEnv): HookTable {
  const hooks = new HookTable();
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
function registerConntrack(hooks: HookTable, net: NetfilterNet): void {
  const defrag = (skb: Skb, state: HookState): Verdict => ipv4ConntrackDefrag(net, skb, state);
  const track = (skb: Skb, state: HookState): Verdict => conntrackIn(net, skb, state);
  const conf = (skb: Skb, state: HookState): Verdict => confirm(net, skb, state);
  hooks.register({ hook: Hook.PreRouting, priority: Priority.ConntrackDefrag, name: 'ipv4_conntrack_defrag', fn: defrag });
  hooks.register({ hook: Hook.LocalOut, priority: Priority.ConntrackDefrag, name: 'ipv4_conntrack_defrag', fn: defrag });
  hooks.register({ hook: Hook.PreRouting, priority: Priority.Conntrack, name: 'ipv4_conntrack_in', fn: track });
  hooks.register({ hook: Hook.LocalOut, priority: Priority.Conntrack, name: 'ipv4_conntrack_local', fn: track });
  hooks.register({ hook: Hook.PostRouting, priority: Priority.ConntrackConfirm, name: 'nf_confirm', fn: conf });
  hooks.register({ hook: Hook.LocalIn, priority: Priority.ConntrackConfirm, name: 'nf_confirm', fn: conf });
}

/** nf_nat_ipv4_ops */
function registerNat(hooks: HookTable, net: NetfilterNet, chains: NatChain[][], devices: readonly NetDevice[], env: RuleEnv): void {
  const ops: [Hook, number, string][] = [
    [Hook.PreRouting, Priority.NatDst, 'nf_nat_ipv4_pre_routing'],
    [Hook.PostRouting, Priority.NatSrc, 'nf_nat_ipv4_out'],
    [Hook.LocalOut, Priority.NatDst, 'nf_nat_ipv4_local_fn'],
    [Hook.LocalIn, Priority.NatSrc, 'nf_nat_ipv4_local_in'],
  ];
  for (const [hook, priority, name] of ops) {
    const list = chains[hook]!;
    hooks.register({ hook, priority, name, fn: (skb, state) => natInetFn(net, list, devices, env, skb, state) });
  }
}

function registerFilterChain(hooks: HookTable, table: Table, chain: Chain, env: RuleEnv): void {
  const base = chain.base!;
  hooks.register({
    hook: base.hook,
    priority: base.priority,
    name: `${table.family} ${table.name} ${chain.name}`,
    fn: (skb, state) => {
      const outcome = evaluateChain(table, chain, new RuleContext(skb, state, env), () => {
        throw new Error(`bug: NAT statement in ${base.type} chain ${chain.name}`);
      });
      if (outcome.verdict === Verdict.Drop) skb.drop = chainDrop(skb.drop, table, chain, outcome.rule, outcome.rule ? `rule "${outcome.rule.text}"` : `policy of chain ${chain.name}`);
      return outcome.verdict;
    },
  });
}
