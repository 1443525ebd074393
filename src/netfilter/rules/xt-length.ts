/**
 * `-m length [!] --length N[:M]` (net/netfilter/xt_length.c, length_mt): the IP datagram's
 * total length (tot_len) within [N, M].
 */
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import type { Match, XtMatch } from './model.js';
import type { XtCheck, XtMatchOptions } from './xt-options.js';

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

/** libxt_length's XTTYPE_UINT16RC: N, N:M, N: (to 65535) or :M (from 0). */
function parseLengths(text: string): { min: number; max: number } | null {
  const m = /^(\d{0,5})(?::(\d{0,5}))?$/.exec(text);
  if (!m || (m[1] === '' && m[2] === undefined)) return null;
  const min = m[1] === '' ? 0 : Number(m[1]);
  const max = m[2] === undefined ? min : m[2] === '' ? 65535 : Number(m[2]);
  return min <= max && max <= 65535 ? { min, max } : null;
}

export class LengthOptions implements XtMatchOptions {
  private range: { min: number; max: number } | null = null;
  private invert = false;

  read(r: OptionReader): boolean {
    if (r.option !== '--length') return false;
    const text = r.value();
    this.range = parseLengths(text) ?? r.fail(`bad --length '${text}' (N or N:M, 0 to 65535)`);
    this.invert = r.negate;
    return true;
  }

  build(check: XtCheck): Match {
    const range = this.range ?? check.fail('-m length needs --length');
    return { kind: 'xt', module: new XtLength(range.min, range.max, this.invert) };
  }
}
