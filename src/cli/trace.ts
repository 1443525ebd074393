/** `natsim trace INPUT`: per-hook traces of every packet through the traced host(s). */
import type { LineStream } from './io.js';
import { makePalette, wantColor } from '../trace/palette.js';
import { makeSink } from '../trace/sinks.js';
import type { TraceStyle } from '../trace/styles.js';
import { runInput, type RunOptions } from './run-input.js';
import { diagnosis } from '../report/diagnosis.js';
import type { TraceCounters } from '../trace/nft-rule-listing.js';

export interface TraceOptions extends RunOptions {
  readonly style: TraceStyle;
  readonly color: boolean;
  /** What nft monitor trace lines show as rule counters (--trace-counters; absent: zero). */
  readonly traceCounters?: TraceCounters;
}

export async function traceCommand(input: string, options: TraceOptions, out: LineStream): Promise<number> {
  const palette = makePalette(wantColor(out.terminal, !options.color));
  // what was traced before an error is flushed by main, with the error after it on stderr
  const result = await runInput(input, options, (multi) => makeSink(options.style, out, palette, multi, options.traceCounters ?? 'zero'));
  if (options.style !== 'json') for (const line of diagnosis(result)) out.line(line);
  return 0;
}
