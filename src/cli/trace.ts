/** `natsim trace INPUT`: per-hook traces of every packet through the traced host(s). */
import type { CliStream, LineStream } from './io.js';
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

/** The trace's output: lines, whether it is a terminal, and whether its reader is still there. */
type TraceOut = LineStream & Pick<CliStream, 'readerGone'>;

export async function traceCommand(input: string, options: TraceOptions, out: TraceOut): Promise<number> {
  const palette = makePalette(wantColor(out.terminal, !options.color));
  // `natsim trace | head`: once the reader has gone, a capture's replay stops, unless it also writes a capture
  const stopWhen = options.writePcap === undefined ? () => out.readerGone : undefined;
  // what was traced before an error is flushed by main, with the error after it on stderr
  const result = await runInput(input, { ...options, stopWhen }, (multi) => makeSink(options.style, out, palette, multi, options.traceCounters ?? 'zero'));
  if (options.style !== 'json') for (const line of diagnosis(result)) out.line(line);
  return 0;
}
