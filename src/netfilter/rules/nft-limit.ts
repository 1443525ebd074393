/**
 * `limit rate [over] N/UNIT [burst M packets]` and `limit rate [over] N BYTES/UNIT [burst M
 * BYTES]`, inline or as a named `limit` object (net/netfilter/nft_limit.c): a token bucket of
 * nanoseconds on natsim's virtual clock, filled at the rate of the clock and capped at
 * tokens_max. A packet costs nsecs / rate tokens (a byte nsecs * len / rate); one that finds too
 * few ends the rule (NFT_BREAK) — with `over`, one that finds enough does. The bucket starts
 * full when the ruleset is loaded, at virtual time 0.
 */
import type { RuleContext } from './context.js';
import type { NftElementExpr, Rule } from './model.js';
import type { NftCursor } from './nft-tokens.js';
import { DATA_UNITS, DATA_UNIT_ERROR } from './nft-datatype.js';

/** NFT_LIMIT_PKT_BURST_DEFAULT. */
const PKT_BURST_DEFAULT = 5;
const UNIT_SECONDS: Readonly<Record<string, number>> = { second: 1, minute: 60, hour: 3600, day: 86400, week: 604800 };

/** What nft sends the kernel for a limit (NFTA_LIMIT_*). */
export interface LimitSpec {
  readonly rate: number;
  /** Seconds per rate. */
  readonly unit: number;
  readonly burst: number;
  readonly bytes: boolean;
  readonly invert: boolean;
  readonly text: string;
}

/**
 * struct nft_limit / nft_limit_priv: one bucket, shared by every rule naming the object; a
 * set element's limit (`update @s { ip saddr limit rate 12/minute }`) has a bucket of its own.
 */
export class NftLimit implements NftElementExpr {
  readonly stateful = true;
  readonly needsConntrack = false;
  readonly name: string;
  private readonly nsecs: number;
  private readonly tokensMax: number;
  private readonly cost: number;
  private tokens: number;
  private last = 0;

  /** nft_limit_init (and nft_limit_pkts_init's cost). */
  constructor(private readonly spec: LimitSpec) {
    this.name = spec.text;
    this.nsecs = spec.unit * 1e9;
    const burst = !spec.bytes && spec.burst === 0 ? PKT_BURST_DEFAULT : spec.burst;
    // packets: burst packets' worth; bytes: unit * (rate + burst) / rate
    this.tokensMax = spec.bytes ? Math.floor((this.nsecs * (spec.rate + burst)) / spec.rate) : Math.floor(this.nsecs / spec.rate) * burst;
    this.tokens = this.tokensMax;
    this.cost = Math.floor(this.nsecs / spec.rate);
  }

  /** nft_limit_clone: the same rate and burst, a full bucket that starts filling now. */
  clone(now: number): NftLimit {
    const copy = new NftLimit(this.spec);
    copy.last = now;
    return copy;
  }

  /** nft_limit_pkts_eval / nft_limit_bytes_eval over nft_limit_eval. */
  eval(ctx: RuleContext, rule: Rule): boolean {
    const now = ctx.skb.time;
    const cost = this.spec.bytes ? Math.floor((this.nsecs * ctx.skb.pkt.data.length) / this.spec.rate) : this.cost;
    const tokens = Math.min(this.tokens + now - this.last, this.tokensMax);
    this.last = now;
    const over = tokens - cost < 0;
    this.tokens = over ? tokens : tokens - cost;
    const goesOn = over === this.spec.invert;
    if (!goesOn) ctx.state.notes?.push(`${this.name}: ${over ? 'over the rate' : 'under the rate'}, the rule ends (rule "${rule.text}")`);
    return goesOn;
  }
}

/** After `limit`: `rate [over] N/UNIT [burst M packets]` or `rate [over] N BYTES/UNIT [burst M BYTES]`. */
export function readLimitSpec(cur: NftCursor, label: string | null): LimitSpec {
  cur.expect('rate');
  let invert = false;
  if (cur.peek().text === 'over') {
    cur.next();
    invert = true;
  } else if (cur.peek().text === 'until') cur.next();
  const rateTok = cur.next();
  const m = /^(\d+)(?:\/(\w+))?$/.exec(rateTok.text);
  if (!m) return cur.fail(rateTok, `bad limit rate '${rateTok.text}' (N/second|minute|hour|day|week, or N kbytes/second)`);
  const rate = Number(m[1]);
  let bytes = false;
  let scale = 1;
  let unitText = m[2];
  if (unitText === undefined) {
    const unitTok = cur.next();
    const um = /^([a-z]+)\/(\w+)$/.exec(unitTok.text);
    if (!um) return cur.fail(unitTok, `bad limit unit '${unitTok.text}' (bytes|kbytes|mbytes/second…)`);
    bytes = true;
    scale = DATA_UNITS[um[1]!] ?? cur.fail(unitTok, `bad limit unit '${um[1]}': ${DATA_UNIT_ERROR}`);
    unitText = um[2]!;
  }
  const unit = UNIT_SECONDS[unitText] ?? cur.fail(rateTok, `bad limit unit '${unitText}' (second, minute, hour, day, week)`);
  if (rate === 0) cur.fail(rateTok, 'a limit rate of 0 is refused by the kernel (nft_limit_init: EINVAL)');
  let burst = 0;
  if (cur.peek().text === 'burst') {
    cur.next();
    const b = cur.next();
    if (!/^\d+$/.test(b.text)) cur.fail(b, `bad burst '${b.text}'`);
    const what = cur.peek().text;
    const burstScale = DATA_UNITS[what] ?? 1;
    if (what === 'packets' || DATA_UNITS[what] !== undefined) cur.next();
    burst = Number(b.text) * burstScale;
  }
  const text = label ?? `limit rate ${invert ? 'over ' : ''}${rate}${bytes ? ` ${Object.keys(DATA_UNITS).find((u) => DATA_UNITS[u] === scale)}` : ''}/${unitText}${burst ? ` burst ${burst}` : ''}`;
  return { rate: rate * scale, unit, burst, bytes, invert, text };
}
