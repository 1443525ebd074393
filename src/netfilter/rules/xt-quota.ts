/**
 * `-m quota [!] --quota BYTES` (net/netfilter/xt_quota.c, quota_mt): the rule matches while the
 * bytes left cover the packet (skb->len, the whole IP datagram), each match spending them; the
 * first packet they do not cover empties them, so no packet, however small, matches after it.
 * Inverted, it matches exactly the packets the plain one would not. The bytes left belong to the
 * rule (xt_quota_priv, made full by quota_mt_check when the rule is loaded); iptables-save shows
 * the configured quota, not what is left, so a node snapshot's rule starts full again.
 */
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import type { Match, XtMatch } from './model.js';
import type { XtCheck, XtMatchOptions } from './xt-options.js';

class XtQuota implements XtMatch {
  readonly name = 'quota';
  readonly stateful = true;
  readonly needsConntrack = false;

  constructor(
    /** priv->quota: the bytes left. */
    private left: number,
    private readonly invert: boolean,
  ) {}

  match(ctx: RuleContext): boolean {
    const len = ctx.skb.pkt.length;
    if (this.left >= len) {
      this.left -= len;
      return !this.invert;
    }
    this.left = 0;
    return this.invert;
  }
}

export class QuotaOptions implements XtMatchOptions {
  private quota: number | null = null;
  private invert = false;

  read(r: OptionReader): boolean {
    if (r.option !== '--quota') return false;
    const text = r.value();
    // XTTYPE_UINT64
    if (!/^\d{1,20}$/.test(text) || BigInt(text) >= 2n ** 64n) r.fail(`--quota needs a whole number of bytes, got '${text}'`);
    this.quota = Number(text);
    this.invert = r.negate;
    return true;
  }

  build(check: XtCheck): Match {
    const quota = this.quota ?? check.fail('-m quota needs --quota');
    return { kind: 'xt', module: new XtQuota(quota, this.invert) };
  }
}
