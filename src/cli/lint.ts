/**
 * `natsim lint RULESET...`: every construct natsim cannot evaluate, and every rule the kernel
 * would refuse, with file, line and column — all at once, not only the first. Exit 0 when
 * clean, 1 when anything was found.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { lintRuleset } from '../netfilter/rules/parse.js';
import type { Output } from '../trace/output.js';

export function lintCommand(files: readonly string[], out: Output): number {
  let found = 0;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new InputError({ file }, `cannot read: ${(e as Error).message}`);
    }
    for (const problem of lintRuleset(text, file)) {
      out.line(problem.message);
      found++;
    }
  }
  out.line(found === 0 ? `lint: ${files.length} ruleset(s), no problems` : `lint: ${found} problem(s)`);
  return found === 0 ? 0 : 1;
}
