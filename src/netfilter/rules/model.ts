/**
 * One rule model for every front-end (nft text, iptables-save text): tables hold chains, base
 * chains sit at a hook with a priority, rules are matches plus an optional action. Addresses are
 * IPv4 numbers (unsigned 32-bit, host order); ports are numbers.
 */
import type { SourcePlace } from '../../errors.js';
import type { Hook } from '../constants.js';

export type ChainType = 'filter' | 'nat' | 'route';
export type Policy = 'accept' | 'drop';

export interface BaseChainSpec {
  readonly type: ChainType;
  readonly hook: Hook;
  readonly priority: number;
  readonly policy: Policy;
}

export interface Prefix {
  readonly addr: number;
  readonly len: number;
}

export interface PortRange {
  readonly min: number;
  readonly max: number;
}

/** A match: every match of a rule must hold (logical and). `negate` inverts one match. */
export type Match =
  | { readonly kind: 'saddr' | 'daddr'; readonly negate: boolean; readonly prefixes: readonly Prefix[] }
  /** Interface by name; `prefix` for iptables "eth+" and nft "eth*" wildcards. */
  | { readonly kind: 'iifname' | 'oifname'; readonly negate: boolean; readonly name: string; readonly prefix: boolean }
  | { readonly kind: 'l4proto'; readonly negate: boolean; readonly protos: readonly number[] }
  /** Port match; implies the protocol `proto` (tcp dport 80 does not match udp). */
  | { readonly kind: 'sport' | 'dport'; readonly negate: boolean; readonly proto: number; readonly ranges: readonly PortRange[] };

/** NF_NAT_RANGE_* flags (include/uapi/linux/netfilter/nf_nat.h). */
export const NatFlag = {
  MapIps: 1 << 0,
  ProtoSpecified: 1 << 1,
  ProtoRandom: 1 << 2,
  Persistent: 1 << 3,
  ProtoRandomFully: 1 << 4,
  ProtoOffset: 1 << 5,
  Netmap: 1 << 6,
} as const;
export const NAT_RANGE_PROTO_RANDOM_ALL = NatFlag.ProtoRandom | NatFlag.ProtoRandomFully;

/** struct nf_nat_range2 for IPv4: addresses host-order u32, ports host-order u16. */
export interface NatRange {
  readonly flags: number;
  readonly minAddr: number;
  readonly maxAddr: number;
  readonly minProto: number;
  readonly maxProto: number;
  /** base_proto, used with NatFlag.ProtoOffset only. */
  readonly baseProto: number;
}

export type Action =
  | { readonly kind: 'accept' | 'drop' | 'return' }
  | { readonly kind: 'jump' | 'goto'; readonly chain: string }
  /** SNAT/DNAT: the range says which addresses (MapIps) and ports (ProtoSpecified). */
  | { readonly kind: 'snat' | 'dnat'; readonly range: NatRange }
  /** MASQUERADE: only the port part and flags of the range are meaningful. */
  | { readonly kind: 'masquerade'; readonly range: NatRange };

export interface Rule {
  readonly matches: readonly Match[];
  /** null: no terminal statement, evaluation continues with the next rule. */
  readonly action: Action | null;
  readonly place: SourcePlace;
  /** The rule as written, for traces. */
  readonly text: string;
}

export interface Chain {
  readonly name: string;
  readonly base?: BaseChainSpec;
  readonly rules: Rule[];
}

export type TableFamily = 'ip' | 'inet' | 'ip6' | 'arp' | 'bridge' | 'netdev';

export interface Table {
  readonly family: TableFamily;
  readonly name: string;
  readonly chains: Map<string, Chain>;
  /** Which front-end described it. */
  readonly source: 'nft' | 'iptables';
}

export interface Ruleset {
  readonly tables: Table[];
}
