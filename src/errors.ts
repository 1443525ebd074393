/**
 * Errors natsim raises. A bad input (capture, scenario, ruleset) is an InputError that names
 * the file and the place; the CLI prints it on one line and exits 2. Anything else is a bug.
 * Packet fate is never an exception: drops are verdicts with reasons (see netfilter/verdict.ts).
 */

import { characterColumn } from './text-columns.js';

/** Where in an input file a problem is: 1-based line and column for text, a byte offset for binary. */
export interface SourcePlace {
  readonly file: string;
  readonly line?: number;
  /** In UTF-16 units, as the line's string is indexed; said in characters (text-columns.ts). */
  readonly col?: number;
  /** Byte offset in a binary file (captures). */
  readonly offset?: number;
  /** 1-based record number in a capture. */
  readonly record?: number;
}

export class InputError extends Error {
  constructor(
    readonly place: SourcePlace,
    readonly reason: string,
  ) {
    super(`${formatPlace(place)}: ${reason}`);
    this.name = 'InputError';
  }
}

export function formatPlace(p: SourcePlace): string {
  let s = p.file;
  if (p.line !== undefined) {
    s += `:${p.line}`;
    if (p.col !== undefined) s += `:${characterColumn(p.file, p.line, p.col)}`;
  }
  const extra: string[] = [];
  if (p.record !== undefined) extra.push(`record ${p.record}`);
  if (p.offset !== undefined) extra.push(`byte offset ${p.offset}`);
  if (extra.length > 0) s += ` (${extra.join(', ')})`;
  return s;
}
