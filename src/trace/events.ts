/**
 * Trace events: what happened to a packet, as data. The model emits them only when a formatter
 * is listening (design.md §8); formatters turn them into text or JSON.
 */
import { isIcmp, type Hook, type Verdict } from '../netfilter/constants.js';
import type { CtInfo } from '../netfilter/conntrack/conn.js';
import { Dir } from '../netfilter/conntrack/tuple.js';
import type { L3Packet } from '../packet/l3-packet.js';
import type { DropReason } from '../netfilter/skb.js';
import type { Conn } from '../netfilter/conntrack/conn.js';
import type { ConntrackEventType } from '../netfilter/conntrack/ecache.js';
import { TCP_STATE_NAME } from '../netfilter/conntrack/tcp-state.js';
import { HZ, jiffiesAt } from '../netfilter/rules/jiffies.js';
import type { NfLogEntry } from '../netfilter/log/nf-log.js';
import type { NftTraceEvent } from '../netfilter/rules/nft-trace.js';
import type { Rule } from '../netfilter/rules/model.js';

export interface PacketView {
  readonly saddr: number;
  readonly daddr: number;
  readonly proto: number;
  readonly sport: number;
  readonly dport: number;
  readonly ipId: number;
  readonly ttl: number;
  readonly length: number;
  /** ICMP type and code (ICMP only), TCP flags (TCP only), else 0. */
  readonly icmpType: number;
  readonly icmpCode: number;
  readonly tcpFlags: number;
  /** A fragment's offset in bytes and its MF bit (0 and false for a whole datagram). */
  readonly fragOffset: number;
  readonly moreFragments: boolean;
}

export interface TupleView {
  readonly src: number;
  readonly srcU: number;
  readonly dst: number;
  readonly dstU: number;
  readonly proto: number;
}

export interface CtView {
  readonly id: number;
  readonly ctinfo: CtInfo;
  readonly orig: TupleView;
  readonly reply: TupleView;
  readonly status: number;
  /** TCP only: the tracker's state name. */
  readonly tcpState: string | null;
}

/** An entry as `conntrack -L` / `-E` show it. */
export interface CtEntryView {
  readonly id: number;
  readonly orig: TupleView;
  readonly reply: TupleView;
  /** Seconds left (rounded down, as nf_ct_expires / HZ); null when not reported. */
  readonly timeout: number | null;
  /** TCP only: the tracker's state name. */
  readonly tcpState: string | null;
  readonly status: number;
  readonly mark: number;
}

/** The NAT rule that bound a connection at this op. */
export interface NatBinding {
  readonly kind: 'snat' | 'dnat' | 'masquerade' | 'redirect' | 'null';
  readonly rule: string | null;
  readonly outdev: string | null;
}

/** The rule that decided an op's verdict or bound its NAT, where it is written (natsim report links it). */
export interface RuleRef {
  readonly file: string;
  readonly line: number | null;
  readonly text: string;
}

export function ruleRef(rule: Rule): RuleRef {
  return { file: rule.place.file, line: rule.place.line ?? null, text: rule.text };
}

interface Base {
  readonly time: number;
  readonly host: string;
  readonly skb: number;
}

