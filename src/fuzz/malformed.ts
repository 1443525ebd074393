/**
 * Bad input never crashes natsim: a mutated scenario text through parseScenario, new World and
 * a short run, and a mutated capture through replayCapture, either finish or throw InputError.
 * Anything else (another exception, or a case running longer than its bound) is a Crash.
 */
import { writeFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { parseScenario } from '../scenario/load.js';
import { loadNode, nodeScenario } from '../node/snapshot.js';
import type { ScenarioSpec } from '../scenario/spec.js';
import { replayCapture } from '../world/capture-replay.js';
import { World } from '../world/world.js';
import type { SeedCapture } from './generators.js';

/** Virtual time a mutated scenario runs for (ns). */
export const MUTATED_RUN_NS = 5e9;
/**
 * Wall-clock bound for one case in `npm run fuzz`: longer counts as a hang. Tests pass no
 * bound (NO_BOUND): a busy machine must not fail them, and vitest's own timeout catches a hang.
 */
export const CASE_BOUND_MS = 5000;
export const NO_BOUND = Number.POSITIVE_INFINITY;

export class Crash extends Error {
  constructor(
    readonly kind: 'exception' | 'hang',
    readonly original: unknown,
    detail: string,
  ) {
    super(detail);
    this.name = 'Crash';
  }
}

export type Outcome = 'ok' | 'input-error';

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
}

/** Runs a mutated scenario; returns how it ended, or throws Crash. */
export function checkMutatedScenario(text: string, file: string, boundMs = CASE_BOUND_MS): { outcome: Outcome; reason: string | null } {
  const began = Date.now();
  let result: { outcome: Outcome; reason: string | null };
  try {
    const spec = parseScenario(text, file);
    const world = new World(spec, { sink: null });
    world.run(Math.min(spec.until ?? MUTATED_RUN_NS, MUTATED_RUN_NS));
    result = { outcome: 'ok', reason: null };
  } catch (e) {
    if (!(e instanceof InputError)) throw new Crash('exception', e, `scenario input threw a non-InputError: ${describe(e)}`);
    result = { outcome: 'input-error', reason: e.reason };
  }
  const took = Date.now() - began;
  if (took > boundMs) throw new Crash('hang', null, `scenario case took ${took} ms (bound ${boundMs} ms)`);
  return result;
}

const specs = new Map<string, ScenarioSpec>();

/** The capture's own host: the node snapshot it sits in (fixtures/kernel/NAME). */
export function captureScenario(seed: SeedCapture): ScenarioSpec {
  let spec = specs.get(seed.dir);
  if (!spec) {
    spec = nodeScenario(loadNode(seed.dir));
    specs.set(seed.dir, spec);
  }
  return spec;
}

/** Replays mutated capture bytes (written to `path`); returns how it ended, or throws Crash. */
export async function checkMutatedCapture(bytes: Uint8Array, seed: SeedCapture, path: string, boundMs = CASE_BOUND_MS): Promise<{ outcome: Outcome; reason: string | null; records: number }> {
  writeFileSync(path, bytes);
  const spec = captureScenario(seed);
  const began = Date.now();
  let result: { outcome: Outcome; reason: string | null; records: number };
  try {
    const r = await replayCapture(path, spec, { sink: null });
    result = { outcome: 'ok', reason: null, records: r.records };
  } catch (e) {
    if (!(e instanceof InputError)) throw new Crash('exception', e, `capture replay threw a non-InputError: ${describe(e)}`);
    result = { outcome: 'input-error', reason: e.reason, records: 0 };
  }
  const took = Date.now() - began;
  if (took > boundMs) throw new Crash('hang', null, `capture case took ${took} ms (bound ${boundMs} ms)`);
  return result;
}

/** A short name for an InputError's reason (its text up to the first quote, number or colon). */
export function reasonClass(reason: string | null): string {
  if (reason === null) return 'ok';
  return reason.replace(/'[^']*'|"[^"]*"|\d+/g, '_').replace(/\s+/g, ' ').slice(0, 60);
}
