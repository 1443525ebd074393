/**
 * The three fuzz targets as fast-check properties, shared by `npm run fuzz`: generated worlds
 * (invariants a–e), mutated scenario texts and mutated captures (InputError or nothing).
 */
import fc from 'fast-check';
import { mutatedCaptureArb, mutatedScenarioArb, seedCaptures, seedScenarios, worldArb, worldYaml, type MutatedCapture, type MutatedScenario, type WorldCase } from './generators.js';
import { checkWorldCase } from './invariants.js';
import { checkMutatedCapture, checkMutatedScenario } from './malformed.js';

export type TargetName = 'world' | 'scenario' | 'capture';
export const TARGETS: readonly TargetName[] = ['world', 'scenario', 'capture'];

/** What a reproducer holds: the input, and how to feed it to natsim again. */
export interface Reproducer {
  readonly target: TargetName;
  /** scenario YAML (world, scenario) or capture bytes (capture) */
  readonly text?: string;
  readonly bytes?: Uint8Array;
  /** For a scenario: the file name it was parsed as (ruleset-file paths resolve from it). */
  readonly file?: string;
  /** For a capture: the fixture directory, a node snapshot, it is replayed on. */
  readonly scenarioDir?: string;
}

export function reproducerOf(target: TargetName, value: unknown): Reproducer {
  if (target === 'world') return { target, text: worldYaml(value as WorldCase), file: 'gen.yaml' };
  if (target === 'scenario') {
    const m = value as MutatedScenario;
    return { target, text: m.text, file: m.file };
  }
  const m = value as MutatedCapture;
  return { target, bytes: m.bytes, scenarioDir: m.seed.dir };
}

/** Called before each case (the worker reports it, so a hang can be written out). */
export type OnCase = (target: TargetName, value: unknown) => void;

export function properties(dir: string, onCase: OnCase): Record<TargetName, fc.IAsyncProperty<[unknown]>> {
  const seeds = seedScenarios();
  const captures = seedCaptures();
  let n = 0;
  return {
    world: fc.asyncProperty(worldArb as fc.Arbitrary<unknown>, async (w) => {
      onCase('world', w);
      checkWorldCase(w as WorldCase, worldYaml(w as WorldCase));
    }),
    scenario: fc.asyncProperty(mutatedScenarioArb(seeds) as fc.Arbitrary<unknown>, async (v) => {
      onCase('scenario', v);
      const m = v as MutatedScenario;
      checkMutatedScenario(m.text, m.file);
    }),
    capture: fc.asyncProperty(mutatedCaptureArb(captures) as fc.Arbitrary<unknown>, async (v) => {
      onCase('capture', v);
      const m = v as MutatedCapture;
      await checkMutatedCapture(m.bytes, m.seed, `${dir}/case-${n++ % 16}.pcap`);
    }),
  };
}
