/**
 * `-p tcp -m tcpmss [!] --mss MIN[:MAX]` (net/netfilter/xt_tcpmss.c, tcpmss_mt): the value of the
 * segment's MSS option within [MIN, MAX]. A segment without one (no options, or none of kind 2
 * length 4) matches only inverted; a header shorter than 20 bytes or options cut short drop the
 * packet (hotdrop). Registered for TCP alone, both families. Not the TCPMSS target (xt-tcpmss.ts).
 */
import { IPPROTO } from '../constants.js';
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import type { Match, XtMatch } from './model.js';
import { parseU16Range, type XtCheck, type XtMatchOptions } from './xt-options.js';

const TCPOPT_MSS = 2;
const TCPOLEN_MSS = 4;

class XtTcpmssMatch implements XtMatch {
  readonly name = 'tcpmss';
  readonly stateful = false;
  readonly needsConntrack = false;

  constructor(
    private readonly min: number,
    private readonly max: number,
    private readonly invert: boolean,
  ) {}

  match(ctx: RuleContext): boolean {
    const p = ctx.skb.pkt;
    const d = p.data;
    const th = p.l4off;
    if (th + 20 > d.length) return hotdrop(ctx, 'the TCP header is cut short');
    const doff = (d[th + 12]! >> 4) * 4;
    if (doff < 20) return hotdrop(ctx, 'a TCP data offset under 5 words');
    const end = th + doff;
    if (end > d.length) return hotdrop(ctx, 'the TCP options are cut short');
    for (let i = th + 20; i < end; ) {
      const kind = d[i]!;
      if (kind === TCPOPT_MSS && end - i >= TCPOLEN_MSS && d[i + 1] === TCPOLEN_MSS) {
        const mss = (d[i + 2]! << 8) | d[i + 3]!;
        return (mss >= this.min && mss <= this.max) !== this.invert;
      }
      i += kind < 2 ? 1 : d[i + 1] || 1;
    }
    return this.invert;
  }
}

/** tcpmss_mt's dropit: xt_action_param.hotdrop. */
function hotdrop(ctx: RuleContext, why: string): boolean {
  ctx.hotdrop = `-m tcpmss: ${why} (tcpmss_mt: hotdrop)`;
  return false;
}

export class TcpmssMatchOptions implements XtMatchOptions {
  private range: { min: number; max: number } | null = null;
  private invert = false;

  read(r: OptionReader): boolean {
    if (r.option !== '--mss') return false;
    const text = r.value();
    this.range = parseU16Range(text) ?? r.fail(`--mss takes MIN, MIN:MAX, MIN: or :MAX from 0 to 65535, not '${text}'`);
    this.invert = r.negate;
    return true;
  }

  build(check: XtCheck): Match {
    // xt_check_match: the module is registered for IPPROTO_TCP
    if (check.proto !== IPPROTO.TCP) check.fail('-m tcpmss is only valid with -p tcp');
    const range = this.range ?? check.fail('-m tcpmss needs --mss');
    return { kind: 'xt', module: new XtTcpmssMatch(range.min, range.max, this.invert) };
  }
}
