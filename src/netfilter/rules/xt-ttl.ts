/**
 * `-m ttl --ttl-eq N | ! --ttl-eq N | --ttl-lt N | --ttl-gt N` (net/netfilter/xt_hl.c, ttl_mt)
 * and its IPv6 twin `-m hl --hl-eq N | ! --hl-eq N | --hl-lt N | --hl-gt N` (hl_mt6): the IP
 * header's TTL or hop limit as the hook sees it — already decremented at FORWARD and after,
 * since ip_forward and ip6_forward decrease it before NF_INET_FORWARD. Each is registered for
 * its family only: ttl for iptables, hl for ip6tables.
 */
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import { NFPROTO_IPV4, NFPROTO_IPV6, type Match, type NfProto, type XtMatch } from './model.js';
import { noInvert, wholeOption, type XtCheck, type XtMatchOptions } from './xt-options.js';

/** IPT_TTL_EQ, IPT_TTL_NE, IPT_TTL_LT, IPT_TTL_GT (and IP6T_HL_*, the same values). */
type TtlMode = 'eq' | 'ne' | 'lt' | 'gt';

type Module = 'ttl' | 'hl';

/** Each module's family (xt_register_match) and its options. */
const MODULES: Readonly<Record<Module, { readonly family: NfProto; readonly tool: string; readonly options: Readonly<Record<string, 'eq' | 'lt' | 'gt'>> }>> = {
  ttl: { family: NFPROTO_IPV4, tool: 'iptables', options: { '--ttl-eq': 'eq', '--ttl-lt': 'lt', '--ttl-gt': 'gt' } },
  hl: { family: NFPROTO_IPV6, tool: 'ip6tables', options: { '--hl-eq': 'eq', '--hl-lt': 'lt', '--hl-gt': 'gt' } },
};

/** "--ttl-eq, --ttl-lt or --ttl-gt" */
function optionList(options: Readonly<Record<string, unknown>>): string {
  const names = Object.keys(options);
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]!}`;
}

class XtTtl implements XtMatch {
  readonly stateful = false;
  readonly needsConntrack = false;

  constructor(
    readonly name: Module,
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

/** libxt_ttl / libip6t_hl: one of the three options; only the -eq one may be inverted (it becomes _NE). */
export class TtlOptions implements XtMatchOptions {
  private mode: TtlMode | null = null;
  private ttl = 0;

  constructor(private readonly module: Module) {}

  read(r: OptionReader): boolean {
    const options = MODULES[this.module].options;
    const mode = options[r.option];
    if (mode === undefined) return false;
    if (this.mode !== null) r.fail(`-m ${this.module} takes only one of ${optionList(options)}`);
    if (mode !== 'eq') noInvert(r, `-m ${this.module}`);
    this.ttl = wholeOption(r, 0, 255);
    this.mode = mode === 'eq' && r.negate ? 'ne' : mode;
    return true;
  }

  build(check: XtCheck): Match {
    const m = MODULES[this.module];
    if (check.family !== m.family) return check.fail(`-m ${this.module} exists for ${m.tool} only (the kernel registers it for that family alone; ${this.module === 'ttl' ? 'ip6tables has -m hl' : 'iptables has -m ttl'})`);
    if (this.mode === null) return check.fail(`-m ${this.module} needs one of ${optionList(m.options)}`);
    return { kind: 'xt', module: new XtTtl(this.module, this.mode, this.ttl) };
  }
}
