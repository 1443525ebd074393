/**
 * ip_tables' packet trace (trace_packet and get_chainname_rulenum, net/ipv4/netfilter/
 * ip_tables.c): while skb->nf_trace is set (iptables' TRACE target), ipt_do_table logs every
 * rule of an x_tables table whose matches hold — before its target runs — and the policy or
 * implicit return at a chain's tail, as "TRACE: table:chain:comment:rulenum " followed by the
 * packet, through the netns's logger (nf_log_trace) at level 4 with NF_LOG_DEFAULT_MASK
 * (trace_loginfo). Only tables loaded from iptables-legacy's iptables-save get this tracer.
 */
import type { ChainTrace } from '../rules/chain-trace.js';
import type { RuleContext } from '../rules/context.js';
import type { Chain, Rule, Table } from '../rules/model.js';
import { LOG_LEVEL_WARNING, NF_LOG_DEFAULT_MASK, nfLogPacket, type IptTraceComment, type NfLogInfo } from './nf-log.js';

/** trace_loginfo */
const TRACE_LOGINFO: NfLogInfo = { level: LOG_LEVEL_WARNING, flags: NF_LOG_DEFAULT_MASK };

export class IptTrace implements ChainTrace {
  constructor(
    private readonly table: Table,
    private readonly ctx: RuleContext,
  ) {}

  matched(chain: Chain, rule: Rule, index: number): void {
    this.log(chain, tailComment(chain, rule) ?? 'rule', index + 1);
  }

  decided(): void {}

  /** The ERROR-headed chain's last entry: an unconditional RETURN. */
  fellOff(chain: Chain): void {
    this.log(chain, 'return', chain.rules.length + 1);
  }

  /** The built-in chain's last entry (its underflow): the policy. */
  policy(chain: Chain): void {
    this.log(chain, 'policy', chain.rules.length + 1);
  }

  private log(chain: Chain, comment: IptTraceComment, rulenum: number): void {
    if (!this.ctx.skb.nftrace) return;
    nfLogPacket(this.ctx.skb, this.ctx.state, { kind: 'trace', table: this.table.name, chain: chain.name, comment, rulenum }, TRACE_LOGINFO);
  }
}

/**
 * get_chainname_rulenum: an unconditional rule whose standard target has a negative verdict
 * (ACCEPT, DROP, RETURN — not a jump) looks like a chain's tail, so the trace calls it the
 * policy in a built-in chain and a return in a user-defined one.
 */
function tailComment(chain: Chain, rule: Rule): IptTraceComment | null {
  const kind = rule.action?.kind;
  const standard = kind === 'accept' || kind === 'drop' || kind === 'return';
  if (!rule.unconditional || !standard || rule.effects.length > 0) return null;
  return chain.base ? 'policy' : 'return';
}
