/**
 * The hook ops netfilter's own modules register, as the kernel declares them in nf_hook_ops
 * arrays: each with its hook, priority and kernel name (ipv4_defrag_ops in nf_defrag_ipv4.c,
 * ipv6_defrag_ops in nf_defrag_ipv6_hooks.c, ipv4_conntrack_ops and ipv6_conntrack_ops in
 * nf_conntrack_proto.c, nf_nat_ipv4_ops and nf_nat_ipv6_ops in nf_nat_proto.c). The IPv6
 * priorities (enum nf_ip6_hook_priorities) have the IPv4 values. What each op
 * does is its role; stack.ts gives every role its function. Rule chains register their own op
 * at the hook and priority the ruleset names.
 */
import { Hook, Priority } from './constants.js';

/** What an op of the table does: one function per role, shared by the families. */
export type HookOpRole = ConntrackOpRole | 'nat';
/** The roles of the ops conntrack registers (with defrag). */
export type ConntrackOpRole = 'defrag' | 'conntrack' | 'confirm';

export interface HookOpSpec<R extends HookOpRole = HookOpRole> {
  readonly hook: Hook;
  readonly priority: number;
  readonly name: string;
  readonly role: R;
}

/** The kernel's names of one family's ops (each family's modules name their own functions). */
interface FamilyOpNames {
  readonly defrag: string;
  readonly conntrackIn: string;
  readonly conntrackLocal: string;
  readonly natPreRouting: string;
  readonly natPostRouting: string;
  readonly natLocalOut: string;
  readonly natLocalIn: string;
}

/** One family's conntrack and NAT ops: the same hooks and priorities in both, under the family's names. */
export interface FamilyOps {
  /** nf_defrag_ipv{4,6} then ipv{4,6}_conntrack_ops, in the order they register (nf_ct_netns_get). */
  readonly conntrack: readonly HookOpSpec<ConntrackOpRole>[];
  /** nf_nat_ipv{4,6}_ops: registered once any NAT chain of the family exists (nf_nat_register_fn). */
  readonly nat: readonly HookOpSpec<'nat'>[];
}

function familyOps(n: FamilyOpNames): FamilyOps {
  return {
    conntrack: [
      { hook: Hook.PreRouting, priority: Priority.ConntrackDefrag, name: n.defrag, role: 'defrag' },
      { hook: Hook.LocalOut, priority: Priority.ConntrackDefrag, name: n.defrag, role: 'defrag' },
      { hook: Hook.PreRouting, priority: Priority.Conntrack, name: n.conntrackIn, role: 'conntrack' },
      { hook: Hook.LocalOut, priority: Priority.Conntrack, name: n.conntrackLocal, role: 'conntrack' },
      { hook: Hook.PostRouting, priority: Priority.ConntrackConfirm, name: 'nf_confirm', role: 'confirm' },
      { hook: Hook.LocalIn, priority: Priority.ConntrackConfirm, name: 'nf_confirm', role: 'confirm' },
    ],
    nat: [
      { hook: Hook.PreRouting, priority: Priority.NatDst, name: n.natPreRouting, role: 'nat' },
      { hook: Hook.PostRouting, priority: Priority.NatSrc, name: n.natPostRouting, role: 'nat' },
      { hook: Hook.LocalOut, priority: Priority.NatDst, name: n.natLocalOut, role: 'nat' },
      { hook: Hook.LocalIn, priority: Priority.NatSrc, name: n.natLocalIn, role: 'nat' },
    ],
  };
}

/** nf_defrag_ipv4.c, nf_conntrack_proto.c's ipv4_conntrack_ops, nf_nat_proto.c's nf_nat_ipv4_ops. */
export const IPV4_OPS = familyOps({
  defrag: 'ipv4_conntrack_defrag',
  conntrackIn: 'ipv4_conntrack_in',
  conntrackLocal: 'ipv4_conntrack_local',
  natPreRouting: 'nf_nat_ipv4_pre_routing',
  natPostRouting: 'nf_nat_ipv4_out',
  natLocalOut: 'nf_nat_ipv4_local_fn',
  natLocalIn: 'nf_nat_ipv4_local_in',
});

/** nf_defrag_ipv6_hooks.c, ipv6_conntrack_ops, nf_nat_ipv6_ops (nf_ct_netns_get with NFPROTO_IPV6, or an inet table's both families). */
export const IPV6_OPS = familyOps({
  defrag: 'ipv6_defrag',
  conntrackIn: 'ipv6_conntrack_in',
  conntrackLocal: 'ipv6_conntrack_local',
  natPreRouting: 'nf_nat_ipv6_in',
  natPostRouting: 'nf_nat_ipv6_out',
  natLocalOut: 'nf_nat_ipv6_local_fn',
  natLocalIn: 'nf_nat_ipv6_fn',
});
