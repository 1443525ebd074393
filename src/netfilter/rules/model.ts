/**
 * One rule model for every front-end (nft text, iptables-save text): tables hold chains, base
 * chains sit at a hook with a priority, rules are matches plus an optional action. Addresses are
 * IPv4 numbers (unsigned 32-bit, host order) or IPv6 handles (packet/ipv6-addr.ts), the
 * family the address's own; ports are numbers.
 */
import type { SourcePlace } from '../../errors.js';
import type { Hook } from '../constants.js';
import type { IpSet } from './ipset.js';
import type { NftSet, SetDatatype } from './nft-set.js';
import type { RecentCommand, RecentTable } from './xt-recent.js';
import type { NfLogInfo } from '../log/nf-log.js';
import type { RuleContext } from './context.js';

export type ChainType = 'filter' | 'nat' | 'route';
export type Policy = 'accept' | 'drop';

export interface BaseChainSpec {
  readonly type: ChainType;
  readonly hook: Hook;
  readonly priority: number;
  readonly policy: Policy;
}

/** An address prefix of either family (packet/inet-addr.ts): len up to 32 for IPv4, 128 for IPv6. */
export interface Prefix {
  readonly addr: number;
  readonly len: number;
}

export interface PortRange {
  readonly min: number;
  readonly max: number;
}

/** Conntrack states as rules name them (-m conntrack --ctstate, -m state, nft ct state). */
export const CtState = {
  Invalid: 1 << 0,
  Established: 1 << 1,
  Related: 1 << 2,
  New: 1 << 3,
  Untracked: 1 << 4,
  /** -m conntrack only: the entry's source / destination is NATed (IPS_SRC_NAT, IPS_DST_NAT). */
  Snat: 1 << 5,
  Dnat: 1 << 6,
} as const;

/** Address types (RTN_*) as -m addrtype and nft fib … type name them. */
export const AddrType = {
  Unicast: 1 << 1,
  Local: 1 << 2,
  Broadcast: 1 << 3,
  Multicast: 1 << 5,
  Blackhole: 1 << 6,
  Unreachable: 1 << 7,
  Prohibit: 1 << 8,
  /** RTN_ANYCAST: inet_addr_type gives it only for an anycast route, which natsim's FIB has none of. */
  Anycast: 1 << 4,
} as const;

/** -m statistic's per-rule state (xt_statistic_priv): nth mode counts packets. */
export interface NthCounter {
  count: number;
}

/** nft_ng_inc's counter (numgen inc), shared by every evaluation of the expression. */
export interface NumgenCounter {
  value: number;
}

/**
 * What an nft expression loads into a register for a set lookup or a verdict map; a
 * concatenation (`a . b . c`) is a list of them, one register each.
 */
