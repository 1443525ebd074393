/**
 * The tool a user reads nf_tables trace events with: `nft monitor trace` for nft tables,
 * `xtables-monitor --trace` for the ones iptables-nft made.
 */
import type { NftTraceEvent } from '../netfilter/rules/nft-trace.js';
import { nftMonitorLines } from './nft-monitor.js';
import { xtablesMonitorLines } from './xtables-monitor.js';
import type { TraceCounters } from './nft-rule-listing.js';

/** `counters`: what nft's rule cache holds (xtables-monitor prints no counters). */
export function traceToolLines(e: NftTraceEvent, counters: TraceCounters): string[] {
  return e.source === 'nft' ? nftMonitorLines(e, counters) : xtablesMonitorLines(e);
}
