/**
 * Comparing two runs' flow fates (fate.ts) and counters: every flow whose fate, place, reason,
 * translated tuple or dropped packets differ, in the order the first run met them (then the
 * flows only the second met), and every counter that moved.
 */
import { fateOfSignature, flowOfId, type FlowFate } from './fate.js';
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

/** A run's fates by flow id (`key#life`) as signatures (fate.ts fateSignature), and its counters. */
export interface RunFates {
  readonly fates: ReadonlyMap<string, string>;
  readonly counters: Readonly<Record<string, number>>;
}

/** Equal signatures are equal fates: only a changed flow is turned back into objects. */
export function flowChanges(before: RunFates, after: RunFates): FlowChange[] {
  const changes: FlowChange[] = [];
  const change = (id: string, b: string | undefined, a: string | undefined): void => {
    if (b === a) return;
    changes.push({ ...flowOfId(id), before: b === undefined ? null : fateOfSignature(b), after: a === undefined ? null : fateOfSignature(a) });
  };
  for (const [id, b] of before.fates) change(id, b, after.fates.get(id));
  for (const [id, a] of after.fates) if (!before.fates.has(id)) change(id, undefined, a);
  return changes;
}

export function counterChanges(before: RunFates, after: RunFates): CounterChange[] {
  const names = [...new Set([...Object.keys(before.counters), ...Object.keys(after.counters)])];
  return names.map((name) => ({ name, before: before.counters[name] ?? 0, after: after.counters[name] ?? 0 })).filter((c) => c.before !== c.after);
}
