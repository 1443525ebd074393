/**
 * A NAT statement that takes its target from a map (`dnat to ip daddr . tcp dport map { … }`,
 * `snat to ip saddr map @m`, `dnat to numgen random mod 2 map { 0 : a . p, … }`): nft loads the
 * element's data into the registers nft_nat_eval reads its addresses (and ports) from
 * (nft_lookup_eval with a data register, then nft_nat_setup_addr / nft_nat_setup_proto). A key
 * the map lacks ends the rule (NFT_BREAK) before the NAT statement runs.
 */
import type { RuleContext } from './context.js';
import { NatFlag, type Action, type NatRange, type Rule } from './model.js';
import { loadKey } from './nft-concat.js';
import { lookupEval, type FieldRange } from './nft-set.js';

type MapNat = Extract<Action, { kind: 'snat' | 'dnat' | 'redirect' }>;

/** The range the element's data gives, or null for a miss. */
export function natFromMap(a: MapNat, rule: Rule, ctx: RuleContext): MapNat | null {
  if (!a.map) return a;
  const data = lookupEval(a.map.set, loadKey(a.map.key, ctx), ctx, rule)?.data;
  if (!data) return null;
  return a.kind === 'redirect' ? { kind: a.kind, range: portFromData(a.range, data[0]!) } : { kind: a.kind, range: rangeFromData(a.range, data) };
}

/** nft_redir_eval: the port (range) of the element's data, NF_NAT_RANGE_PROTO_SPECIFIED. */
function portFromData(base: NatRange, port: FieldRange): NatRange {
  return { ...base, flags: base.flags | NatFlag.ProtoSpecified, minProto: port.min as number, maxProto: port.max as number };
}

/** nft_nat_setup_addr / nft_nat_setup_proto on an element's data: the address (range) and, when there, the port (range). */
export function rangeFromData(base: NatRange, data: readonly FieldRange[]): NatRange {
  const [addr, port] = data;
  const range: NatRange = { ...base, flags: base.flags | NatFlag.MapIps, minAddr: addr!.min as number, maxAddr: addr!.max as number };
  return port ? portFromData(range, port) : range;
}
