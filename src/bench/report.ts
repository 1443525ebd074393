/** The benchmark's results: a markdown table on stdout and the same rows as JSON. */
import { writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';

export interface CaseResult {
  readonly name: string;
  /** Packets replayed (for the table case: live entries). */
  readonly packets: number;
  /** Median wall time of a run, seconds (null for the table case, which times lookups only). */
  readonly seconds: number | null;
  /** Median CPU time (user + system, every thread) of a run, seconds, where it was measured. */
  readonly cpuSeconds?: number | null;
  /** Packets per second (for the table case: lookups per second). */
  readonly rate: number;
  /** How many times the floor's time per packet this case takes; null where meaningless. */
  readonly ratioToFloor: number | null;
  readonly peakRssMb: number | null;
  readonly runs: number;
  readonly notes: string;
  readonly detail?: Record<string, unknown>;
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGb: number;
  readonly node: string;
  readonly os: string;
}

export function machine(): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model ?? 'unknown',
    cores: list.length,
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${platform()} ${release()}`,
  };
}

export function machineLine(m: Machine): string {
  return `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, node ${m.node}, ${m.os}`;
}

export function markdownTable(results: readonly CaseResult[]): string {
  const rows = [
    ['case', 'packets', 'packets/s', 'CPU s', '× floor', 'peak RSS MB', 'notes'],
    ...results.map((r) => [
      r.name,
      r.packets.toLocaleString('en-US'),
      Math.round(r.rate).toLocaleString('en-US'),
      r.cpuSeconds === undefined || r.cpuSeconds === null ? '–' : r.cpuSeconds.toFixed(2),
      r.ratioToFloor === null ? '–' : r.ratioToFloor.toFixed(2),
      r.peakRssMb === null ? '–' : r.peakRssMb.toFixed(0),
      r.notes,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const left = (i: number): boolean => i === 0 || i === rows[0]!.length - 1; // the case and its notes
  const line = (row: string[]): string => `| ${row.map((cell, i) => (left(i) ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (left(i) ? `-${'-'.repeat(w)}-` : `-${'-'.repeat(w)}:`)).join('|')}|`;
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}

export function writeJson(path: string, data: unknown): void {
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
}
