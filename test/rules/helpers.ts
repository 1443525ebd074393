/** Rule-test helpers: ruleset text parsed as a file named "r", and the one-line error it gives. */
import { InputError } from '../../src/errors.js';
import type { Ruleset } from '../../src/netfilter/rules/model.js';
import { parseRuleset } from '../../src/netfilter/rules/parse.js';

export function parse(text: string, file = 'r'): Ruleset {
  return parseRuleset({ text, file, lineOffset: 0, colOffset: 0 });
}

/** The message of the InputError parsing `text` gives; fails the test if it parses. */
export function errorOf(text: string): string {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
  throw new Error('no error');
}
