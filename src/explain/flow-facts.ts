/**
 * The facts a failed flow's paragraph needs, as the probe (collect.ts) gathers them: per live
 * entry only what NAT, confirm and the errors said about it, and per failed flow its first
 * drop. Nothing is kept per packet.
 */
import type { Hook } from '../netfilter/constants.js';
import type { Dir } from '../netfilter/conntrack/tuple.js';
import type { MasqueradeChoice, NatRuleBinding, NeighbourLoss } from '../netfilter/probe.js';
import type { ChainDecision } from '../netfilter/skb.js';
import type { ConnRef, FlowTuple, Moment } from './finding.js';

/** A next hop that did not answer, and when and how the packet sent toward it was lost. */
export interface NeighbourFact {
  readonly at: Moment;
  readonly dev: string;
  readonly nexthop: number;
  readonly how: NeighbourLoss;
}

/**
 * What the probe heard about one live entry — an object per live entry, so its parts are shared
 * where they can be (the binding and MASQUERADE's choice are those of many entries) and its
 * first packet is two numbers, not a Moment of its own (firstMoment makes one).
 */
export interface ConnFacts {
  /** The first packet's record number (null: none, a scenario's) and time (s). */
  readonly firstRecord: number | null;
  readonly firstTime: number;
  /** The flow's tuple's number (flow-index.ts), given when the entry is confirmed. */
  tuple: number | null;
  nat: NatRuleBinding | null;
  /** When the binding was made (ns). */
  natTime: number;
  masq: MasqueradeChoice | null;
  confirmedAt: Hook | null;
  icmp: { readonly at: Moment; readonly hook: Hook; readonly type: number; readonly code: number; readonly from: number } | null;
  neighbour: NeighbourFact | null;
  /** The client answered this DNAT entry's reply, which reached it without being de-NATed. */
  asymmetric: Moment | null;
  evicted: Moment | null;
  /** TCP: the direction of the RST that moved the entry to CLOSE, if one did. */
  resetBy: Dir | null;
  /** TCP: the entry's first segment was not a SYN, and tcp_new picked the connection up mid-stream (nf_conntrack_tcp_loose). */
  midstream: boolean;
  /**
   * A hairpin: the entry is DNATed, not SNATed, and its first packet left by the device it came
   * in on toward a DNAT target on one subnet of that device with the client — which the target
   * then answers directly, past this host.
   */
  hairpin: { readonly dev: string; readonly server: number } | null;
}

export function newConnFacts(first: Moment): ConnFacts {
  return { firstRecord: first.record, firstTime: first.time, tuple: null, nat: null, natTime: 0, masq: null, confirmedAt: null, icmp: null, neighbour: null, asymmetric: null, evicted: null, resetBy: null, midstream: false, hairpin: null };
}

/** The entry's first packet as a Moment. */
export function firstMoment(f: ConnFacts): Moment {
  return { record: f.firstRecord, time: f.firstTime };
}

/** The clash at confirm, as it stood when the packet died. */
export interface ClashFact {
  readonly holder: ConnRef;
  /** Tuples of the NAT range held by confirmed entries then (null: no range, or too large to count). */
  readonly held: number | null;
  readonly rangeSize: number | null;
  /** Some holders of the range's tuples (for exhaustion). */
  readonly holders: readonly ConnRef[];
  /** The holder was confirmed after this flow's NAT chose its tuple: the search could not see it. */
  readonly holderLater: boolean;
}

/** The first packet of a flow that died, and everything known of why. */
export interface DropFact {
  readonly at: Moment;
  readonly hook: Hook | null;
  /** The hook op that returned NF_DROP, or the kernel function that dropped it off the hooks. */
  readonly fn: string | null;
  readonly reason: string;
  readonly counter: string | null;
  readonly decision: ChainDecision | null;
  readonly reject: boolean;
  readonly clash: ClashFact | null;
  /** conntrack's words when the packet was INVALID. */
  readonly invalid: string | null;
  /** nf_conntrack_max and the entries then, for a full table. */
  readonly table: { readonly max: number; readonly count: number } | null;
  /** The next hop that never answered. */
  readonly neighbour: NeighbourFact | null;
  /** The device the packet came in on (null: this host's own). */
  readonly indev: string | null;
}

/** A flow that did not complete, before classification. */
export interface FailedFlow {
  readonly life: number;
  readonly flow: FlowTuple;
  readonly first: Moment;
  dropped: number;
  drop: DropFact | null;
  /** The entry's facts (for a confirmed entry, or the unconfirmed one a dropped packet had). */
  conn: ConnFacts | null;
  /** The entry's end: its state and whether it saw a reply. */
  end: ConnEnd | null;
  /** The tuple NAT gave it, as the peer sees it (null: no entry). */
  translated: FlowTuple | null;
}

export interface ConnEnd {
  readonly at: Moment;
  readonly expired: boolean;
  readonly replied: boolean;
  readonly dnat: boolean;
  readonly tcpState: string | null;
  /** TCP: a RST closed the entry before it was established, sent in this direction (null: no reset). */
  readonly reset: Dir | null;
  /** Seconds of timeout the entry had (left, when the run ended first). */
  readonly timeout: number;
  /** The original direction went to a group or to a broadcast address (null: to one host). */
  readonly toGroup: 'group' | 'broadcast' | null;
}
