/**
 * Line-accurate places for YAML nodes, so every scenario error names file, line and column.
 */
import { LineCounter, isMap, isScalar, isSeq, type Node, type Document } from 'yaml';
import { InputError, type SourcePlace } from '../errors.js';

export interface LineShift {
  readonly after: number;
  readonly by: number;
}

const NO_SHIFT: LineShift = { after: 0, by: 0 };

export class YamlSource {
  constructor(
    readonly file: string,
    readonly doc: Document,
    private readonly lines: LineCounter,
    /** The document's text as written (for block scalars' indentation). */
    readonly source: string,
    /** The document's lines after `after` are the file's `by` lines further on (a document cut from the file: scenario/run-list.ts). */
    private readonly shift: LineShift = NO_SHIFT,
  ) {}

  place(node: Node | null | undefined): SourcePlace {
    return this.placeAt(node?.range?.[0] ?? 0);
  }

  /** The place of an offset in the document's text. */
  placeAt(offset: number): SourcePlace {
    const pos = this.lines.linePos(offset);
    return { file: this.file, line: pos.line > this.shift.after ? pos.line + this.shift.by : pos.line, col: pos.col };
  }

  fail(node: Node | null | undefined, reason: string): never {
    throw new InputError(this.place(node), reason);
  }

  /** The pairs of a mapping node, keys as strings; an error if it is not a mapping. */
  entries(node: Node | null | undefined, what: string): [string, Node | null, Node][] {
    if (!isMap(node)) this.fail(node, `${what} must be a mapping`);
    return node.items.map((pair) => {
      const key = pair.key as Node;
      if (!isScalar(key)) this.fail(key, `${what}: keys must be plain names`);
      return [String(key.value), (pair.value as Node | null) ?? null, key];
    });
  }

  items(node: Node | null | undefined, what: string): Node[] {
    if (node === null || node === undefined) return [];
    if (!isSeq(node)) this.fail(node, `${what} must be a list`);
    return node.items as Node[];
  }

  text(node: Node | null | undefined, what: string): string {
    if (!isScalar(node) || (typeof node.value !== 'string' && typeof node.value !== 'number')) this.fail(node, `${what} must be a string`);
    return String(node.value);
  }

  num(node: Node | null | undefined, what: string): number {
    if (!isScalar(node) || typeof node.value !== 'number' || !Number.isInteger(node.value)) this.fail(node, `${what} must be a whole number`);
    return node.value;
  }
}

export function yamlLineCounter(): LineCounter {
  return new LineCounter();
}
