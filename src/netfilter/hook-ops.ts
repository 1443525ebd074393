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

/** nf_defrag_ipv4 then ipv4_conntrack_ops, in the order they register (nf_ct_netns_get). */
export const IPV4_CONNTRACK_OPS: readonly HookOpSpec<ConntrackOpRole>[] = [
  { hook: Hook.PreRouting, priority: Priority.ConntrackDefrag, name: 'ipv4_conntrack_defrag', role: 'defrag' },
  { hook: Hook.LocalOut, priority: Priority.ConntrackDefrag, name: 'ipv4_conntrack_defrag', role: 'defrag' },
  { hook: Hook.PreRouting, priority: Priority.Conntrack, name: 'ipv4_conntrack_in', role: 'conntrack' },
  { hook: Hook.LocalOut, priority: Priority.Conntrack, name: 'ipv4_conntrack_local', role: 'conntrack' },
  { hook: Hook.PostRouting, priority: Priority.ConntrackConfirm, name: 'nf_confirm', role: 'confirm' },
  { hook: Hook.LocalIn, priority: Priority.ConntrackConfirm, name: 'nf_confirm', role: 'confirm' },
];

/** nf_nat_ipv4_ops: registered once any NAT chain exists (nf_nat_register_fn). */
export const IPV4_NAT_OPS: readonly HookOpSpec<'nat'>[] = [
  { hook: Hook.PreRouting, priority: Priority.NatDst, name: 'nf_nat_ipv4_pre_routing', role: 'nat' },
  { hook: Hook.PostRouting, priority: Priority.NatSrc, name: 'nf_nat_ipv4_out', role: 'nat' },
  { hook: Hook.LocalOut, priority: Priority.NatDst, name: 'nf_nat_ipv4_local_fn', role: 'nat' },
  { hook: Hook.LocalIn, priority: Priority.NatSrc, name: 'nf_nat_ipv4_local_in', role: 'nat' },
];

/** ipv6_defrag_ops then ipv6_conntrack_ops (nf_ct_netns_get with NFPROTO_IPV6, or an inet table's both families). */
export const IPV6_CONNTRACK_OPS: readonly HookOpSpec<ConntrackOpRole>[] = [
  { hook: Hook.PreRouting, priority: Priority.ConntrackDefrag, name: 'ipv6_defrag', role: 'defrag' },
  { hook: Hook.LocalOut, priority: Priority.ConntrackDefrag, name: 'ipv6_defrag', role: 'defrag' },
  { hook: Hook.PreRouting, priority: Priority.Conntrack, name: 'ipv6_conntrack_in', role: 'conntrack' },
  { hook: Hook.LocalOut, priority: Priority.Conntrack, name: 'ipv6_conntrack_local', role: 'conntrack' },
  { hook: Hook.PostRouting, priority: Priority.ConntrackConfirm, name: 'nf_confirm', role: 'confirm' },
  { hook: Hook.LocalIn, priority: Priority.ConntrackConfirm, name: 'nf_confirm', role: 'confirm' },
];

/** nf_nat_ipv6_ops: registered once any IPv6 NAT chain exists (nf_nat_ipv6_register_fn). */
export const IPV6_NAT_OPS: readonly HookOpSpec<'nat'>[] = [
  { hook: Hook.PreRouting, priority: Priority.NatDst, name: 'nf_nat_ipv6_in', role: 'nat' },
  { hook: Hook.PostRouting, priority: Priority.NatSrc, name: 'nf_nat_ipv6_out', role: 'nat' },
  { hook: Hook.LocalOut, priority: Priority.NatDst, name: 'nf_nat_ipv6_local_fn', role: 'nat' },
  { hook: Hook.LocalIn, priority: Priority.NatSrc, name: 'nf_nat_ipv6_fn', role: 'nat' },
];
