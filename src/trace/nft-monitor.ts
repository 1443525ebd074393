/**
 * nf_tables trace events as `nft monitor trace` prints them (nftables' trace_print_* functions):
 * "trace id ID FAMILY TABLE CHAIN packet: …" with the first event of a base chain run, then
 * "… rule RULE (verdict V)" or "… policy P ". The packet part is nft-payload.ts's, the rule's
 * text nft-rule-listing.ts's.
 */
import type { NftTraceEvent } from '../netfilter/rules/nft-trace.js';
import type { VerdictAction } from '../netfilter/rules/model.js';
import { traceId } from './format-common.js';
import { nftPacketText } from './nft-payload.js';
import { nftRuleText, type TraceCounters } from './nft-rule-listing.js';

export function nftMonitorLines(e: NftTraceEvent, counters: TraceCounters): string[] {
  const head = `trace id ${traceId(e.id)} ${e.family} ${e.table} ${e.chain} `;
  const lines = e.packet ? [`${head}packet: ${nftPacketText(e.packet, e.family)}`] : [];
  lines.push(e.type === 'policy' ? `${head}policy ${e.verdict.kind} ` : `${head}rule ${nftRuleText(e.rule!, counters)} (verdict ${verdictText(e.verdict)})`);
  return lines;
}

function verdictText(v: VerdictAction): string {
  return v.kind === 'jump' || v.kind === 'goto' ? `${v.kind} ${v.chain}` : v.kind;
}
