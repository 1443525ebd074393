/** Trace sinks: a style turns events into lines for an output. */
import { formatIpv4 } from '../packet/ipv4-addr.js';
import type { TraceEvent, TraceSink } from './events.js';
import { kernelStyle } from './kernel-style.js';
import { masqStyle } from './masq-style.js';
import type { Palette } from './palette.js';
import { nfLogLine } from '../netfilter/log/nf-log-syslog.js';
import type { NfLogEntry } from '../netfilter/log/nf-log.js';
import type { NftTraceEvent } from '../netfilter/rules/nft-trace.js';
import { traceToolLines } from './trace-tools.js';

export type TraceStyle = 'kernel' | 'masq' | 'json';
export const TRACE_STYLES: readonly TraceStyle[] = ['kernel', 'masq', 'json'];

export interface LineSink {
  line(text: string): void;
}

export function makeSink(style: TraceStyle, out: LineSink, palette: Palette, multiHost: boolean): TraceSink {
  switch (style) {
    case 'kernel':
      return { emit: (e) => lines(out, kernelStyle(e, palette, multiHost)) };
    case 'masq':
      return { emit: (e) => lines(out, masqStyle(e, palette)) };
    case 'json':
      return { emit: (e) => out.line(JSON.stringify(e, jsonValue)) };
  }
}

function lines(out: LineSink, texts: readonly string[]): void {
  for (let i = 0; i < texts.length; i++) out.line(texts[i]!);
}

const ADDRESS_KEYS = new Set(['saddr', 'daddr', 'src', 'dst', 'nexthop']);

/**
 * NDJSON with addresses as dotted quads, bytes in hex, each kernel log entry with its line and
 * each nf_tables trace event with its monitor lines (its rule as written).
 */
function jsonValue(key: string, value: unknown): unknown {
  if (ADDRESS_KEYS.has(key) && typeof value === 'number') return formatIpv4(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (key === 'logs' && Array.isArray(value)) return (value as NfLogEntry[]).map((entry) => ({ ...entry, line: nfLogLine(entry) }));
  if (key === 'nftTrace' && Array.isArray(value)) return (value as NftTraceEvent[]).map((e) => ({ ...e, rule: e.rule?.text ?? null, lines: traceToolLines(e) }));
  return value;
}

export type { TraceEvent };
