/**
 * A scenario's run list on the clock. Every step is read before the run, so a bad one is
 * refused before anything is printed; each is started when the clock reaches it and schedules
 * the next, so however long the list, the clock holds one event for it (plus those of the
 * steps running), not one per step.
 */
import type { RunStep } from '../scenario/spec.js';
import { parseAction, startAction } from './actions.js';
import type { World } from './world.js';

/** `steps` in time order (parseScenario sorts them, keeping the file's order for ties). */
export function scheduleSteps(world: World, steps: readonly RunStep[]): void {
  // a ping's echo id, unless it gives one, is drawn here for every ping step in order (as
  // before steps were started lazily), so a seeded run draws the same numbers
  const echoIds = new Uint16Array(steps.length);
  steps.forEach((step, i) => {
    if (parseAction(step).kind === 'ping') echoIds[i] = world.prng.u16();
  });
  const feed = (i: number): void => {
    const step = steps[i]!;
    world.queue.atStep(step.at, i, 0, () => {
      if (i + 1 < steps.length) feed(i + 1);
      startAction(world, i, step, echoIds[i]!);
    });
  };
  if (steps.length > 0) feed(0);
}
