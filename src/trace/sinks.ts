/** Trace sinks: a style turns events into lines for an output. */
import { formatIpv4 } from '../packet/ipv4-addr.js';
import type { TraceEvent, TraceSink } from './events.js';
import { kernelStyle } from './kernel-style.js';
import { masqStyle } from './masq-style.js';
import type { Palette } from './palette.js';

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

/** NDJSON with addresses as dotted quads. */
function jsonValue(key: string, value: unknown): unknown {
  return ADDRESS_KEYS.has(key) && typeof value === 'number' ? formatIpv4(value) : value;
}

export type { TraceEvent };
