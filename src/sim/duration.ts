/**
 * The one duration syntax of natsim, on the command line (--until) and in scenarios (`at:`,
 * `until:`, `hold`, `interval`): a number with a unit — `2m`, `1s`, `1.5s`, `500ms`, `10us`,
 * `100ns` — or a bare number, meaning seconds.
 */

const UNIT_NS = { h: 3600e9, m: 60e9, s: 1e9, ms: 1e6, us: 1e3, ns: 1 } as const;
type Unit = keyof typeof UNIT_NS;

/** What to show a user who wrote something else. */
export const DURATION_HINT = 'a duration such as 2m, 1.5s, 500ms or 5 (seconds)';

/** The duration in nanoseconds, or null when the text is not one. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(h|m|s|ms|us|ns)?$/.exec(text.trim());
  if (!m) return null;
  return Math.round(Number(m[1]) * UNIT_NS[(m[2] ?? 's') as Unit]);
}
