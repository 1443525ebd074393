/**
 * `-m length [!] --length N[:M]` (net/netfilter/xt_length.c, length_mt): the IP datagram's
 * total length (tot_len) within [N, M].
 */
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import type { Match, XtMatch } from './model.js';
import { parseU16Range, type XtCheck, type XtMatchOptions } from './xt-options.js';

class XtLength implements XtMatch {
  readonly name = 'length';
  readonly stateful = false;
  readonly needsConntrack = false;

  constructor(
    private readonly min: number,
    private readonly max: number,
    private readonly invert: boolean,
  ) {}

  match(ctx: RuleContext): boolean {
    const len = ctx.skb.pkt.length;
    return (len >= this.min && len <= this.max) !== this.invert;
  }
}

export class LengthOptions implements XtMatchOptions {
  private range: { min: number; max: number } | null = null;
  private invert = false;

  read(r: OptionReader): boolean {
    if (r.option !== '--length') return false;
    const text = r.value();
    this.range = parseU16Range(text) ?? r.fail(`bad --length '${text}' (N or N:M, 0 to 65535)`);
    this.invert = r.negate;
    return true;
  }

  build(check: XtCheck): Match {
    const range = this.range ?? check.fail('-m length needs --length');
    return { kind: 'xt', module: new XtLength(range.min, range.max, this.invert) };
  }
}
