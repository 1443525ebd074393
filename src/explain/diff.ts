/**
 * Comparing two runs' flow fates (fate.ts) and counters: every flow whose fate, place, reason,
 * translated tuple or dropped packets differ, in the order the first run met them (then the
 * flows only the second met), and every counter that moved.
 */
import type { FateTable, FlowFate } from './fate.js';
import type { FlowTuple } from './finding.js';
import { columnsTuple, flowKey, TupleIndex } from './flow-index.js';
import { flowTuple } from './flow-tuple.js';

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

/** A run's fates, its original tuples (TupleIndex.columns: the fates' tuple numbers), and its counters. */
export interface RunFates {
  readonly tuples: Float64Array;
  readonly fates: FateTable;
  readonly counters: Readonly<Record<string, number>>;
}

/** The flows two runs met (how many, both counted once) and those whose fates differ. */
export interface FlowChanges {
  readonly flows: number;
  readonly changes: FlowChange[];
}

/** Each row's flowKey in `index`, where the run's tuples are numbered as both runs' are. */
function rowKeys(run: RunFates, index: TupleIndex): Float64Array {
  const ids = index.numbering(run.tuples);
  const keys = new Float64Array(run.fates.rows);
  for (let row = 0; row < run.fates.rows; row++) keys[row] = flowKey(ids[run.fates.tuple(row)]!, run.fates.life(row));
  return keys;
}

/** Rows are compared as numbers: only a changed flow is turned into objects. */
export function flowChanges(before: RunFates, after: RunFates): FlowChanges {
  const index = new TupleIndex();
  const keysBefore = rowKeys(before, index);
  const keysAfter = rowKeys(after, index);
  const afterRow = new Map<number, number>();
  for (let row = 0; row < keysAfter.length; row++) afterRow.set(keysAfter[row]!, row);
  const changes: FlowChange[] = [];
  const change = (run: RunFates, row: number, b: FlowFate | null, a: FlowFate | null): void =>
    void changes.push({ flow: flowTuple(columnsTuple(run.tuples, run.fates.tuple(row))), life: run.fates.life(row), before: b, after: a });
  for (let row = 0; row < keysBefore.length; row++) {
    const o = afterRow.get(keysBefore[row]!);
    afterRow.delete(keysBefore[row]!);
    if (o === undefined) change(before, row, before.fates.fate(row), null);
    else if (!before.fates.sameFate(row, after.fates, o)) change(before, row, before.fates.fate(row), after.fates.fate(o));
  }
  // the flows only the second run met, in its order
  for (const o of afterRow.values()) change(after, o, null, after.fates.fate(o));
  return { flows: keysBefore.length + afterRow.size, changes };
}
export function counterChanges(before: RunFates, after: RunFates): CounterChange[] {
  const names = [...new Set([...Object.keys(before.counters), ...Object.keys(after.counters)])];
  return names.map((name) => ({ name, before: before.counters[name] ?? 0, after: after.counters[name] ?? 0 })).filter((c) => c.before !== c.after);
}
