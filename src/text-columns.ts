/**
 * Columns as a reader counts them. Places in text inputs are kept as JavaScript string indexes
 * (UTF-16 units: what slicing a line needs), but an error says the column in characters, so a
 * character outside the Basic Multilingual Plane (an emoji, 4 bytes in UTF-8) counts once.
 * The texts read recently are kept here (text-input.ts, parseScenario) to count against.
 */

/** How many texts are kept: the scenario and the few files it names. */
const KEEP = 16;

interface Known {
  readonly text: string;
  /** Offsets where each line starts, found on first use. */
  starts: number[] | null;
}

const known = new Map<string, Known>();

/** Remembers the text of `file`, to count its columns in characters. */
export function rememberText(file: string, text: string): void {
  known.delete(file);
  known.set(file, { text, starts: null });
  if (known.size > KEEP) known.delete(known.keys().next().value!);
}

/** The 1-based column in characters of a 1-based UTF-16 column; unchanged for a text not kept. */
export function characterColumn(file: string, line: number, col: number): number {
  const k = known.get(file);
  if (!k) return col;
  k.starts ??= lineStarts(k.text);
  const start = k.starts[line - 1];
  if (start === undefined) return col;
  const end = Math.min(start + col - 1, k.text.length);
  let pairs = 0;
  for (let i = start; i < end - 1; i++) {
    const c = k.text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = k.text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        pairs++;
        i++;
      }
    }
  }
  return col - pairs;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}
