/**
 * The `run:` list read a slice at a time. The YAML reader builds a tree of the whole document
 * (several KB per step), so a scenario of a million steps would need gigabytes to read. When
 * the list is a plain block sequence under a top-level `run:` key, the document is read without
 * it and the list in slices of whole items, each slice a document of its own; every place is
 * shifted back to the file's lines.
 * Anything else — a flow list, document markers, aliases, or any error at all — is read as one
 * document again, so what is accepted and every error said are the whole reader's.
 */

/** Items per slice: a slice's tree is a few MB. */
const SLICE_ITEMS = 2000;

/** A slice of the run list: its text and the file line its first line is. */
export interface RunSlice {
  readonly text: string;
  readonly firstLine: number;
  /** How many items it must hold. */
  readonly items: number;
}

export interface SplitScenario {
  /** The document without the run list's lines. */
  readonly head: string;
  /** The line of the `run:` key, and how many lines its list takes after it. */
  readonly runLine: number;
  readonly runLines: number;
  readonly slices: RunSlice[];
}

/** The scenario cut as above, or null when its run list is not a plain block sequence. */
export function splitRunList(text: string): SplitScenario | null {
  if (/^(---|\.\.\.|%)/m.test(text)) return null;
  const key = /^run[ \t]*:[ \t]*(#.*)?\r?$/m.exec(text);
  if (!key) return null;
  const lines = new LineWalk(text, key.index);
  const runLine = lines.number;
  lines.next();
  const blockStart = lines.offset;
  let indent = -1;
  const itemStarts: { offset: number; line: number }[] = [];
  for (; !lines.done; lines.next()) {
    const { content, spaces } = lines.current();
    if (content === '' || content.startsWith('#')) continue;
    if (indent < 0) indent = spaces;
    if (spaces === 0 && (indent > 0 || !isItem(content))) break;
    if (spaces < indent) return null;
    if (spaces === indent) {
      if (!isItem(content)) return null;
      itemStarts.push({ offset: lines.offset, line: lines.number });
    }
  }
  if (itemStarts.length === 0) return null;
  const blockEnd = lines.offset;
  const slices: RunSlice[] = [];
  for (let i = 0; i < itemStarts.length; i += SLICE_ITEMS) {
    const first = itemStarts[i]!;
    const end = itemStarts[i + SLICE_ITEMS]?.offset ?? blockEnd;
    slices.push({ text: text.slice(first.offset, end), firstLine: first.line, items: Math.min(SLICE_ITEMS, itemStarts.length - i) });
  }
  return { head: text.slice(0, blockStart) + text.slice(blockEnd), runLine, runLines: lines.number - runLine - 1, slices };
}

/** A block sequence entry: `-` then a space or the line's end. */
function isItem(content: string): boolean {
  return content === '-' || content.startsWith('- ') || content.startsWith('-\t');
}

/** The lines of a text from an offset on, one at a time, with 1-based numbers. */
class LineWalk {
  offset: number;
  number: number;
  private end: number;

  constructor(
    private readonly text: string,
    from: number,
  ) {
    this.offset = from;
    this.number = countLines(text, from) + 1;
    this.end = this.lineEnd();
  }

  get done(): boolean {
    return this.offset >= this.text.length;
  }

  next(): void {
    this.offset = Math.min(this.end + 1, this.text.length);
    this.number++;
    this.end = this.lineEnd();
  }

  /** The line without its indentation (spaces only) and line end, and how many spaces lead it. */
  current(): { content: string; spaces: number } {
    let i = this.offset;
    while (i < this.end && this.text.charCodeAt(i) === 32) i++;
    return { content: this.text.slice(i, this.end).replace(/\r$/, '').trimEnd(), spaces: i - this.offset };
  }

  private lineEnd(): number {
    const nl = this.text.indexOf('\n', this.offset);
    return nl < 0 ? this.text.length : nl;
  }
}

function countLines(text: string, upTo: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < upTo; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