export type KeyExpr =
  /** ip saddr / ip daddr (nft_payload, network header): ipv4_addr; an IPv6 packet breaks the rule (nft's meta nfproto ipv4 dependency). */
  | { readonly kind: 'saddr' | 'daddr' }
  /** meta l4proto (nft_meta) or ip protocol (nft_payload): inet_proto; the same byte for unfragmented IPv4. */
  | { readonly kind: 'l4proto' }
  /**
   * th|tcp|udp|sctp|udplite sport|dport (nft_payload, transport header): inet_service. `proto` is
   * the `meta l4proto` dependency nft puts before tcp/udp/… fields; null for th, which has none.
   */
  | { readonly kind: 'sport' | 'dport'; readonly proto: number | null }
  /** numgen random|inc mod N [offset K] (nft_numgen): an integer in [offset, offset + N). */
  | { readonly kind: 'numgen'; readonly mode: 'random' | 'inc'; readonly modulus: number; readonly offset: number; readonly counter: NumgenCounter }
  /** meta KEY (nft_meta_get_eval). */
  | { readonly kind: 'meta'; readonly key: NftMetaKey }
  /** ct KEY (nft_ct_get_eval). */
  | { readonly kind: 'ct'; readonly key: NftCtKey }
  /**
   * A header field (nft_payload_eval) of `bits` bits at bit `at` of the network or transport
   * header or what follows the transport header (`@ih`), `proto` the l4proto dependency nft adds
   * before a transport field (null: none), `nfproto` the family dependency nft adds before a
   * field of the ip or ip6 header or of icmpv6 (`meta nfproto ipv4|ipv6` in an inet table; the
   * table's family elsewhere): a packet of the other family breaks the rule. Null: either family.
   */
  | { readonly kind: 'payload'; readonly name: string; readonly base: 'network' | 'transport' | 'inner'; readonly proto: number | null; readonly nfproto: NfProto | null; readonly at: number; readonly bits: number; readonly datatype: SetDatatype }
  /** `tcp option NAME [FIELD]` (nft_exthdr_tcp_eval): the field of a TCP option, or whether it is there. */
  | { readonly kind: 'tcpopt'; readonly name: string; readonly option: number; readonly field: 'exists' | 'kind' | 'length' | 'value'; readonly offset: number; readonly bytes: number; readonly datatype: SetDatatype }
  /**
   * EXPR & MASK ^ XOR (nft_bitwise_eval_mask_xor), or EXPR and|or|xor EXPR2 of a second
   * register (nft_bitwise_eval_and/_or/_xor, `ip saddr ^ ip daddr`) when `by` is there.
   */
  | { readonly kind: 'bitwise'; readonly of: KeyExpr; readonly mask: number; readonly xor: number; readonly by?: { readonly op: 'and' | 'or' | 'xor'; readonly expr: KeyExpr } }
  /**
   * `ip6 saddr & ::ffff` (nft_bitwise_eval_mask_xor on four registers): a 128-bit field ANDed
   * with a mask, both as their register text (nft-datatype.ts ipv6Register).
   */
  | { readonly kind: 'mask128'; readonly of: KeyExpr; readonly mask: string }
  /**
   * A field of an IPv6 extension header (`rt type 0`: nft_exthdr_ipv6_eval), found by
   * ipv6_find_hdr wherever the header sits in the chain; an IPv6-only key, and a packet
   * without the header breaks the rule.
   */
  | { readonly kind: 'exthdr6'; readonly name: string; readonly hdr: number; readonly offset: number; readonly bytes: number; readonly datatype: SetDatatype }
  /**
   * fib saddr|daddr [. iif|oif] oif|oifname (nft_fib4_eval): the device the route toward the
   * address leaves by, `dev` the packet's device it must be (null: any).
   */
  | { readonly kind: 'fib'; readonly daddr: boolean; readonly dev: 'in' | 'out' | null; readonly result: 'oif' | 'oifname'; readonly present: boolean }
  /** A constant in a concatenation (`ip saddr . 10002`), loaded by nft_immediate; typed by the set's field. */
  | { readonly kind: 'const'; readonly value: number | string; readonly datatype: SetDatatype };

/** NFPROTO_IPV4 and NFPROTO_IPV6: the family of a packet, as meta nfproto and ct l3proto load it. */
export type NfProto = 2 | 10;
export const NFPROTO_IPV4: NfProto = 2;
export const NFPROTO_IPV6: NfProto = 10;

/** The meta keys natsim loads (enum nft_meta_keys). */
export type NftMetaKey = 'nfproto' | 'iifname' | 'oifname' | 'iif' | 'oif' | 'iiftype' | 'oiftype' | 'mark' | 'random' | 'time' | 'day' | 'hour' | 'pkttype' | 'length' | 'protocol' | 'cpu' | 'skuid' | 'skgid';
/** The ct keys natsim loads (enum nft_ct_keys). */
export type NftCtKey = 'state' | 'status' | 'direction' | 'mark' | 'l3proto' | 'protocol' | 'expiration' | 'zone';

/**
 * A match: every match of a rule must hold (logical and), tested in the rule's order; `negate`
 * inverts one match. Some record what they see (-m recent, nft dynset) as they are tested.
 */
