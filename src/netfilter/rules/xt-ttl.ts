/**
 * `-m ttl --ttl-eq N | ! --ttl-eq N | --ttl-lt N | --ttl-gt N` (net/netfilter/xt_ttl.c,
 * ttl_mt): the IP header's TTL as the hook sees it — already decremented at FORWARD and after,
 * since ip_forward decreases it before NF_INET_FORWARD.
 */
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import type { Match, XtMatch } from './model.js';
import { noInvert, wholeOption, type XtCheck, type XtMatchOptions } from './xt-options.js';

/** IPT_TTL_EQ, IPT_TTL_NE, IPT_TTL_LT, IPT_TTL_GT. */
type TtlMode = 'eq' | 'ne' | 'lt' | 'gt';

class XtTtl implements XtMatch {
  readonly name = 'ttl';
  readonly stateful = false;
  readonly needsConntrack = false;

  constructor(
    private readonly mode: TtlMode,
    private readonly ttl: number,
  ) {}

  match(ctx: RuleContext): boolean {
    const ttl = ctx.skb.pkt.ttl;
    switch (this.mode) {
      case 'eq':
        return ttl === this.ttl;
      case 'ne':
        return ttl !== this.ttl;
      case 'lt':
        return ttl < this.ttl;
      case 'gt':
        return ttl > this.ttl;
    }
  }
}

const OPTIONS: Readonly<Record<string, 'eq' | 'lt' | 'gt'>> = { '--ttl-eq': 'eq', '--ttl-lt': 'lt', '--ttl-gt': 'gt' };

/** libxt_ttl: one of the three options; only --ttl-eq may be inverted (it becomes IPT_TTL_NE). */
export class TtlOptions implements XtMatchOptions {
  private mode: TtlMode | null = null;
  private ttl = 0;

  read(r: OptionReader): boolean {
    const mode = OPTIONS[r.option];
    if (mode === undefined) return false;
    if (this.mode !== null) r.fail('-m ttl takes only one of --ttl-eq, --ttl-lt or --ttl-gt');
    if (mode !== 'eq') noInvert(r, '-m ttl');
    this.ttl = wholeOption(r, 0, 255);
    this.mode = mode === 'eq' && r.negate ? 'ne' : mode;
    return true;
  }

  build(check: XtCheck): Match {
    if (this.mode === null) return check.fail('-m ttl needs one of --ttl-eq, --ttl-lt or --ttl-gt');
    return { kind: 'xt', module: new XtTtl(this.mode, this.ttl) };
  }
}
