/**
 * `-m limit --limit RATE[/second|minute|hour|day] [--limit-burst N]`: a token bucket shared by
 * every packet the rule tests. What evaluates it depends on the iptables that loaded it:
 * - iptables-legacy: xt_limit.c's limit_mt, credits in jiffies (CREDITS_PER_JIFFY per jiffy,
 *   u32 arithmetic with its wrap-arounds), on natsim's clock at HZ 250 (jiffies.ts).
 * - iptables-nft: nft.c's add_nft_limit turns the match into an nf_tables `limit` expression
 *   (nft_limit.c, nft_limit_pkts_eval), a bucket of nanoseconds.
 * Both pass `burst` packets at once and then one per period. The rate is stored as libxt_limit
 * stores it: avg = XT_LIMIT_SCALE × seconds per packet.
 */
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import { HZ, jiffiesAt } from './jiffies.js';
import type { Match, Rule, XtMatch } from './model.js';
import { noInvert, wholeOption, type XtCheck, type XtMatchOptions } from './xt-options.js';

/** XT_LIMIT_SCALE: avg is in 1/10000 s. */
export const XT_LIMIT_SCALE = 10000;

const U32 = 2 ** 32;

/** MAX_CPJ and CREDITS_PER_JIFFY (POW2_BELOW32): the largest power of two with a day's credits in a u32. */
function creditsPerJiffy(): number {
  const maxCpj = Math.floor(0xffffffff / (HZ * 60 * 60 * 24));
  let p = 1;
  while (p * 2 <= maxCpj) p *= 2;
  return p;
}
export const CREDITS_PER_JIFFY = creditsPerJiffy();

/** user2credits: avg (1/10000 s) to credits, dividing first when multiplying would overflow a u32. */
export function user2credits(user: number): number {
  if (user > Math.floor(0xffffffff / (HZ * CREDITS_PER_JIFFY))) return (Math.floor(user / XT_LIMIT_SCALE) * HZ * CREDITS_PER_JIFFY) % U32;
  return Math.floor((user * HZ * CREDITS_PER_JIFFY) / XT_LIMIT_SCALE);
}

/** xt_limit_priv with the xt_rateinfo it belongs to: limit_mt's bucket. */
class XtLimit implements XtMatch {
  readonly name = 'limit';
  readonly stateful = true;
  readonly needsConntrack = false;
  private prev = 0;
  private credit: number;
  private readonly creditCap: number;
  private readonly cost: number;

  /** limit_mt_check: the bucket full at load time (jiffy 0). */
  constructor(avg: number, burst: number) {
    this.credit = user2credits(Math.imul(avg, burst) >>> 0);
    this.creditCap = this.credit;
    this.cost = user2credits(avg);
  }

  /** limit_mt: the jiffies since the last test earn credits (in a u32), capped; a pass costs `cost`. */
  match(ctx: RuleContext, rule: Rule): boolean {
    const now = jiffiesAt(ctx.skb.time);
    const increase = ((now - this.prev) * CREDITS_PER_JIFFY) % U32;
    this.prev = now;
    let credit = (this.credit + increase) % U32;
    if (credit > this.creditCap) credit = this.creditCap;
    const pass = credit >= this.cost;
    this.credit = pass ? credit - this.cost : credit;
    return noted(ctx, rule, pass);
  }
}

/** The trace's word on a limit's decision (a rule over its limit is skipped). */
function noted(ctx: RuleContext, rule: Rule, pass: boolean): boolean {
  ctx.state.notes?.push(`LIMIT: ${pass ? 'under' : 'over'} the limit (rule "${rule.text}")`);
  return pass;
}

const NSEC_PER_SEC = 1e9;
const NFT_LIMIT_PKT_BURST_DEFAULT = 5;

/** The periods add_nft_limit chooses from, in 1/10000 s: day, hour, minute, second. */
const NFT_MULT = [XT_LIMIT_SCALE * 24 * 60 * 60, XT_LIMIT_SCALE * 60 * 60, XT_LIMIT_SCALE * 60, XT_LIMIT_SCALE];

/** nft_limit_priv_pkts: a bucket of nanoseconds, `cost` per packet. */
class NftLimitPkts implements XtMatch {
  readonly name = 'limit';
  readonly stateful = true;
  readonly needsConntrack = false;
  private last = 0;
  private tokens: number;

