/**
 * The one duration syntax of natsim, on the command line (--until) and in scenarios (`at:`,
 * `until:`, `hold`, `interval`): a number with a unit — `2m`, `1s`, `1.5s`, `500ms`, `10us`,
 * `100ns` — or a bare number, meaning seconds.
 */

const UNIT_NS = { h: 3600e9, m: 60e9, s: 1e9, ms: 1e6, us: 1e3, ns: 1 } as const;
type Unit = keyof typeof UNIT_NS;

/**
 * The latest time natsim's clock holds: it counts nanoseconds in a double, exact up to 2^53 ns
 * (about 104 days). A later time is refused where it is written, never run inexactly or skipped.
 */
export const MAX_CLOCK_NS = Number.MAX_SAFE_INTEGER;

/** MAX_CLOCK_NS said for an error message. */
export const CLOCK_LIMIT_TEXT = "natsim's clock counts nanoseconds exactly up to 2^53 ns (about 104 days)";

/** What to show a user who wrote something else. */
export const DURATION_HINT = 'a duration such as 2m, 1.5s, 500ms or 5 (seconds)';

/** The duration in nanoseconds, or null when the text is not one. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(h|m|s|ms|us|ns)?$/.exec(text.trim());
  if (!m) return null;
  return Math.round(Number(m[1]) * UNIT_NS[(m[2] ?? 's') as Unit]);
}
