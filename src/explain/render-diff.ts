/** Rendering a diff: each changed flow before → after, then the counters that moved; or JSON lines. */
import type { CounterChange, FlowChange } from './diff.js';
import type { FlowFate } from './fate.js';
import { tupleText } from './flow-tuple.js';
import { CAUSE_TITLE } from './render-text.js';

function fateText(f: FlowFate | null): string {
  if (f === null) return 'not seen (untracked, or never sent)';
  const where = f.fate === 'dropped' ? `dropped at ${f.where}` : `${f.fate} (confirmed at ${f.where})`;
  const nat = f.translated ? `, as ${tupleText(f.translated)}` : '';
  const why = f.reason ? `, ${CAUSE_TITLE[f.reason]}` : '';
  const died = f.dropped > 0 && f.fate !== 'dropped' ? `, ${f.dropped} packet${f.dropped === 1 ? '' : 's'} dropped` : f.dropped > 1 ? ` (${f.dropped} packets)` : '';
  return `${where}${nat}${why}${died}`;
}

export function diffText(flows: readonly FlowChange[], counters: readonly CounterChange[], total: number): string[] {
  const lines = [`diff: ${flows.length} of ${total} flows changed`];
  for (const c of flows) {
    lines.push(`${tupleText(c.flow)}${c.life > 0 ? ` (use ${c.life + 1} of the tuple)` : ''}`);
    lines.push(`  before: ${fateText(c.before)}`);
    lines.push(`  after:  ${fateText(c.after)}`);
  }
  if (counters.length > 0) lines.push(`counters: ${counters.map((c) => `${c.name} ${c.before} -> ${c.after}`).join(', ')}`);
  return lines;
}

function fateJson(f: FlowFate | null): object | null {
  return f && { fate: f.fate, where: f.where, reason: f.reason, translated: f.translated, dropped: f.dropped };
}

/** One object per changed flow, then one with the counters that moved. */
export function diffJson(flows: readonly FlowChange[], counters: readonly CounterChange[]): string[] {
  const lines = flows.map((c) => JSON.stringify({ flow: c.flow, life: c.life, before: fateJson(c.before), after: fateJson(c.after) }));
  lines.push(JSON.stringify({ counters: Object.fromEntries(counters.map((c) => [c.name, { before: c.before, after: c.after }])) }));
  return lines;
}
