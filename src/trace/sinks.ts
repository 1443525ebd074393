/** Trace sinks: a style turns events into lines for an output. */
import { formatInetAddr } from '../packet/inet-addr.js';
import { isIpv6 } from '../packet/ipv6-addr.js';
import type { PacketView, TraceEvent, TraceSink } from './events.js';
import { KernelStyle } from './kernel-style.js';
import { masqStyle } from './masq-style.js';
import type { Palette } from './palette.js';
import { nfLogLine } from '../netfilter/log/nf-log-syslog.js';
import type { NfLogEntry } from '../netfilter/log/nf-log.js';
import type { NftTraceEvent } from '../netfilter/rules/nft-trace.js';
import { traceToolLines } from './trace-tools.js';
import type { TraceCounters } from './nft-rule-listing.js';

import type { TraceStyle } from './styles.js';

export interface LineSink {
  line(text: string): void;
}

/** `counters`: the rule counters `nft monitor trace` lines show (nft-rule-listing.ts). */
export function makeSink(style: TraceStyle, out: LineSink, palette: Palette, multiHost: boolean, counters: TraceCounters = 'zero'): TraceSink {
  switch (style) {
    case 'kernel':
      return new KernelStyle(out, palette, multiHost, counters);
    case 'masq':
      return { emit: (e) => lines(out, masqStyle(e, palette)) };
    case 'json': {
      const replacer = jsonValue(counters);
      return { emit: (e) => out.line(JSON.stringify(e, replacer)) };
    }
  }
}

function lines(out: LineSink, texts: readonly string[]): void {
  for (let i = 0; i < texts.length; i++) out.line(texts[i]!);
}

const ADDRESS_KEYS = new Set(['saddr', 'daddr', 'src', 'dst', 'nexthop']);
/** The events' keys holding a PacketView. */
const PACKET_KEYS = new Set(['pkt', 'before', 'after']);

/**
 * An IPv6 packet's view under IPv6's names: it has a flow label and a hop limit where IPv4 has
 * an id and a TTL (PacketView keeps one field for each pair).
 */
function ipv6PacketJson(view: PacketView): Record<string, unknown> {
  const { ipId, ttl, ...rest } = view;
  return { ...rest, flowLabel: ipId, hopLimit: ttl };
}

/**
 * NDJSON with addresses as text (dotted quads, IPv6 compressed as inet_ntop writes it), bytes in hex, each kernel log entry with its line and
 * each nf_tables trace event with its monitor lines (its rule as written).
 */
function jsonValue(counters: TraceCounters): (key: string, value: unknown) => unknown {
  return (key, value) => {
    if (ADDRESS_KEYS.has(key) && typeof value === 'number') return formatInetAddr(value);
    if (PACKET_KEYS.has(key) && typeof value === 'object' && value !== null && isIpv6((value as PacketView).saddr)) return ipv6PacketJson(value as PacketView);
    if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
    if (key === 'logs' && Array.isArray(value)) return (value as NfLogEntry[]).map((entry) => ({ ...entry, line: nfLogLine(entry) }));
    if (key === 'nftTrace' && Array.isArray(value)) return (value as NftTraceEvent[]).map((e) => ({ ...e, rule: e.rule?.text ?? null, lines: traceToolLines(e, counters) }));
    return value;
  };
}

export type { TraceEvent };
