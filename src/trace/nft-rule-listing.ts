/**
 * A rule as `nft monitor trace` prints it: from nft's rule cache, filled when the monitor
 * started (trace_print_rule looks the rule handle up there; counter updates send no event, so
 * the cache keeps the counters of that moment). A monitor started with the capture shows every
 * counter as it was then: zero for a ruleset loaded just before (as in the recordings), or the
 * ruleset file's figures when they were taken before the capture (`--trace-counters ruleset`).
 * The text is the rule's line in the ruleset file — `nft list ruleset` wrote it as nft prints
 * rules — or natsim's rendering when that line cannot be read.
 */
import { readTextInput } from '../text-input.js';
import type { Rule } from '../netfilter/rules/model.js';

/** Which counters the monitor's cache holds: zero, or those the ruleset file shows. */
export type TraceCounters = 'zero' | 'ruleset';
export const TRACE_COUNTERS: readonly TraceCounters[] = ['zero', 'ruleset'];

const fileLines = new Map<string, readonly string[] | null>();

export function nftRuleText(rule: Rule, counters: TraceCounters): string {
  const text = listedText(rule);
  const zero = 'counter packets 0 bytes 0';
  return counters === 'zero' ? text.replace(/\bcounter( packets \d+ bytes \d+)?/g, zero) : text.replace(/\bcounter(?! packets)/g, zero);
}

/** The rule's text from its place in the file, if it is there (its first word where it says). */
function listedText(rule: Rule): string {
  const { file, line, col } = rule.place;
  if (line === undefined || col === undefined) return rule.text;
  if (!fileLines.has(file)) fileLines.set(file, readLines(file));
  const listed = fileLines.get(file)?.[line - 1]?.slice(col - 1).trimEnd();
  const firstWord = rule.text.split(' ', 1)[0]!;
  return listed !== undefined && listed.startsWith(firstWord) ? listed : rule.text;
}

function readLines(file: string): readonly string[] | null {
  try {
    return readTextInput(file).split('\n');
  } catch {
    return null;
  }
}
