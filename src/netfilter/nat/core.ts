/**
 * The NAT core's hook op (nf_nat_inet_fn, net/netfilter/nf_nat_core.c), registered at
 * PRE_ROUTING −100 and LOCAL_OUT −100 (destination manip) and at POST_ROUTING 100 and
 * LOCAL_IN 100 (source manip) once any NAT chain exists. NAT chains are not hooks of their own:
 * they sit in this op's private list, ordered by their priority, and are consulted only for
 * the first packet of a connection (ctinfo NEW or RELATED, manip not yet decided).
 */
import { Hook, Verdict } from '../constants.js';
import type { NetDevice } from '../../host/device.js';
import { CtInfo, ctinfoDir, type Conn } from '../conntrack/conn.js';
import { Dir } from '../conntrack/tuple.js';
import type { NetfilterNet } from '../net.js';
import type { Chain, Rule, Table } from '../rules/model.js';
import { evaluateChain, type NatAction } from '../rules/eval.js';
import { RuleContext, type RuleEnv } from '../rules/context.js';
import type { HookState, OpTrace } from '../hooks.js';
import { ruleRef, type NatBinding } from '../../trace/events.js';
import { chainDrop, type Skb } from '../skb.js';
import { natPacket } from './manip.js';
import { isRelatedIcmp, natIcmpReplyTranslation } from './icmp-reply.js';
import { masquerade } from './masquerade.js';
import { redirect } from './redirect.js';
import { natInitialized, natNullBinding, natSetupInfo } from './setup.js';
import { ManipType, type NatSearch } from './unique-tuple.js';

/** A NAT chain registered in the NAT core's list for one hook. */
export interface NatChain {
  readonly table: Table;
  readonly chain: Chain;
}

/** HOOK2MANIP: source manip after routing (POST_ROUTING, LOCAL_IN), destination before. */
export function hookManip(hook: Hook): ManipType {
  return hook === Hook.PostRouting || hook === Hook.LocalIn ? ManipType.Src : ManipType.Dst;
}

/**
 * nf_nat_oif_changed: a masqueraded original-direction packet that now leaves by another
 * interface than the one its mapping was made for is dropped, and the entry killed.
 */
function oifChanged(hook: Hook, ctinfo: CtInfo, ct: Conn, out: NetDevice | null): boolean {
  return hook === Hook.PostRouting && ctinfoDir(ctinfo) === Dir.Original && out !== null && ct.masqIndex !== 0 && ct.masqIndex !== out.index;
}

export function natInetFn(net: NetfilterNet, chains: readonly NatChain[], devices: readonly NetDevice[], env: RuleEnv, skb: Skb, state: HookState): Verdict {
  const ct = skb.ct;
  if (!ct) return Verdict.Accept;
  const manip = hookManip(state.hook);
  if (isRelatedIcmp(skb.pkt, skb.ctinfo)) {
    // nf_nat_ipv4_fn: an ICMP error of a known connection never meets the NAT chains.
    const refused = natIcmpReplyTranslation(skb.pkt, ct, skb.ctinfo, manip);
    if (refused === null) return Verdict.Accept;
    skb.drop = { reason: `ICMP error not translated: ${refused} (nf_nat_icmp_reply_translation)` };
    return Verdict.Drop;
  }
  const firstPacket = skb.ctinfo === CtInfo.New || skb.ctinfo === CtInfo.Related || skb.ctinfo === CtInfo.RelatedReply;
  if (firstPacket && !natInitialized(ct, manip)) {
    const search: NatSearch = { net, ct, now: skb.time, cpu: skb.cpu, notes: state.notes };
    // a hook without NAT chains (the NAT core registers all four at once) goes straight to the
    // null binding, as nf_nat_inet_fn does for no lpriv->entries (`if (!e) goto null_bind`)
    const verdict = chains.length === 0 ? nullBinding(search, state, manip) : bindFromChains(search, chains, devices, new RuleContext(skb, state, env), manip);
    if (verdict !== Verdict.Accept) return verdict;
  } else if (oifChanged(state.hook, skb.ctinfo, ct, state.out)) {
    net.destroy(ct, skb.time);
    skb.drop = { reason: 'masqueraded connection now leaves by another interface (nf_nat_oif_changed)' };
    return Verdict.Drop;
  }
  return natPacket(skb.pkt, ct, skb.ctinfo, manip);
}

/** Consult the NAT chains in order until one binds the manip; none → a null binding. */
function bindFromChains(search: NatSearch, chains: readonly NatChain[], devices: readonly NetDevice[], ctx: RuleContext, manip: ManipType): Verdict {
  const { skb, state } = ctx;
  const onNat = (action: NatAction, rule: Rule): Verdict => applyNat(search, action, rule, devices, skb, state);
  for (let i = 0; i < chains.length; i++) {
    const { table, chain } = chains[i]!;
    const outcome = evaluateChain(table, chain, ctx, onNat);
    if (outcome.verdict !== Verdict.Accept) {
      if (outcome.verdict === Verdict.Drop) skb.drop = chainDrop(skb.drop, table, chain, outcome.rule, `dropped by ${outcome.rule ? `rule "${outcome.rule.text}"` : `policy of chain ${chain.name}`}`);
      return outcome.verdict;
    }
    if (natInitialized(search.ct, manip)) return Verdict.Accept;
  }
  return nullBinding(search, state, manip);
}

/** nf_nat_inet_fn's fallback: no chain bound the manip, so nf_nat_alloc_null_binding. */
function nullBinding(search: NatSearch, state: HookState, manip: ManipType): Verdict {
  recordBinding(state.trace, 'null', null, state.out);
  return natNullBinding(search, manip);
}

function applyNat(search: NatSearch, action: NatAction, rule: Rule, devices: readonly NetDevice[], skb: Skb, state: HookState): Verdict {
  recordBinding(state.trace, action.kind, rule, state.out);
  search.net.probe?.natBound(search.ct, { kind: action.kind, rule, range: action.range, hook: state.hook }, skb.time);
  switch (action.kind) {
    case 'masquerade':
      return masquerade(search, skb, action.range, devices, state);
    case 'redirect':
      return redirect(search, skb, action.range, state);
    default:
      return natSetupInfo(search, action.range, action.kind === 'snat' ? ManipType.Src : ManipType.Dst);
  }
}

function recordBinding(trace: OpTrace | null, kind: NatBinding['kind'], rule: Rule | null, out: NetDevice | null): void {
  if (!trace) return;
  trace.nat = { kind, rule: rule ? rule.text : null, outdev: out ? out.name : null };
  trace.rule = rule ? ruleRef(rule) : null;
  if (rule) trace.notes.push(`rule ${rule.place.file}:${rule.place.line}: ${rule.text}`);
}

