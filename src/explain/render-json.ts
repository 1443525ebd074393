/** Rendering JSON: each host's Explanation (finding.ts) as one JSON object per line. */
import type { Explanation } from './finding.js';

export function renderJson(x: Explanation): string {
  return JSON.stringify(x);
}
