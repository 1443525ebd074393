/**
 * Comparing two runs' flow fates (fate.ts) and counters: every flow whose fate, place, reason,
 * translated tuple or dropped packets differ, in the order the first run met them (then the
 * flows only the second met), and every counter that moved.
 */
import type { FlowFate, TrackedFate } from './fate.js';
import type { FlowTuple } from './finding.js';

export interface FlowChange {
  /** The flow's original tuple, and which use of it (0: the first entry it had). */
  readonly flow: FlowTuple;
  readonly life: number;
  /** null: the run met no such flow (its packets passed untracked, or never came). */
  readonly before: FlowFate | null;
  readonly after: FlowFate | null;
}

export interface CounterChange {
  readonly name: string;
  readonly before: number;
  readonly after: number;
}

/** A run's fates by flow id (`key#life`), and its counters. */
export interface RunFates {
  readonly fates: ReadonlyMap<string, TrackedFate>;
  readonly counters: Readonly<Record<string, number>>;
}

function sameTuple(a: FlowTuple | null, b: FlowTuple | null): boolean {
  if (a === null || b === null) return a === b;
  return a.proto === b.proto && a.src === b.src && a.sport === b.sport && a.dst === b.dst && a.dport === b.dport;
}

function sameFate(a: FlowFate | null, b: FlowFate | null): boolean {
  if (a === null || b === null) return a === b;
  return a.fate === b.fate && a.where === b.where && a.reason === b.reason && a.dropped === b.dropped && sameTuple(a.translated, b.translated);
}

export function flowChanges(before: RunFates, after: RunFates): FlowChange[] {
  const ids = [...before.fates.keys(), ...[...after.fates.keys()].filter((id) => !before.fates.has(id))];
  const changes: FlowChange[] = [];
  for (const id of ids) {
    const b = before.fates.get(id) ?? null;
    const a = after.fates.get(id) ?? null;
    if (sameFate(b?.fate ?? null, a?.fate ?? null)) continue;
    const flow = (b ?? a)!.flow;
    changes.push({ flow, life: Number(id.slice(id.lastIndexOf('#') + 1)), before: b?.fate ?? null, after: a?.fate ?? null });
  }
  return changes;
}

export function counterChanges(before: RunFates, after: RunFates): CounterChange[] {
  const names = [...new Set([...Object.keys(before.counters), ...Object.keys(after.counters)])];
  return names.map((name) => ({ name, before: before.counters[name] ?? 0, after: after.counters[name] ?? 0 })).filter((c) => c.before !== c.after);
}
