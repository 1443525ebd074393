/**
 * What `natsim report` keeps of a replay to draw its page: a bounded summary built from the
 * trace events as they come (collector.ts), never every packet. Every list here has a cap, and
 * the page says what each cap left out (LeftOut).
 */
import type { Hook, Verdict } from '../../netfilter/constants.js';
import type { CtView, PacketView, RuleRef, TupleView } from '../../trace/events.js';
import { Status } from '../../netfilter/conntrack/conn.js';
import type { StatName } from '../../netfilter/conntrack/stats.js';

/** How many of each thing the page shows at most. */
export const LIMITS = {
  /** Packets drawn per flow (the first ones; the ladder and the packet table). */
  packetsPerFlow: 16,
  /** Dropped packets kept per flow beyond the first ones. */
  dropsPerFlow: 8,
  /** Flows that failed nothing, by packet count. */
  topFlows: 20,
  /** Failed flows drawn with their packets. */
  failedDrawn: 100,
  /** Failed flows listed (a table row each). */
  failedListed: 5000,
  /** Other flows whose conntrack entry the timeline shows (a uniform sample). */
  sampledEntries: 300,
  /** State changes kept per entry. */
  stateChanges: 24,
  /** Findings listed at the top (explain's, the first ones). */
  findings: 200,
  /** Points of the conntrack -S chart. */
  statsPoints: 200,
} as const;

/** Which way a packet went: ctinfo's direction, or for an untracked flow against its first packet. */
export type Direction = 'original' | 'reply';

/** One hook op a packet met, as the path view draws it. */
export interface OpStep {
  readonly hook: Hook;
  readonly priority: number;
  readonly op: string;
  readonly verdict: Verdict;
  /** The packet before and after, when the op changed it. */
  readonly changed: { readonly before: PacketView; readonly after: PacketView } | null;
  /** The conntrack entry as the op left it, when it made or changed it (the hook event's view, shared with the entry's other steps). */
  readonly ct: CtView | null;
  readonly rule: RuleRef | null;
  readonly notes: readonly string[];
  readonly drop: string | null;
}

/** One packet through the node, from where it came in (or was made) to where it ended. */
export interface PacketRecord {
  readonly skb: number;
  readonly time: number;
  direction: Direction;
  /** The device it came in on and the packet as it arrived; null for a packet the node made. */
  inDev: string | null;
  inPkt: PacketView | null;
  ops: OpStep[];
  route: string | null;
  /** How many of `ops` came before the routing decision. */
  routeAt: number;
  outDev: string | null;
  outPkt: PacketView | null;
  /** The reason it died, if it did. */
  drop: string | null;
  /** Whether an op took it (NF_STOLEN). */
  stolen: boolean;
  /** Whether routing delivered it to the node itself. */
  local: boolean;
  /** Whether its flow keeps it (packets beyond the flow's caps are only counted). */
  kept: boolean;
}

/** A conntrack entry's state from a time on. */
export interface StateSpan {
  readonly time: number;
  /** The TCP tracker's state, or UNREPLIED / REPLIED / ASSURED for the other protocols. */
  readonly state: string;
}

/** A connection (an original tuple) or, untracked, a pair of addresses and ports. */
export interface FlowRecord {
  /** Numbering on the page (anchors #flow-N), in order of first packet. */
  readonly index: number;
  readonly key: string;
  readonly proto: number;
  /** The original tuple: the client is its source, the server its destination. */
  readonly orig: TupleView;
  /** The reply tuple as the entry last showed it (NAT shows here). */
  reply: TupleView | null;
  readonly first: number;
  last: number;
  packets: number;
  bytes: number;
  drops: number;
  /** Drop reasons, by count. */
  readonly dropReasons: Map<string, number>;
  /** Packets dropped in an insert clash (nf_confirm found the tuple taken). */
  clashes: number;
  /** When the entry was confirmed ([NEW]) and destroyed ([DESTROY]); null when it never was. */
  created: number | null;
  destroyed: number | null;
  readonly states: StateSpan[];
  /** The last status bits the entry showed. */
  status: number;
  readonly kept: PacketRecord[];
}

/** The hook ops of the host, as registered, each hook's in priority order. */
export interface HookOpInfo {
  readonly hook: Hook;
  readonly priority: number;
  readonly op: string;
}

/** conntrack -S counters (summed over CPUs) sampled along the run. */
export interface StatsSeries {
  readonly fields: readonly StatName[];
  readonly times: number[];
  /** values[i][f]: field f at times[i]. */
  readonly values: number[][];
}

/** What the caps left out, for the page to say. */
export interface LeftOut {
  readonly flows: number;
  readonly packets: number;
  /** Failed flows only counted (beyond LIMITS.failedListed). */
  readonly failedUnlisted: number;
  /** Failed flows listed but drawn without their packets. */
  readonly failedUndrawn: number;
  /** Entries the timeline does not show. */
  readonly entries: number;
}

export interface ReportData {
  readonly input: string;
  readonly host: string;
  /** Other traced hosts the report does not show (a scenario tracing several). */
  readonly otherHosts: readonly string[];
  readonly endTime: number;
  readonly totals: { readonly flows: number; readonly packets: number; readonly failed: number; readonly entries: number };
  readonly hooks: readonly HookOpInfo[];
  readonly topFlows: readonly FlowRecord[];
  readonly failedFlows: readonly FlowRecord[];
  readonly sampledFlows: readonly FlowRecord[];
  readonly stats: StatsSeries;
  readonly leftOut: LeftOut;
}

/** Whether a flow failed: a packet of it died, it clashed, or its entry never saw a reply. */
export function flowFailed(f: FlowRecord): boolean {
  return f.drops > 0 || f.clashes > 0 || (f.created !== null && (f.status & Status.SeenReply) === 0);
}

/** A drop at confirm because the tuple was taken (confirm.ts: "insert clash with conntrack entry N"). */
export function isClash(reason: string): boolean {
  return reason.includes('insert clash');
}
