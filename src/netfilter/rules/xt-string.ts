/**
 * `-m string --algo bm|kmp [--from N] [--to N] [--icase] [!] --string TEXT | --hex-string HEX`
 * (net/netfilter/xt_string.c string_mt, skb_find_text): the pattern found whole within bytes
 * [from, to) of the packet from its network header on — both algorithms find the same first
 * occurrence, so which one the rule names does not change the match. `--icase` folds ASCII
 * letters (TS_IGNORECASE). iptables-save writes the text quoted, with `|HEX|` runs for bytes
 * that are not printable.
 */
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import type { Match, XtMatch } from './model.js';
import { wholeOption, type XtCheck, type XtMatchOptions } from './xt-options.js';

/** XT_STRING_MAX_PATTERN_SIZE */
const MAX_PATTERN = 128;

class XtString implements XtMatch {
  readonly name = 'string';
  readonly stateful = false;
  readonly needsConntrack = false;

  constructor(
    private readonly pattern: Uint8Array,
    private readonly from: number,
    private readonly to: number,
    private readonly icase: boolean,
    private readonly invert: boolean,
  ) {}

  match(ctx: RuleContext): boolean {
    const d = ctx.skb.pkt.data;
    // skb_prepare_seq_read(skb, from, to): the bytes from `from` up to `to` or the packet's end
    const end = Math.min(this.to, d.length);
    return this.found(d, end) !== this.invert;
  }

  private found(d: Uint8Array, end: number): boolean {
    const pat = this.pattern;
    for (let at = this.from; at + pat.length <= end; at++) {
      let i = 0;
      while (i < pat.length && fold(d[at + i]!, this.icase) === pat[i]) i++;
      if (i === pat.length) return true;
    }
    return false;
  }
}

function fold(byte: number, icase: boolean): number {
  return icase && byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte;
}

/** libxt_string's --string / --hex-string text: `|41 42|` runs of hex bytes, `\\` escapes the next character. */
function parsePattern(text: string, hex: boolean, r: OptionReader): Uint8Array {
  const unquoted = /^".*"$/s.test(text) ? text.slice(1, -1) : text;
  const bytes: number[] = [];
  for (let i = 0; i < unquoted.length; i++) {
    const c = unquoted[i]!;
    if (hex && c === '|') {
      const close = unquoted.indexOf('|', i + 1);
      if (close < 0) r.fail(`${r.option}: a '|' hex run is not closed`);
      const digits = unquoted.slice(i + 1, close).replace(/\s+/g, '');
      if (!/^([0-9a-f]{2})*$/i.test(digits)) r.fail(`${r.option}: bad hex bytes '${unquoted.slice(i + 1, close)}'`);
      for (let j = 0; j < digits.length; j += 2) bytes.push(parseInt(digits.slice(j, j + 2), 16));
      i = close;
    } else if (c === '\\' && i + 1 < unquoted.length) bytes.push(unquoted.charCodeAt(++i));
    else {
      const code = unquoted.charCodeAt(i);
      if (code > 0xff) r.fail(`${r.option}: '${c}' is not one byte (give it as |hex| bytes)`);
      bytes.push(code);
    }
  }
  if (bytes.length === 0 || bytes.length > MAX_PATTERN) r.fail(`${r.option} needs 1 to ${MAX_PATTERN} bytes`);
  return Uint8Array.from(bytes);
}

export class StringOptions implements XtMatchOptions {
  private pattern: Uint8Array | null = null;
  private invert = false;
  private algo: string | null = null;
  private from = 0;
  private to = 65535;
  private icase = false;

  read(r: OptionReader): boolean {
    switch (r.option) {
      case '--string':
      case '--hex-string':
        this.pattern = parsePattern(r.value(), r.option === '--hex-string', r);
        this.invert = r.negate;
        return true;
      case '--algo': {
        const algo = r.value();
        if (algo !== 'bm' && algo !== 'kmp') r.fail(`--algo takes bm or kmp, not '${algo}'`);
        this.algo = algo;
        return true;
      }
      case '--from':
        this.from = wholeOption(r, 0, 65535);
        return true;
      case '--to':
        this.to = wholeOption(r, 0, 65535);
        return true;
      case '--icase':
        this.icase = true;
        return true;
      default:
        return false;
    }
  }

  build(check: XtCheck): Match {
    const pattern = this.pattern ?? check.fail('-m string needs --string or --hex-string');
    if (this.algo === null) check.fail('-m string needs --algo bm or kmp');
    // string_mt_check: from must not pass to
    if (this.from > this.to) check.fail(`-m string: --from ${this.from} is past --to ${this.to}`);
    const folded = this.icase ? pattern.map((b) => fold(b, true)) : pattern;
    return { kind: 'xt', module: new XtString(folded, this.from, this.to, this.icase, this.invert) };
  }
}