export type Match =
  | { readonly kind: 'saddr' | 'daddr'; readonly negate: boolean; readonly prefixes: readonly Prefix[] }
  /** Interface by name; `prefix` for iptables "eth+" and nft "eth*" wildcards. */
  | { readonly kind: 'iifname' | 'oifname'; readonly negate: boolean; readonly name: string; readonly prefix: boolean }
  | { readonly kind: 'l4proto'; readonly negate: boolean; readonly protos: readonly number[] }
  /** Port match; implies the protocol `proto` (tcp dport 80 does not match udp). */
  | { readonly kind: 'sport' | 'dport'; readonly negate: boolean; readonly proto: number; readonly ranges: readonly PortRange[] }
  /** mark & mask == value, of the packet (-m mark, meta mark) or its connection (-m connmark, ct mark). */
  | { readonly kind: 'mark'; readonly of: MarkOwner; readonly negate: boolean; readonly value: number; readonly mask: number }
  /** Any of the CtState bits. */
  | { readonly kind: 'ctstate'; readonly negate: boolean; readonly states: number }
  /** Any of the AddrType bits, for the source or the destination address. */
  /** -m addrtype (`by` xt: xt_addrtype's conditions) or nft `fib … type` (`by` fib: the one type nft_fib loads, among `types`). */
  | { readonly kind: 'addrtype'; readonly negate: boolean; readonly which: 'src' | 'dst'; readonly types: number; readonly by: 'xt' | 'fib' }
  /** -m physdev: one bridge-port condition (--physdev-in NAME, --physdev-is-bridged, …). */
  | { readonly kind: 'physdev'; readonly negate: boolean; readonly option: 'in' | 'out' | 'is-in' | 'is-out' | 'is-bridged'; readonly port: string | null }
  /** -m statistic --mode random: matches when a random 31-bit value is below `threshold`. */
  | { readonly kind: 'random'; readonly negate: boolean; readonly threshold: number }
  /** -m statistic --mode nth: the counter runs 0..every and matches at `packet`. */
  | { readonly kind: 'nth'; readonly negate: boolean; readonly every: number; readonly packet: number; readonly counter: NthCounter }
  /** TCP flags & mask == comp (implies TCP). */
  | { readonly kind: 'tcpflags'; readonly negate: boolean; readonly mask: number; readonly comp: number }
  /** ICMP or ICMPv6 type (and code, or any code when null); implies `proto` (IPPROTO_ICMP or IPPROTO_ICMPV6). */
  | { readonly kind: 'icmptype'; readonly negate: boolean; readonly proto: number; readonly type: number; readonly code: number | null }
  /** -m set --match-set NAME src,dst: the set's dimensions taken from these directions. */
  | { readonly kind: 'ipset'; readonly negate: boolean; readonly set: IpSet; readonly dirs: readonly ('src' | 'dst')[] }
  /** nft lookup: the key (one field, or a concatenation) is in the named or anonymous set or map. */
  | { readonly kind: 'lookup'; readonly negate: boolean; readonly key: readonly KeyExpr[]; readonly set: NftSet }
  /**
   * nft `add|update|delete @set { KEY [timeout T] [STATEMENT…] [: DATA] }` (nft_dynset): a
   * statement that puts the key (and a map's data) in the set or takes it out, and ends the rule
   * (NFT_BREAK) only when the set is full or an element's statement says so — so it sits among
   * the matches, in the rule's order. `timeout` 0: the set's. `exprs`: the statements each new
   * element gets a copy of (nft_dynset_expr_setup).
   */
  | { readonly kind: 'dynset'; readonly op: 'add' | 'update' | 'delete'; readonly key: readonly KeyExpr[]; readonly data: readonly KeyExpr[] | null; readonly set: NftSet; readonly timeout: number; readonly exprs: readonly NftElementExpr[] }
  /** -m recent (xt_recent): the address of `side` in the namespace's table, per the command. */
  | { readonly kind: 'recent'; readonly negate: boolean; readonly table: RecentTable; readonly side: 'src' | 'dst'; readonly command: RecentCommand }
  /** An x_tables match module with a file of its own (xt-limit.ts, xt-ttl.ts, …). */
  | { readonly kind: 'xt'; readonly module: XtMatch }
  /** An nf_tables statement with a file of its own (nft-limit.ts, nft-quota.ts, …), in the rule's order. */
  | { readonly kind: 'nft'; readonly expr: NftExpr };

/**
 * An nf_tables expression or statement that is neither a plain comparison nor a verdict
 * (struct nft_expr_ops): its eval either lets the rule go on or sets NFT_BREAK.
 */
export interface NftExpr {
  /** The statement as nft writes it (`limit rate 10/second`), for traces. */
  readonly name: string;
  /** It changes state when evaluated (a token bucket, a quota), so no rule index may skip it. */
  readonly stateful: boolean;
  /** Its init calls nf_ct_netns_get (nft_ct_helper_obj_init, nft_flow_offload_init …): conntrack then runs (netns.ts). */
  readonly needsConntrack: boolean;
  /** The eval function: true to go on with the rule, false for NFT_BREAK. */
  eval(ctx: RuleContext, rule: Rule): boolean;
}

