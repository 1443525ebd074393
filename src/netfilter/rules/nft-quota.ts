/**
 * `quota [over|until] N BYTES [used M BYTES]`, inline or as a named `quota` object
 * (net/netfilter/nft_quota.c): every packet that reaches it adds its length to `consumed`;
 * once consumed passes the quota the rule ends (NFT_BREAK) — with `over`, it ends until then.
 */
import type { RuleContext } from './context.js';
import type { NftExpr, Rule } from './model.js';
import type { NftCursor } from './nft-tokens.js';
import { DATA_UNITS, DATA_UNIT_ERROR } from './nft-datatype.js';


/** struct nft_quota: shared by every rule naming the object. */
export class NftQuota implements NftExpr {
  readonly stateful = true;
  readonly needsConntrack = false;

  constructor(
    readonly name: string,
    private readonly quota: number,
    private consumed: number,
    private readonly invert: boolean,
  ) {}

  /** nft_quota_do_eval: nft_overquota (consumed > quota after adding skb->len) ^ NFT_QUOTA_F_INV. */
  eval(ctx: RuleContext, rule: Rule): boolean {
    this.consumed += ctx.skb.pkt.data.length;
    const over = this.consumed > this.quota;
    const goesOn = over === this.invert;
    if (!goesOn) ctx.state.notes?.push(`${this.name}: ${this.consumed} bytes used of ${this.quota}, the rule ends (rule "${rule.text}")`);
    return goesOn;
  }
}

/** After `quota`: [over|until] N UNIT [used M UNIT]. */
export function readQuota(cur: NftCursor, label: string | null): NftQuota {
  let invert = false;
  if (cur.peek().text === 'over' || cur.peek().text === 'until') invert = cur.next().text === 'over';
  const quota = readBytes(cur);
  let used = 0;
  if (cur.peek().text === 'used') {
    cur.next();
    used = readBytes(cur);
  }
  return new NftQuota(label ?? `quota ${invert ? 'over ' : ''}${quota} bytes`, quota, used, invert);
}

/** `N UNIT` or `NUNIT`. */
function readBytes(cur: NftCursor): number {
  const tok = cur.next();
  const m = /^(\d+)([a-z]+)?$/.exec(tok.text);
  if (!m) return cur.fail(tok, `bad quota '${tok.text}' (N bytes|kbytes|mbytes)`);
  const unitTok = m[2] === undefined ? cur.next() : tok;
  const unit = m[2] ?? unitTok.text;
  const scale = DATA_UNITS[unit] ?? cur.fail(unitTok, `bad quota unit '${unit}': ${DATA_UNIT_ERROR}`);
  return Number(m[1]) * scale;
}
