/**
 * nf_tables sets and maps: a key of one field or a concatenation of several, elements compared
 * field by field, and for a map the verdict each element carries (natsim models verdict maps,
 * the data kube-proxy's vmaps hold). One element model stands for the kernel's backends, which
 * agree on what matches: exact keys (nft_set_hash.c), intervals of a single field with `flags
 * interval` (nft_set_rbtree.c), and ranges per field of a concatenation (nft_set_pipapo.c).
 * The lookup is nft_lookup_eval (net/netfilter/nft_lookup.c).
 */
import { parseIpv4, parsePrefix, prefixMask } from '../../packet/ipv4-addr.js';
import type { VerdictAction } from './model.js';
import { parsePortRange, parseProto, parseU32 } from './syntax.js';

/** The datatypes a key field can have: nft's names, and `integer` for numgen's values. */
export type SetDatatype = 'ipv4_addr' | 'inet_proto' | 'inet_service' | 'integer';

/** The datatypes a `type` declaration may name (nft has no declared `integer` set). */
export const DECLARABLE_DATATYPES: readonly SetDatatype[] = ['ipv4_addr', 'inet_proto', 'inet_service'];

/** The set flags nft prints (NFT_SET_CONSTANT, _INTERVAL, _TIMEOUT, _EVAL as `dynamic`). */
export const SET_FLAGS: readonly string[] = ['constant', 'interval', 'timeout', 'dynamic'];

/** An element's value for one field: an inclusive range (a single value has min = max). */
export interface FieldRange {
  readonly min: number;
  readonly max: number;
}

export interface SetElement {
  readonly key: readonly FieldRange[];
  /** A verdict map's data; null in a set. */
  readonly verdict: VerdictAction | null;
}

export interface NftSet {
  /** null for an anonymous set (`{ … }` written in the rule). */
  readonly name: string | null;
  readonly key: readonly SetDatatype[];
  /** A verdict map (`type … : verdict`, or an anonymous `vmap { … }`). */
  readonly verdictMap: boolean;
  /** Shared with every rule that names the set, so `add element` later reaches them too. */
  readonly elements: SetElement[];
}

/** One field of an element as nft prints it: an address, prefix or range; a protocol; a port or range; a number. */
export function parseField(type: SetDatatype, text: string): FieldRange | null {
  const dash = text.indexOf('-');
  switch (type) {
    case 'ipv4_addr': {
      if (dash > 0) return range(parseIpv4(text.slice(0, dash)), parseIpv4(text.slice(dash + 1)));
      const p = parsePrefix(text);
      if (p === null) return null;
      const min = (p.addr & prefixMask(p.len)) >>> 0;
      return { min, max: (min | ~prefixMask(p.len)) >>> 0 };
    }
    case 'inet_proto': {
      const proto = parseProto(text);
      return proto === null ? null : { min: proto, max: proto };
    }
    case 'inet_service':
      return parsePortRange(text, '-');
    case 'integer':
      return dash > 0 ? range(parseU32(text.slice(0, dash)), parseU32(text.slice(dash + 1))) : range(parseU32(text), parseU32(text));
  }
}

function range(min: number | null, max: number | null): FieldRange | null {
  return min === null || max === null || min > max ? null : { min, max };
}

/** The element holding the key, each field within its element's range; undefined for none. */
export function setLookup(set: NftSet, key: readonly number[]): SetElement | undefined {
  return set.elements.find((e) => e.key.every((f, i) => key[i]! >= f.min && key[i]! <= f.max));
}

/** The key type as nft prints it: `ipv4_addr . inet_proto . inet_service`. */
export function keyTypeText(types: readonly SetDatatype[]): string {
  return types.join(' . ');
}