/**
 * A stateful expression a set element can carry (NFT_EXPR_STATEFUL with a clone op): each new
 * element gets its own copy of the rule's template (nft_expr_clone at virtual time `now`).
 */
export interface NftElementExpr extends NftExpr {
  clone(now: number): NftElementExpr;
}

/**
 * An x_tables match as the kernel registers it (struct xt_match): its match function, which
 * applies the rule's inversion flags itself as each module does, and the hooks it accepts.
 */
export interface XtMatch {
  /** The module's name, as after -m. */
  readonly name: string;
  /** xt_match.hooks: where xt_check_match accepts it; every hook when absent. */
  readonly hooks?: readonly Hook[];
  /** It changes state when tested (a token bucket, a counter), so no rule index may skip it. */
  readonly stateful: boolean;
  /** Its checkentry calls nf_ct_netns_get: the namespace then tracks connections (netns.ts). */
  readonly needsConntrack: boolean;
  match(ctx: RuleContext, rule: Rule): boolean;
}

/**
 * An x_tables target that lets evaluation go on (struct xt_target returning XT_CONTINUE), with a
 * file of its own (xt-nflog.ts, xt-tcpmss.ts, …).
 */
export interface XtTarget {
  /** The target's name, as after -j. */
  readonly name: string;
  /** xt_target.hooks: where xt_check_target accepts it; every hook when absent. */
  readonly hooks?: readonly Hook[];
  /** Its checkentry calls nf_ct_netns_get: the namespace then tracks connections (netns.ts). */
  readonly needsConntrack: boolean;
  /** The target function: true for XT_CONTINUE, false for NF_DROP (a reason set on the skb). */
  target(ctx: RuleContext, rule: Rule): boolean;
}

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

/**
 * struct nf_nat_range2: addresses host-order u32 for IPv4, IPv6 handles for IPv6 (minAddr and
 * maxAddr the first and last address, in the order of the addresses' 128 bits, not of the
 * handles: compareInetAddr), ports host-order u16.
 */
export interface NatRange {
  readonly flags: number;
  readonly minAddr: number;
  readonly maxAddr: number;
  readonly minProto: number;
  readonly maxProto: number;
  /** base_proto, used with NatFlag.ProtoOffset only. */
  readonly baseProto: number;
}

/**
 * What REJECT answers with: a TCP RST, or a destination unreachable with the ICMP code an IPv4
 * packet gets (nf_send_unreach) and the ICMPv6 code an IPv6 packet gets (nf_send_unreach6).
 * A family's reject (`with icmp`, `with icmpv6`) has a dependency that keeps the other family
 * away, whose code is then its default, never sent.
 */
export type RejectWith = { readonly icmpCode: number; readonly icmpv6Code: number } | 'tcp-reset';

/** A verdict, as a rule ends with it or a verdict map holds it (struct nft_verdict). */
export type VerdictAction =
  | { readonly kind: 'accept' | 'drop' | 'return' }
  /** NFT_CONTINUE: on with the next rule (only meaningful as a verdict map's data). */
  | { readonly kind: 'continue' }
  | { readonly kind: 'jump' | 'goto'; readonly chain: string };

export type Action =
  | VerdictAction
  /** `KEY vmap MAP`: the verdict of the element the key finds; a miss ends the rule (NFT_BREAK). */
  | { readonly kind: 'vmap'; readonly key: readonly KeyExpr[]; readonly map: NftSet }
  /**
   * SNAT/DNAT: the range says which addresses (MapIps) and ports (ProtoSpecified). With `map`,
   * the addresses (and ports) are the data of the element the key finds (`dnat to ip daddr map
   * { … }`: nft_lookup into the NAT registers), and a miss ends the rule (NFT_BREAK).
   */
  | { readonly kind: 'snat' | 'dnat'; readonly range: NatRange; readonly map?: NatMap }
  /** MASQUERADE and REDIRECT: only the port part and flags of the range are meaningful. */
  | { readonly kind: 'masquerade'; readonly range: NatRange }
  /** REDIRECT; with `map`, the port (range) is the data of the element the key finds, and a miss ends the rule. */
  | { readonly kind: 'redirect'; readonly range: NatRange; readonly map?: NatMap }
  /** REJECT: drop, and answer the sender. */
  | { readonly kind: 'reject'; readonly with: RejectWith }
  /**
   * nft queue / NFQUEUE: to the userspace program on queue `num` (nf_queue). natsim runs none,
   * so __nf_queue finds no instance (-ESRCH): the packet is dropped, or with `bypass` goes on
   * as if accepted.
   */
  | { readonly kind: 'queue'; readonly num: number; readonly bypass: boolean };

