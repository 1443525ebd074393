/**
 * nft's relative times (`3h`, `10800s`, `1d2h3m4s5ms`, or a bare number of seconds), as
 * time_parse and time_print in nftables' src/datatype.c read and write them. nft hands the
 * kernel milliseconds; natsim's clock counts nanoseconds, so the readers here return those.
 */

const NS_PER_MS = 1e6;

/** The units time_parse knows, each allowed once, in any order. */
const UNIT_MS: Readonly<Record<string, number>> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** time_parse: digits (at most 8) before each unit; no unit at all means seconds. Null when malformed. */
export function parseNftTime(text: string): number | null {
  if (/^\d{1,8}$/.test(text)) return Number(text) * 1000 * NS_PER_MS;
  const seen = new Set<string>();
  let ms = 0;
  let rest = text;
  while (rest !== '') {
    const m = /^(\d{1,8})(ms|d|h|m|s)/.exec(rest);
    if (m === null || seen.has(m[2]!)) return null;
    seen.add(m[2]!);
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return seen.size === 0 ? null : ms * NS_PER_MS;
}

/** time_print: `1d2h3m4s5ms`, zero parts left out (`0s` for nothing), from nanoseconds. */
export function formatNftTime(ns: number): string {
  let ms = Math.floor(ns / NS_PER_MS);
  let text = '';
  for (const [unit, size] of Object.entries(UNIT_MS)) {
    const n = Math.floor(ms / size);
    ms -= n * size;
    if (n > 0) text += `${n}${unit}`;
  }
  return text === '' ? '0s' : text;
}
