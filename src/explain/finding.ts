/**
 * What `natsim explain` found, as plain data: the stable shape the text and JSON renderers and
 * the HTML report read. Addresses are dotted strings, times virtual seconds since the run began,
 * records the capture's 1-based record numbers (null in a scenario).
 */
import type { NeighbourLoss } from '../netfilter/probe.js';

/** A connection tuple. ICMP: `sport` is the echo id and `dport` null. */
export interface FlowTuple {
  readonly proto: string;
  readonly src: string;
  readonly sport: number | null;
  readonly dst: string;
  readonly dport: number | null;
}

/** A moment of the run: the capture record fed then (null in a scenario) and the virtual time. */
export interface Moment {
  readonly record: number | null;
  readonly time: number;
}

/** A rule of the ruleset, where it is written. */
export interface RuleRef {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

/** The packet that decided the flow's fate, and who decided. */
export interface Evidence extends Moment {
  /** The netfilter hook (PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING), null off the hooks (routing, neighbours, expiry). */
  readonly hook: string | null;
  /** The kernel function that decided (e.g. __nf_conntrack_confirm, nft_do_chain). */
  readonly fn: string;
  readonly rule: RuleRef | null;
  /** The conntrack -S counter it moved, if any. */
  readonly counter: string | null;
}

/** Another connection, as a finding names it. */
export interface ConnRef {
  /** Its conntrack entry id (natsim's numbering). */
  readonly id: number;
  readonly flow: FlowTuple;
  /** Its reply tuple (what NAT made it). */
  readonly reply: FlowTuple;
  /** When it was confirmed (null: not known, e.g. confirmed before the probe listened). */
  readonly since: Moment | null;
}

/** How NAT translated the flow. */
export interface NatFact {
  readonly kind: 'snat' | 'dnat' | 'masquerade' | 'redirect';
  readonly rule: RuleRef;
  /** The range the rule gives, as written (e.g. 192.168.206.250:50000-50003). */
  readonly range: string;
  /** Tuples the range holds for this flow (addresses × ports). */
  readonly rangeSize: number;
  /** The tuple the flow was given, as the peer sees it (inverse of the reply tuple). */
  readonly translated: FlowTuple;
  readonly masquerade: MasqueradeFact | null;
}

/**
 * MASQUERADE's choice: IPv4 (nf_nat_masquerade_ipv4 → inet_select_addr) toward the next hop,
 * the route's gateway or the destination itself when on-link; IPv6 (nf_nat_masquerade_ipv6 →
 * ipv6_dev_get_saddr, RFC 6724) for the destination. `why`: the reason for the pick.
 */
export type MasqueradeFact =
  | { readonly family: 'ipv4'; readonly dev: string; readonly nexthop: string; readonly viaGateway: boolean; readonly source: string; readonly why: string }
  | { readonly family: 'ipv6'; readonly dev: string; readonly destination: string; readonly source: string; readonly why: string };

export type Cause =
  /** Dropped at confirm: NAT gave a tuple another entry held, and the search could not avoid it. */
  | { readonly kind: 'nat-clash'; readonly holder: ConnRef; readonly why: 'only-tuple' | 'holder-unconfirmed' | 'search-gave-up'; readonly held: number | null }
  /** Dropped at confirm: every tuple of the NAT range was held. */
  | { readonly kind: 'nat-exhausted'; readonly holder: ConnRef; readonly held: number; readonly holders: readonly ConnRef[] }
  /** The table was at nf_conntrack_max and early_drop found nothing to evict. */
  | { readonly kind: 'table-full'; readonly max: number; readonly count: number }
  /** This flow's entry was evicted by early_drop for a new one. */
  | { readonly kind: 'early-dropped' }
  /** conntrack found the packet broken or out of window; `dropped`: a rule then dropped it. */
  | { readonly kind: 'invalid'; readonly check: string; readonly dropped: boolean }
  /** A rule's DROP/REJECT or a chain's policy. */
  | { readonly kind: 'rule'; readonly verdict: 'drop' | 'reject'; readonly table: string; readonly chain: string; readonly policy: boolean }
  | { readonly kind: 'no-route'; readonly reason: string }
  /** The next hop never answered ARP (IPv4) or neighbour solicitation (IPv6, ndisc). */
  | { readonly kind: 'neighbour'; readonly protocol: 'arp' | 'ndisc'; readonly dev: string; readonly nexthop: string; readonly how: NeighbourLoss; readonly stale: StaleDnat | null }
  /** A reply reached the client without passing this host, so it was never de-NATed; `reaction` is what came back. */
  | { readonly kind: 'asymmetric-reply'; readonly server: string; readonly reaction: Moment }
  /** A hairpin NAT without SNAT: the DNAT target, on the client's own subnet, answers it directly, so no reply passes this host. */
  | { readonly kind: 'hairpin'; readonly server: string; readonly dev: string }
  /** An ICMP or ICMPv6 error came back for the flow (RELATED). */
  | { readonly kind: 'icmp-error'; readonly icmp: 'icmp' | 'icmpv6'; readonly type: number; readonly code: number; readonly text: string; readonly from: string; readonly stale: StaleDnat | null }
  /** No reply: the entry expired (`expired`), or was still waiting when the run ended. */
  | { readonly kind: 'timeout'; readonly expired: boolean; readonly state: string | null; readonly timeout: number }
  /**
   * A RST closed the entry before it was established: from the peer (the reply direction), from
   * this host's own TCP stack (the reply to an entry delivered to this host, LOCAL_IN), or from
   * the flow's sender itself (the original direction).
   */
  | { readonly kind: 'reset'; readonly from: 'peer' | 'this-host' | 'sender' }
  /** Any other drop natsim models (defrag, MTU, REDIRECT without an address, …), in its words. */
  | { readonly kind: 'other-drop'; readonly reason: string }
  /** Sent to a group the receiving device is not in: routing drops it (ip_route_input_rcu, ip6_mc_input). */
  | { readonly kind: 'group-not-joined'; readonly dev: string }
  /** Sent to a group or a broadcast address and delivered: no answer can match its entry. */
  | { readonly kind: 'to-group'; readonly to: 'group' | 'broadcast' };

export type CauseKind = Cause['kind'];

/** A DNAT entry that kept sending a flow to an endpoint that had answered and then vanished. */
export interface StaleDnat {
  readonly endpoint: string;
  /** The entry had seen replies from it before. */
  readonly answeredBefore: boolean;
}

export interface Finding {
  /** The flow's original tuple, as text (also its identity: `life` > 0 for a later use of the same tuple). */
  readonly key: string;
  readonly life: number;
  readonly flow: FlowTuple;
  readonly first: Moment;
  /** Packets of the flow that died. */
  readonly dropped: number;
  readonly evidence: Evidence;
  readonly cause: Cause;
  readonly nat: NatFact | null;
  /** TCP: the entry was picked up mid-stream (its first segment was not a SYN; nf_conntrack_tcp_loose=1). */
  readonly midstream: boolean;
}

/** One MASQUERADE choice and how many flows got it. */
export type MasqueradeSummary = MasqueradeFact & { readonly flows: number };

export interface Explanation {
  readonly host: string;
  /** Flows seen (conntrack entries, and untracked packets' flows that died). */
  readonly flows: number;
  /** Failed flows by cause, most first. */
  readonly summary: readonly { readonly cause: CauseKind; readonly flows: number }[];
  readonly masquerade: readonly MasqueradeSummary[];
  /** conntrack -S totals that are not zero. */
  readonly counters: Readonly<Record<string, number>>;
  readonly findings: readonly Finding[];
}
