/**
 * nft's lexical layer (scanner.l in nftables, reduced to what natsim parses): words, quoted
 * strings, the punctuation `{ } ; ,` and line ends, which end a statement like `;` does.
 * `#` starts a comment to the end of the line. Every token keeps its line and column.
 */
import { InputError } from '../../errors.js';

export interface Token {
  /** `end` is the one token after the last, so the parser never reads past the text. */
  readonly kind: 'word' | 'string' | 'punct' | 'eol' | 'end';
  readonly text: string;
  readonly line: number;
  readonly col: number;
  /** The file the token was read from (an `include` brings in others). */
  readonly file: string;
}

const PUNCT = new Set(['{', '}', ';', ',']);

function isWordChar(c: string): boolean {
  return c !== ' ' && c !== '\t' && c !== '\r' && c !== '\n' && c !== '"' && c !== '#' && !PUNCT.has(c);
}

export function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  const push = (kind: Token['kind'], start: number, end: number, value = text.slice(start, end)): void => {
    tokens.push({ kind, text: value, line, col: start - lineStart + 1, file });
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      push('eol', i, i + 1);
      line++;
      lineStart = ++i;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '\\' && text[i + 1] === '\n') {
      // A backslash-newline continues the statement on the next line.
      line++;
      i += 2;
      lineStart = i;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '"') {
      const close = text.indexOf('"', i + 1);
      const nl = text.indexOf('\n', i + 1);
      if (close < 0 || (nl >= 0 && nl < close)) throw new InputError({ file, line, col: i - lineStart + 1 }, 'unterminated string');
      push('string', i, close + 1, text.slice(i + 1, close));
      i = close + 1;
    } else if (PUNCT.has(c)) {
      push('punct', i, i + 1);
      i++;
    } else {
      const start = i;
      while (i < text.length && isWordChar(text[i]!)) i++;
      push('word', start, i);
    }
  }
  tokens.push({ kind: 'end', text: '', line, col: i - lineStart + 1, file });
  return tokens;
}

/** A read position in the tokens, shared by the nft readers (rules, sets and maps). */
export class NftCursor {
  protected pos = 0;

  constructor(
    protected readonly tokens: readonly Token[],
    protected readonly file: string,
  ) {}

  peek(): Token {
    return this.tokens[this.pos]!;
  }

  /** The token `n` after the next one (the `end` token past the last). */
  peekAt(n: number): Token {
    return this.tokens[Math.min(this.pos + n, this.tokens.length - 1)]!;
  }

  next(): Token {
    const tok = this.tokens[this.pos]!;
    if (this.pos < this.tokens.length - 1) this.pos++;
    return tok;
  }

  peekPunct(p: string): boolean {
    const tok = this.peek();
    return tok.kind === 'punct' && tok.text === p;
  }

  atRuleEnd(): boolean {
    const tok = this.peek();
    return tok.kind === 'eol' || tok.kind === 'end' || (tok.kind === 'punct' && (tok.text === ';' || tok.text === '}'));
  }

  skipSeparators(): void {
    while (this.peek().kind === 'eol' || this.peekPunct(';')) this.next();
  }

  word(tok: Token): string {
    if (tok.kind !== 'word' && tok.kind !== 'string') this.fail(tok, `unexpected ${describe(tok)}`);
    return tok.text;
  }

  expect(word: string): void {
    const tok = this.next();
    if (tok.text !== word || tok.kind !== 'word') this.fail(tok, `expected '${word}', found ${describe(tok)}`);
  }

  expectPunct(p: string): void {
    const tok = this.next();
    if (tok.kind !== 'punct' || tok.text !== p) this.fail(tok, `expected '${p}', found ${describe(tok)}`);
  }

  expectString(): void {
    const tok = this.next();
    if (tok.kind !== 'string' && tok.kind !== 'word') this.fail(tok, 'expected a quoted string');
  }

  fail(tok: Token, reason: string): never {
    throw new InputError({ file: tok.file, line: tok.line, col: tok.col }, reason);
  }
}

export function describe(tok: Token): string {
  if (tok.kind === 'end') return 'end of text';
  if (tok.kind === 'eol') return 'end of line';
  return `'${tok.text}'`;
}