export type TraceEvent =
  | (Base & { readonly kind: 'receive'; readonly dev: string; readonly pkt: PacketView })
  | (Base & {
      readonly kind: 'hook';
      readonly hook: Hook;
      readonly priority: number;
      readonly op: string;
      readonly verdict: Verdict;
      readonly ctBefore: CtView | null;
      readonly ct: CtView | null;
      readonly before: PacketView;
      readonly after: PacketView;
      readonly nat: NatBinding | null;
      /** The rule that decided the verdict (a filter chain's) or bound the NAT; null for a policy or no rule. */
      readonly rule: RuleRef | null;
      readonly notes: readonly string[];
      /** The kernel log lines the op printed while it ran (LOG, ip_tables' TRACE). */
      readonly logs: readonly NfLogEntry[];
      /** The nf_tables trace events it sent (meta nftrace, iptables-nft's TRACE). */
      readonly nftTrace: readonly NftTraceEvent[];
      readonly drop: DropReason | null;
    })
  | (Base & { readonly kind: 'route'; readonly result: 'local' | 'forward'; readonly dev: string | null; readonly nexthop: number; readonly reason: null })
  /** Routing refused the packet: no device, no next hop. */
  | (Base & { readonly kind: 'route'; readonly result: 'drop'; readonly dev: null; readonly nexthop: null; readonly reason: string })
  | (Base & { readonly kind: 'transmit'; readonly dev: string; readonly pkt: PacketView })
  /** A packet of the node's own stack, taken from a capture and fed at LOCAL_OUT (world/own-output.ts). */
  | (Base & { readonly kind: 'output'; readonly pkt: PacketView; readonly note: string | null })
  | (Base & { readonly kind: 'drop'; readonly hook: Hook | null; readonly reason: string; readonly counter: string | null })
  | (Base & { readonly kind: 'unhandled'; readonly dev: string; readonly reason: string })
  /** __neigh_event_send: the next hop is not resolved, and the packet waits in its neighbour's arp_queue (world/arp-queue.ts). */
  | (Base & { readonly kind: 'neighbour'; readonly dev: string; readonly nexthop: number })
  | (Base & { readonly kind: 'conntrack'; readonly event: ConntrackEventType; readonly entry: CtEntryView })
  /** What a bridge did with a frame (src/bridge): where it learned, sent it, and where br_netfilter ran the IPv4 hooks. */
  | (Base & { readonly kind: 'bridge'; readonly bridge: string; readonly step: BridgeStep });

/** One step of a frame through a bridge, named after the kernel function that takes it. */
export type BridgeStep =
  /** br_handle_frame on a port (the frame's addresses, `??` where natsim is not told them). */
  | { readonly step: 'frame'; readonly port: string; readonly source: string; readonly dest: string }
  /** br_fdb_update: a source address new on the port (or moved to it). */
  | { readonly step: 'learn'; readonly mac: string; readonly port: string; readonly moved: boolean }
  /** br_forward to the port the FDB names; `hairpin`: back out the port it came in by. */
  | { readonly step: 'forward'; readonly port: string; readonly hairpin: boolean }
  /** br_flood: to every port that may have it (unknown unicast, broadcast, multicast). */
  | { readonly step: 'flood'; readonly ports: readonly string[]; readonly why: 'unknown destination' | 'broadcast' | 'multicast' }
  /** br_pass_frame_up: for the host itself, up the stack on the bridge device. */
  | { readonly step: 'local' }
  /** should_deliver refused: back out the port it came in by without hairpin mode. */
  | { readonly step: 'no-hairpin'; readonly port: string }
  /** br_netfilter calls the IPv4 hook with in/out set to the bridge (physin/physout the ports). */
  | { readonly step: 'brnf'; readonly fn: 'br_nf_pre_routing' | 'br_nf_forward_ip' | 'br_nf_post_routing'; readonly physin: string | null; readonly physout: string | null }
  /** br_nf_pre_routing_finish: DNAT gave a destination on the same bridge; bridged to its neighbour (fast: neighbour known, else through neigh->output and docker0). */
  | { readonly step: 'bridged-dnat'; readonly neighbour: 'connected' | 'resolving' }
  /** br_nf_pre_routing_finish: DNAT gave a destination routed elsewhere; up the stack to be routed. */
  | { readonly step: 'dnat-routed' }
  /** br_handle_frame drops it (invalid source address, port not forwarding). */
  | { readonly step: 'drop'; readonly reason: string };

export interface TraceSink {
  emit(event: TraceEvent): void;
}

export function viewPacket(p: L3Packet): PacketView {
  // a fragment after the first, or an ICMP header cut short, has no ICMP fields to read
  const icmp = isIcmp(p.proto) && p.fragOffset === 0 && p.l4off + 2 <= p.length;
  return {
    saddr: p.saddr,
    daddr: p.daddr,
    proto: p.proto,
    sport: p.sport,
    dport: p.dport,
    ipId: p.id,
    ttl: p.ttl,
    length: p.length,
    icmpType: icmp ? p.icmpType : 0,
    icmpCode: icmp ? p.icmpCode : 0,
    tcpFlags: p.proto === 6 && p.fragOffset === 0 ? p.tcpFlags : 0,
    fragOffset: p.fragOffset,
    moreFragments: p.moreFragments,
  };
}

