/**
 * What nft's own front end does to a script before any rule reaches the kernel (nftables'
 * scanner.l and parser_bison.y): `define NAME = VALUE` / `redefine` / `undefine` and `$NAME`
 * (scope_symbol_add, symbol_lookup), and `include "PATH"` (include_file / include_glob:
 * a relative path is read beside the file that includes it, a glob that matches nothing is no
 * error, a plain path that is missing is). The result is one token stream, each token keeping
 * the file it came from.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { InputError } from '../../errors.js';
import { tokenize, type Token } from './nft-tokens.js';
import { readTextInput } from '../../text-input.js';

/** nft's MAX_INCLUDE_DEPTH. */
const MAX_INCLUDE_DEPTH = 16;

/**
 * The most nft text natsim reads, the file and all it includes: its tokens and rules are held
 * whole while it is read, about 50 bytes of memory per byte of text (a 16 MB ruleset of short
 * rules peaks near 800 MB), so that no ruleset takes natsim past 1 GB.
 */
export const NFT_TEXT_LIMIT_MB = 16;

/** The tokens of an nft file `text` with its defines expanded and its includes read in. */
export function expandScript(text: string, file: string): Token[] {
  const out: Token[] = [];
  const expander = new ScriptExpander(new Map(), out);
  expander.run(expander.tokens(text, file), file, 0);
  return out;
}

class ScriptExpander {
  /** The text read so far, the file and its includes, in UTF-16 units. */
  private read = 0;

  constructor(
    private readonly defines: Map<string, readonly Token[]>,
    private readonly out: Token[],
  ) {}

  /** tokenize, within the limit on all the text read. */
  tokens(text: string, file: string): Token[] {
    this.read += text.length;
    if (this.read > NFT_TEXT_LIMIT_MB * 1024 * 1024) throw new InputError({ file }, `nft text larger than ${NFT_TEXT_LIMIT_MB} MB with what it includes (natsim holds a ruleset's tokens and rules whole: ${NFT_TEXT_LIMIT_MB} MB of nft stays under 1 GB of memory)`);
    return tokenize(text, file);
  }

  run(tokens: readonly Token[], file: string, depth: number): void {
    for (let i = 0; i < tokens.length; i++) {
      const tok = tokens[i]!;
      if (tok.kind === 'end') {
        if (depth === 0) this.out.push(tok);
        else this.out.push({ ...tok, kind: 'eol', text: '\n' });
        continue;
      }
      if (tok.kind === 'word' && this.atStatementStart()) {
        if (tok.text === 'define' || tok.text === 'redefine') {
          i = this.define(tokens, i);
          continue;
        }
        if (tok.text === 'undefine') {
          const name = tokens[i + 1]!;
          this.defines.delete(name.text);
          i++;
          continue;
        }
        if (tok.text === 'include') {
          const path = tokens[i + 1]!;
          if (path.kind !== 'string') fail(path, 'include takes a quoted path');
          this.include(path, file, depth);
          i++;
          continue;
        }
      }
      this.emit(tok);
    }
  }

  /** `define NAME = VALUE` up to the end of its line (braces may span lines). */
  private define(tokens: readonly Token[], at: number): number {
    const name = tokens[at + 1]!;
    const eq = tokens[at + 2]!;
    if (name.kind !== 'word' || eq.text !== '=') fail(name, 'define takes NAME = VALUE');
    const value: Token[] = [];
    let depth = 0;
    let i = at + 3;
    for (; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.kind === 'end' || (depth === 0 && (t.kind === 'eol' || (t.kind === 'punct' && t.text === ';')))) break;
      if (t.kind === 'punct' && t.text === '{') depth++;
      if (t.kind === 'punct' && t.text === '}') depth--;
      if (t.kind === 'eol') continue;
      value.push(...this.expanded(t));
    }
    if (value.length === 0) fail(eq, `define ${name.text} has no value`);
    this.defines.set(name.text, value);
    return i - 1;
  }

  private emit(tok: Token): void {
    for (const t of this.expanded(tok)) this.out.push(t);
  }

  /** A `$NAME` use becomes its value, placed where the use is; any other token is itself. */
  private expanded(tok: Token): readonly Token[] {
    if (tok.kind !== 'word' || !tok.text.startsWith('$')) return [tok];
    const value = this.defines.get(tok.text.slice(1)) ?? fail(tok, `'${tok.text}' is not defined (define ${tok.text.slice(1)} = … before it is used)`);
    return value.map((v) => ({ ...v, line: tok.line, col: tok.col, file: tok.file }));
  }

  private atStatementStart(): boolean {
    const last = this.out[this.out.length - 1];
    return last === undefined || last.kind === 'eol' || (last.kind === 'punct' && (last.text === ';' || last.text === '{' || last.text === '}'));
  }

  private include(path: Token, file: string, depth: number): void {
    if (depth >= MAX_INCLUDE_DEPTH) fail(path, `include nested deeper than ${MAX_INCLUDE_DEPTH} files`);
    const full = isAbsolute(path.text) ? path.text : join(dirname(file), path.text);
    for (const f of includedFiles(full, () => fail(path, `include "${path.text}": no such file`))) {
      let text: string;
      try {
        text = readTextInput(f);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        return fail(path, `include "${path.text}": ${f}: ${e.reason}`);
      }
      this.run(this.tokens(text, f), f, depth + 1);
    }
  }
}

/** The files a path names: itself, or for a glob in its last part the sorted matches (maybe none). */
function includedFiles(path: string, missing: () => never): string[] {
  const name = basename(path);
  if (!/[*?[]/.test(name)) {
    try {
      statSync(path);
    } catch {
      return missing();
    }
    return [path];
  }
  const re = new RegExp(`^${name.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return [];
  }
  return names.filter((n) => re.test(n)).sort().map((n) => join(dirname(path), n));
}

function fail(tok: Token, reason: string): never {
  throw new InputError({ file: tok.file, line: tok.line, col: tok.col }, reason);
}
