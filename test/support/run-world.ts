/**
 * Runs a scenario and keeps every trace event its traced hosts emitted: the set-up most world
 * tests share.
 */
import { World, type WorldOptions } from '../../src/world/world.js';
import type { ScenarioSpec } from '../../src/scenario/spec.js';
import type { TraceEvent } from '../../src/trace/events.js';

export function runWorld(spec: ScenarioSpec, options: Omit<WorldOptions, 'sink'> = {}, until?: number): { world: World; events: TraceEvent[] } {
  const events: TraceEvent[] = [];
  const world = new World(spec, { ...options, sink: { emit: (e) => void events.push(e) } });
  world.run(until);
  return { world, events };
}
