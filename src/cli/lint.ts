/**
 * `natsim lint FILE...`: every construct natsim cannot evaluate, and every rule the kernel
 * would refuse, with file, line and column — all at once, not only the first. A FILE is a
 * ruleset (iptables-save or nft text) or a scenario, whose hosts' rulesets are linted where
 * they are: an inline ruleset's problems at their line and column in the YAML, a ruleset-file's
 * in that file. Exit 0 when clean, 1 when anything was found.
 */
import { extname } from 'node:path';
import { InputError } from '../errors.js';
import { lintRuleset, shift } from '../netfilter/rules/parse.js';
import { loadScenario } from '../scenario/load.js';
import type { RulesetSpec } from '../scenario/spec.js';
import type { LineSink } from '../trace/sinks.js';
import { requireFile } from './input-file.js';
import { readTextInput } from '../text-input.js';

const SCENARIO_EXT = new Set(['.yaml', '.yml']);

export function lintCommand(files: readonly string[], out: LineSink): number {
  let found = 0;
  let rulesets = 0;
  for (const file of files) {
    for (const spec of rulesetsOf(requireFile(file))) {
      rulesets++;
      for (const problem of lintRuleset(spec.text, spec.file)) {
        out.line(new InputError(shift(problem.place, spec), problem.reason).message);
        found++;
      }
    }
  }
  out.line(found === 0 ? `lint: ${rulesets} ruleset(s), no problems` : `lint: ${found} problem(s)`);
  return found === 0 ? 0 : 1;
}

/** The ruleset a file is, or the rulesets of a scenario's hosts. */
function rulesetsOf(file: string): RulesetSpec[] {
  if (SCENARIO_EXT.has(extname(file).toLowerCase())) return loadScenario(file).hosts.flatMap((h) => (h.ruleset ? [h.ruleset] : []));
  return [{ text: readTextInput(file), file, lineOffset: 0, colOffset: 0 }];
}
