/**
 * `natsim stats` on a terminal: the per-CPU conntrack counters as a table that fits the
 * terminal — a row per counter and a column per CPU (conntrack -S's line per CPU is ~150
 * columns wide), the CPUs split over several tables when they do not fit side by side. Colour
 * only when asked (cyan headings, grey borders); red is for errors, never for a table.
 */
import Table from 'cli-table3';
import { Chalk } from 'chalk';
import type { ConntrackStats } from '../netfilter/conntrack/stats.js';

/** A column's frame: a border character and one space of padding either side. */
const COLUMN_FRAME = 3;

/** No rule between the counters' rows: one line each. */
const COMPACT = {
  top: '─', 'top-mid': '┬', 'top-left': '┌', 'top-right': '┐',
  bottom: '─', 'bottom-mid': '┴', 'bottom-left': '└', 'bottom-right': '┘',
  left: '│', right: '│', middle: '│',
  mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '',
};

export function statsTables(stats: ConntrackStats, width: number, color: boolean): string[] {
  const rows = stats.rows();
  const nameWidth = Math.max('counter'.length, ...stats.fields.map((f) => f.length));
  const cpuWidth = (cpu: number): number => Math.max(`cpu=${cpu}`.length, ...stats.fields.map((f) => String(rows[cpu]![f]).length));
  const tables: string[] = [];
  let first = 0;
  while (first < rows.length) {
    // as many CPUs as fit beside the counter names (at least one, however narrow the terminal)
    let used = 1 + nameWidth + COLUMN_FRAME;
    let last = first;
    while (last < rows.length && (last === first || used + cpuWidth(last) + COLUMN_FRAME <= width)) used += cpuWidth(last++) + COLUMN_FRAME;
    const cpus = Array.from({ length: last - first }, (_, i) => first + i);
    // coloured by natsim's own chalk (level 1 when asked): cli-table3's colours follow their own
    // terminal detection, which CI=true and a pipe turn off
    const ch = new Chalk({ level: color ? 1 : 0 });
    const table = new Table({
      head: ['counter', ...cpus.map((c) => `cpu=${c}`)].map((h) => ch.cyan(h)),
      chars: color ? (Object.fromEntries(Object.entries(COMPACT).map(([k, v]) => [k, v === '' ? v : ch.gray(v)])) as typeof COMPACT) : COMPACT,
      style: { head: [], border: [] },
    });
    for (const f of stats.fields) table.push([f, ...cpus.map((c) => rows[c]![f]!)]);
    tables.push(table.toString());
    first = last;
  }
  return tables;
}