  constructor(
    private readonly cost: number,
    private readonly tokensMax: number,
  ) {
    this.tokens = tokensMax;
  }

  /** nft_limit_eval: the time since the last packet earns tokens, capped; over the limit is NFT_BREAK. */
  match(ctx: RuleContext, rule: Rule): boolean {
    const now = ctx.skb.time;
    let tokens = this.tokens + now - this.last;
    if (tokens > this.tokensMax) tokens = this.tokensMax;
    this.last = now;
    const delta = tokens - this.cost;
    this.tokens = delta >= 0 ? delta : tokens;
    return noted(ctx, rule, delta >= 0);
  }
}

/**
 * add_nft_limit's translation (rate per unit seconds, the largest unit that keeps the rate
 * whole), then nft_limit_init / nft_limit_pkts_init: cost = unit in ns / rate, a full bucket
 * of cost × burst.
 */
function nftLimit(avg: number, burst: number, check: XtCheck): NftLimitPkts {
  let i = 1;
  while (i < NFT_MULT.length && !(avg > NFT_MULT[i]! || Math.floor(NFT_MULT[i]! / avg) < NFT_MULT[i]! % avg)) i++;
  const mult = NFT_MULT[i - 1]!;
  const rate = Math.floor(mult / avg);
  const nsecs = (mult / XT_LIMIT_SCALE) * NSEC_PER_SEC;
  const cost = Math.floor(nsecs / rate);
  // NFT_LIMIT_PKT_BURST_DEFAULT stands in for a burst of 0
  const tokensMax = cost * (burst === 0 ? NFT_LIMIT_PKT_BURST_DEFAULT : burst);
  if (!Number.isSafeInteger(tokensMax)) check.fail(`--limit-burst ${burst} at this rate makes a bucket of ${tokensMax} ns, beyond what natsim counts exactly (2^53)`);
  return new NftLimitPkts(cost, tokensMax);
}

/** libxt_limit's defaults: XT_LIMIT_AVG "3/hour", XT_LIMIT_BURST 5. */
const DEFAULT_AVG = (XT_LIMIT_SCALE * 60 * 60) / 3;
const DEFAULT_BURST = 5;

const UNITS: readonly (readonly [string, number])[] = [
  ['second', 1],
  ['minute', 60],
  ['hour', 60 * 60],
  ['day', 24 * 60 * 60],
];

/** libxt_limit's parse_rate: N[/UNIT], UNIT any prefix of second, minute, hour or day. */
export function parseLimitRate(text: string): number | string {
  const slash = text.indexOf('/');
  let mult = 1;
  if (slash >= 0) {
    const unit = text.slice(slash + 1).toLowerCase();
    const found = unit === '' ? undefined : UNITS.find(([name]) => name.startsWith(unit));
    if (!found) return `bad rate '${text}' (N/second, N/minute, N/hour or N/day)`;
    mult = found[1];
  }
  const r = /^\d+/.exec(text) ? Number(/^\d+/.exec(text)![0]) : 0;
  if (r === 0) return `bad rate '${text}' (N/second, N/minute, N/hour or N/day)`;
  const avg = Math.floor((XT_LIMIT_SCALE * mult) / r);
  return avg === 0 ? `rate too fast '${text}' (at most ${XT_LIMIT_SCALE}/second)` : avg;
}

export class LimitOptions implements XtMatchOptions {
  private avg = DEFAULT_AVG;
  private burst = DEFAULT_BURST;

  read(r: OptionReader): boolean {
    if (r.option === '--limit') {
      noInvert(r, '-m limit');
      const avg = parseLimitRate(r.value());
      this.avg = typeof avg === 'string' ? r.fail(avg) : avg;
      return true;
    }
    if (r.option === '--limit-burst') {
      noInvert(r, '-m limit');
      this.burst = wholeOption(r, 0, 10000);
      return true;
    }
    return false;
  }

  /** The table's evaluator; for x_tables after limit_mt_check's overflow test (-ERANGE). */
  build(check: XtCheck): Match {
    if (check.table.source !== 'iptables-legacy') return { kind: 'xt', module: nftLimit(this.avg, this.burst, check) };
    if (this.burst === 0 || user2credits(Math.imul(this.avg, this.burst) >>> 0) < user2credits(this.avg)) check.fail(`the kernel refuses this limit: overflow, try lower (${this.avg}/${this.burst})`);
    return { kind: 'xt', module: new XtLimit(this.avg, this.burst) };
  }
}