/** The map a NAT statement takes its target from: the data are an address (range) and maybe a port (range). */
export interface NatMap {
  readonly key: readonly KeyExpr[];
  readonly set: NftSet;
}

/** Whose mark: skb->mark, or the conntrack entry's ct->mark. */
export type MarkOwner = 'packet' | 'conn';

/** What a rule does to the packet before evaluation goes on (the targets that return XT_CONTINUE). */
export type Effect =
  /** MARK / CONNMARK --set-xmark V/M (every form is one): mark = (mark & ~M) ^ V. */
  | { readonly kind: 'mark'; readonly of: MarkOwner; readonly value: number; readonly mask: number }
  /**
   * CONNMARK --save-mark / --restore-mark (xt_connmark v1): the destination's bits outside its
   * mask kept, the source's bits inside its mask copied in.
   */
  | { readonly kind: 'copymark'; readonly to: MarkOwner; readonly nfmask: number; readonly ctmask: number }
  /** LOG / nft log: nf_log_packet with this prefix, level and flags (a kernel log line). */
  | { readonly kind: 'log'; readonly prefix: string; readonly info: NfLogInfo }
  /** NOTRACK / CT --notrack (raw table): the packet stays untracked. */
  | { readonly kind: 'notrack' }
  /**
   * meta nftrace set 0|1, iptables' TRACE (xt_TRACE): skb->nf_trace, which makes nf_tables
   * chains send trace events (`nft monitor trace`, `xtables-monitor --trace`) and x_tables
   * tables log each rule the packet meets (ipt_do_table's trace_packet).
   */
  | { readonly kind: 'nftrace'; readonly on: boolean }
  /** An x_tables target with a file of its own (XtTarget). */
  | { readonly kind: 'xt'; readonly target: XtTarget };

/** The effects of a rule that has none, shared: a ruleset of a million rules is held whole. */
export const NO_EFFECTS: readonly Effect[] = Object.freeze([]);

export interface Rule {
  readonly matches: readonly Match[];
  /** Applied in order when the matches hold. */
  readonly effects: readonly Effect[];
  /** null: no terminal statement, evaluation continues with the next rule. */
  readonly action: Action | null;
  readonly place: SourcePlace;
  /** The rule as written, for traces. */
  readonly text: string;
  /**
   * iptables rules only: no selector (-s -d -i -o -p) and no -m match, what x_tables'
   * unconditional() tests — the trace of ipt_do_table names such a rule with a negative
   * verdict "policy" or "return", as if it were the chain's tail.
   */
  readonly unconditional?: true;
  /**
   * iptables-nft rules only: the nf_tables rule handle iptables-nft-restore of this text gives it
   * in a new table (nf_tables_alloc_handle counts the chains and rules as they are added), which
   * xtables-monitor prints. A table changed since it was restored numbers its rules otherwise.
   */
  readonly handle?: number;
}

export interface Chain {
  readonly name: string;
  readonly base?: BaseChainSpec;
  readonly rules: Rule[];
}

export type TableFamily = 'ip' | 'inet' | 'ip6' | 'arp' | 'bridge' | 'netdev';

/**
 * Which front-end described a table: nft text, or iptables-save text written by iptables-nft
 * (nf_tables underneath) or by iptables-legacy (x_tables, ip_tables.c).
 */
export type TableSource = 'nft' | 'iptables-nft' | 'iptables-legacy';

export interface Table {
  readonly family: TableFamily;
  readonly name: string;
  readonly chains: Map<string, Chain>;
  readonly source: TableSource;
}

export interface Ruleset {
  readonly tables: Table[];
}

/**
 * The tables whose base chains a packet of this family meets: an ip (or ip6) table's hooks are
 * registered for its family only (nf_register_net_hooks with pf = table->family), an inet
 * table's for both (nft_register_basechain_hooks: NFPROTO_INET registers on each family).
 */
export function tablesOfFamily(ruleset: Ruleset, nfproto: NfProto): Table[] {
  const own: TableFamily = nfproto === NFPROTO_IPV6 ? 'ip6' : 'ip';
  return ruleset.tables.filter((t) => t.family === own || t.family === 'inet');
}