function tcpStateName(ct: Conn): string | null {
  return ct.tcp ? TCP_STATE_NAME[ct.tcp.state]! : null;
}

export function viewEntry(ct: Conn, now: number): CtEntryView {
  return {
    id: ct.id,
    orig: viewDir(ct, Dir.Original),
    reply: viewDir(ct, Dir.Reply),
    // nf_ct_expires / HZ: counted in jiffies, so a packet in the same jiffy leaves the whole timeout
    timeout: Math.max(0, Math.floor(ct.confirmed ? (jiffiesAt(ct.timeout) - jiffiesAt(now)) / HZ : ct.timeout / 1e9)),
    tcpState: tcpStateName(ct),
    status: ct.status,
    mark: ct.mark,
  };
}

/**
 * An entry as ctnetlink_conntrack_event puts it in an event: the TCP state only with
 * IPCT_PROTOINFO (or on DESTROY), and a DESTROY's timeout only when not zero.
 */
export function eventEntry(type: ConntrackEventType, ct: Conn, now: number, protoinfo: boolean): CtEntryView {
  const view = viewEntry(ct, now);
  return { ...view, tcpState: protoinfo ? view.tcpState : null, timeout: type === 'DESTROY' && view.timeout === 0 ? null : view.timeout };
}

/** Whether `view` still shows `p` (no field of the view changed since it was taken). */
export function packetAsViewed(p: L3Packet, view: PacketView): boolean {
  return (
    p.saddr === view.saddr &&
    p.daddr === view.daddr &&
    p.proto === view.proto &&
    p.sport === view.sport &&
    p.dport === view.dport &&
    p.id === view.ipId &&
    p.ttl === view.ttl &&
    p.length === view.length &&
    (isIcmp(p.proto) ? p.icmpType === view.icmpType && p.icmpCode === view.icmpCode : true) &&
    (p.proto === 6 ? p.tcpFlags === view.tcpFlags : true)
  );
}

/** Whether `view` still shows the entry (and ctinfo) a packet carries. */
export function ctAsViewed(ct: Conn | null, ctinfo: CtInfo, view: CtView | null): boolean {
  if (ct === null || view === null) return ct === null && view === null;
  return (
    ct.id === view.id &&
    ctinfo === view.ctinfo &&
    ct.status === view.status &&
    tcpStateName(ct) === view.tcpState &&
    dirAsViewed(ct, Dir.Original, view.orig) &&
    dirAsViewed(ct, Dir.Reply, view.reply)
  );
}

/**
 * An entry's tuple of one direction, read from the entry's fields: ct.tuple(dir) would make a
 * Tuple only to be copied, and the traced path views or compares both tuples at every op.
 */
function viewDir(ct: Conn, dir: Dir): TupleView {
  return { src: ct.src(dir), srcU: ct.srcU(dir), dst: ct.dst(dir), dstU: ct.dstU(dir), proto: ct.proto };
}

function dirAsViewed(ct: Conn, dir: Dir, view: TupleView): boolean {
  return ct.src(dir) === view.src && ct.dst(dir) === view.dst && ct.srcU(dir) === view.srcU && ct.dstU(dir) === view.dstU && ct.proto === view.proto;
}

export function viewCt(ct: Conn | null, ctinfo: CtInfo): CtView | null {
  if (!ct) return null;
  return { id: ct.id, ctinfo, orig: viewDir(ct, Dir.Original), reply: viewDir(ct, Dir.Reply), status: ct.status, tcpState: tcpStateName(ct) };
}

export function sameTuple(a: TupleView, b: TupleView): boolean {
  return a.src === b.src && a.dst === b.dst && a.srcU === b.srcU && a.dstU === b.dstU && a.proto === b.proto;
}

export function samePacket(a: PacketView, b: PacketView): boolean {
  return a.saddr === b.saddr && a.daddr === b.daddr && a.sport === b.sport && a.dport === b.dport && a.ttl === b.ttl && a.fragOffset === b.fragOffset && a.moreFragments === b.moreFragments;
}
