/**
 * `rt FIELD` (nft's exthdr expression on the IPv6 routing header: nft_exthdr_ipv6_eval in
 * net/netfilter/nft_exthdr.c): ipv6_find_hdr finds the header wherever it sits in the chain,
 * and the field is read at its offset there. An IPv4 packet never loads it (nft puts a
 * `meta nfproto ipv6` dependency before it in an inet table, and an ip table refuses it); an
 * IPv6 packet without the header breaks the rule (nft_exthdr_ipv6_eval's `goto err`).
 */
import { ipv6FindHdr, NEXTHDR } from '../../ipv6/exthdrs-core.js';
import type { RuleContext } from './context.js';
import type { KeyExpr } from './model.js';
import type { NftCursor } from './nft-tokens.js';

export type Exthdr6 = Extract<KeyExpr, { kind: 'exthdr6' }>;

/** struct ipv6_rt_hdr's fields as nft's exthdr_rt names them: [offset, bytes]. */
const RT_FIELDS: Readonly<Record<string, readonly [number, number]>> = {
  nexthdr: [0, 1],
  hdrlength: [1, 1],
  type: [2, 1],
  'seg-left': [3, 1],
};

/** Whether the word after `rt` is a routing-header field (the others, `rt classid|nexthop|mtu`, are nft_rt's route keys). */
export function isRtHeaderField(word: string): boolean {
  return Object.hasOwn(RT_FIELDS, word);
}

/** After `rt`: the routing header's field. */
export function readRtHeader(cur: NftCursor): Exthdr6 {
  const field = cur.next();
  const [offset, bytes] = RT_FIELDS[field.text] ?? cur.fail(field, `unknown routing header field '${field.text}' (nexthdr, hdrlength, type, seg-left)`);
  return { kind: 'exthdr6', name: `rt ${field.text}`, hdr: NEXTHDR.ROUTING, offset, bytes, datatype: 'integer' };
}

/** nft_exthdr_ipv6_eval: the field's value, or null (break) for IPv4 or a packet without the header. */
export function loadExthdr6(k: Exthdr6, ctx: RuleContext): number | null {
  const pkt = ctx.skb.pkt;
  if (pkt.family !== 6) return null;
  const at = ipv6FindHdr(pkt.data, k.hdr);
  if (at < 0 || at + k.offset + k.bytes > pkt.data.length) return null;
  let v = 0;
  for (let i = 0; i < k.bytes; i++) v = (v << 8) | pkt.data[at + k.offset + i]!;
  return v >>> 0;
}
