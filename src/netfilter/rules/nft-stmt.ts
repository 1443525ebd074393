/**
 * nf_tables statements that natsim evaluates without a model of what they hand over to:
 * `ct helper set "NAME"` (nft_ct_helper_obj_eval: the helper that would watch the connection for
 * expectations — natsim models no helper), `flow add @FT` (nft_flow_offload_eval: the
 * connection would be offloaded to the flowtable's fast path — natsim goes on as the slow path),
 * and `meta|ct mark set EXPR map M` (nft_lookup into a register, then nft_meta_set_eval /
 * nft_ct_set_eval; a key the map lacks ends the rule, NFT_BREAK), and `ip FIELD set V`.
 */
import { csumReplace16 } from '../../packet/checksum.js';
import { readU16, writeU16 } from '../../packet/ipv4.js';
import type { RuleContext } from './context.js';
import { NFPROTO_IPV4, type KeyExpr, type MarkOwner, type NftExpr, type Rule } from './model.js';
import { packetNfproto } from './nft-expr.js';
import { loadKey } from './nft-concat.js';
import { lookupEval, type NftSet } from './nft-set.js';

/** ct helper set "NAME": nft_ct_helper_obj_init calls nf_ct_netns_get. */
export class NftCtHelperSet implements NftExpr {
  readonly stateful = false;
  readonly needsConntrack = true;
  readonly name: string;

  constructor(private readonly helper: string) {
    this.name = `ct helper set "${helper}"`;
  }

  eval(ctx: RuleContext, rule: Rule): boolean {
    ctx.state.notes?.push(`ct helper "${this.helper}": the helper is not modelled (no expectations, no RELATED connections from it); the packet goes on (rule "${rule.text}")`);
    return true;
  }
}

/** A statement whose effect nothing natsim models reads (secmark labels): it says so and lets the rule go on. */
export class NftNote implements NftExpr {
  readonly stateful = false;

  constructor(
    readonly name: string,
    private readonly note: string,
    /** `ct secmark set`: nft_ct_set_init calls nf_ct_netns_get. */
    readonly needsConntrack: boolean,
  ) {}

  eval(ctx: RuleContext, rule: Rule): boolean {
    ctx.state.notes?.push(`${this.note} (rule "${rule.text}")`);
    return true;
  }
}

/** flow add|offload @FT: nft_flow_offload_init calls nf_ct_netns_get. */
export class NftFlowOffload implements NftExpr {
  readonly stateful = false;
  readonly needsConntrack = true;
  readonly name: string;

  constructor(private readonly flowtable: string) {
    this.name = `flow add @${flowtable}`;
  }

  eval(ctx: RuleContext, rule: Rule): boolean {
    ctx.state.notes?.push(`flowtable ${this.flowtable}: offload is not modelled; the packet goes on through the hooks as the slow path does (rule "${rule.text}")`);
    return true;
  }
}

/** meta mark set … map / ct mark set … map: the mark is the data of the element the key finds. */
export class NftMarkFromMap implements NftExpr {
  readonly stateful = false;
  readonly needsConntrack: boolean;
  readonly name: string;

  constructor(
    private readonly of: MarkOwner,
    private readonly key: readonly KeyExpr[],
    private readonly map: NftSet,
    text: string,
  ) {
    // nft_ct_set_init calls nf_ct_netns_get, and so does nft_ct_get_init for a `ct …` key
    this.needsConntrack = of === 'conn' || key.some(readsCt);
    this.name = text;
  }

  eval(ctx: RuleContext, rule: Rule): boolean {
    const regs = loadKey(this.key, ctx);
    const found = lookupEval(this.map, regs, ctx, rule);
    const value = found?.data?.[0]?.min;
    if (typeof value !== 'number') return false;
    const skb = ctx.skb;
    const before = this.of === 'packet' ? skb.mark : (skb.ct?.mark ?? 0);
    if (this.of === 'packet') skb.mark = value;
    else if (skb.ct) skb.ct.mark = value;
    else return true;
    ctx.state.notes?.push(`${this.of === 'packet' ? 'MARK' : 'CONNMARK'} 0x${before.toString(16)} -> 0x${value.toString(16)} (rule "${rule.text}")`);
    return true;
  }
}

function readsCt(k: KeyExpr): boolean {
  return k.kind === 'ct' || (k.kind === 'bitwise' && readsCt(k.of));
}

/**
 * `ip FIELD set V` on a network-header field (nft_payload_set_eval): the bits are written and,
 * as NFT_PAYLOAD_CSUM_INET asks, the header checksum is updated for the changed 16-bit word.
 */
export class NftPayloadSet implements NftExpr {
  readonly stateful = false;
  readonly needsConntrack = false;
  readonly name: string;

  constructor(
    private readonly field: Extract<KeyExpr, { kind: 'payload' }>,
    private readonly value: number,
  ) {
    this.name = `${field.name} set ${value}`;
  }

  /**
   * nft_payload_set_eval: a field of the other family breaks (its nfproto dependency); the IPv4
   * header's checksum is fixed (NFT_PAYLOAD_CSUM_INET), IPv6 has none.
   */
  eval(ctx: RuleContext, rule: Rule): boolean {
    const nfproto = packetNfproto(ctx);
    if (this.field.nfproto !== null && nfproto !== this.field.nfproto) return false;
    const d = ctx.skb.pkt.data;
    const { at, bits } = this.field;
    const word = (at >> 4) * 2;
    if (word + 2 > d.length) return false;
    const old = readU16(d, word);
    const shift = 16 - (at - word * 8) - bits;
    const mask = ((2 ** bits - 1) << shift) & 0xffff;
    const now = (old & ~mask) | ((this.value << shift) & mask);
    writeU16(d, word, now);
    if (nfproto === NFPROTO_IPV4) writeU16(d, 10, csumReplace16(readU16(d, 10), old, now));
    ctx.state.notes?.push(`${this.field.name} set ${this.value} (rule "${rule.text}")`);
    return true;
  }
}
