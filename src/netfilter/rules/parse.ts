/**
 * Picks the front-end for a ruleset text: iptables-save output (`*table` … `COMMIT`) or nft.
 * Errors are moved to where the text sits in its file (a scenario's inline ruleset).
 */
import { InputError, type SourcePlace } from '../../errors.js';
import type { RulesetSpec } from '../../scenario/spec.js';
import { parseIptablesSave } from './iptables-parser.js';
import type { Ruleset } from './model.js';
import { parseNft } from './nft-parser.js';
import { validateRuleset } from './validate.js';

/** iptables-save text starts (after comments) with a table header such as `*nat`. */
export function looksLikeIptablesSave(text: string): boolean {
  const first = text.split('\n').find((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  return first?.trimStart().startsWith('*') ?? false;
}

export function parseRuleset(spec: RulesetSpec): Ruleset {
  let ruleset: Ruleset;
  try {
    ruleset = looksLikeIptablesSave(spec.text) ? parseIptablesSave(spec.text, spec.file) : parseNft(spec.text, spec.file);
    validateRuleset(ruleset);
  } catch (e) {
    if (!(e instanceof InputError) || spec.lineOffset === 0) throw e;
    throw new InputError(shift(e.place, spec), e.reason);
  }
  if (spec.lineOffset !== 0) {
    for (const table of ruleset.tables) {
      for (const chain of table.chains.values()) chain.rules.splice(0, chain.rules.length, ...chain.rules.map((r) => ({ ...r, place: shift(r.place, spec) })));
    }
  }
  return ruleset;
}

function shift(p: SourcePlace, spec: RulesetSpec): SourcePlace {
  return { ...p, line: p.line === undefined ? undefined : p.line + spec.lineOffset, col: p.col === undefined ? undefined : p.col + spec.colOffset };
}
