/**
 * How a table's rule evaluation is traced for a packet with skb->nf_trace set: x_tables logs
 * each rule as its matches hold, before the target runs (ipt_do_table's trace_packet);
 * nf_tables reports each rule once its expressions have given a verdict (nft_trace_packet).
 * Which tracer a table gets depends on the front-end that loaded it.
 */
import type { Chain, Policy, Rule, VerdictAction } from './model.js';

export interface ChainTrace {
  /** ipt_do_table: the rule at `index` of `chain` matched; its target has not run yet. */
  matched(chain: Chain, rule: Rule, index: number): void;
  /** nft_do_chain: the rule's expressions ran to this verdict. */
  decided(chain: Chain, rule: Rule, verdict: VerdictAction): void;
  /** A regular chain ended without a verdict and returns to the chain that jumped to it. */
  fellOff(chain: Chain): void;
  /** The base chain's policy decided. */
  policy(chain: Chain, policy: Policy): void;
}
