/**
 * Builds the report's data from the trace events of one host as the replay emits them, in
 * memory bounded by what the page shows: a flow per live conntrack entry (the kernel holds
 * those too) with its counters and states, the first packets of the flows still active, and
 * the flows FlowSelection keeps. A flow settles when it has been quiet for a while or its TCP
 * connection is closing; it is offered to the selection then, and its packets go unless the
 * page will draw them.
 */
import { CtInfo, Status } from '../../netfilter/conntrack/conn.js';
import { Hook, Verdict } from '../../netfilter/constants.js';
import type { StackHooks } from '../../netfilter/stack.js';
import type { Ipv4Skb } from '../../netfilter/skb.js';
import type { Host } from '../../host/host.js';
import { samePacket, sameTuple, type CtView, type CtEntryView, type PacketView, type TraceEvent, type TraceSink, type TupleView } from '../../trace/events.js';
import { FlowSelection } from './flow-selection.js';
import { isClash, LIMITS, type Direction, type FlowRecord, type HookOpInfo, type OpStep, type PacketRecord, type ReportData } from './model.js';
import { StatsSampler } from './stats-sampler.js';

/** Packets in flight at once (an ICMP error made while its cause is in the hooks, a fragment held). */
const IN_FLIGHT = 256;
/** A flow settles when it has had no packet for this long (virtual ns). */
const QUIET_NS = 5e9;
/** At most this many flows hold their packets unsettled; beyond, the quietest settles early. */
const ACTIVE = 5000;
/** TCP states in which a connection is over but for its timer. */
const CLOSING = new Set(['TIME_WAIT', 'CLOSE']);
const NO_NOTES: readonly string[] = [];

const HOOKS: readonly Hook[] = [Hook.PreRouting, Hook.LocalIn, Hook.Forward, Hook.LocalOut, Hook.PostRouting];

interface InFlight {
  readonly record: PacketRecord;
  flow: FlowRecord | null;
  /** The packet as it was before the first op, to place a packet the node made itself. */
  firstSeen: PacketView | null;
}

export class ReportCollector implements TraceSink {
  private hostName: string | null = null;
  private readonly others: string[] = [];
  private hooks: StackHooks<Ipv4Skb> | null = null;
  private sampler: StatsSampler | null = null;
  private readonly inFlight = new Map<number, InFlight>();
  /** Flows by original tuple, until their entry is destroyed (or, never confirmed, they settle). */
  private readonly live = new Map<string, FlowRecord>();
  /** Flows not settled, the longest quiet first. */
  private readonly active = new Set<FlowRecord>();
  private readonly selection = new FlowSelection();
  /** plainStep's steps, by hook and op name. */
  private readonly plainSteps: Map<string, OpStep>[] = HOOKS.map(() => new Map());
  private nextIndex = 1;
  private packets = 0;
  private entries = 0;

  /** run-input's onHost: the first traced host is the report's; its counters are sampled. */
  readonly onHost = (host: Host): void => {
    if (this.hostName !== null && this.hostName !== host.name) {
      this.others.push(host.name);
      return;
    }
    this.hostName = host.name;
    this.hooks = host.hooks;
    this.sampler = new StatsSampler(host.nf.stats);
  };

  emit(e: TraceEvent): void {
    if (e.host !== this.hostName) return;
    this.sampler?.at(e.time);
    switch (e.kind) {
      case 'receive':
        this.settleQuiet(e.time);
        this.start(e.skb, e.time, e.dev, e.pkt);
        return;
      case 'output':
        this.start(e.skb, e.time, null, e.pkt);
        return;
      case 'hook':
        this.hook(e);
        return;
      case 'route': {
        const p = this.packet(e.skb, e.time);
        p.record.route = e.result === 'drop' ? `drop: ${e.reason ?? ''}` : `${e.result === 'local' ? 'local delivery' : 'forward'}${e.dev ? ` via ${e.dev}` : ''}`;
        p.record.local = e.result === 'local';
        p.record.routeAt = p.record.ops.length;
        return;
      }
      case 'transmit': {
        const p = this.packet(e.skb, e.time);
        p.record.outDev = e.dev;
        p.record.outPkt = e.pkt;
        this.end(e.skb, p);
        return;
      }
      case 'drop': {
        const p = this.packet(e.skb, e.time);
        p.record.drop = e.counter ? `${e.reason} (${e.counter})` : e.reason;
        this.end(e.skb, p);
        return;
      }
      case 'unhandled':
        return;
      case 'conntrack':
        this.conntrack(e.time, e.event, e.entry);
        return;
    }
  }

  /** The page's data once the run is over (flows still active settle with it). */
  finish(input: string, endTime: number): ReportData {
    for (const [skb, p] of this.inFlight) this.end(skb, p);
    for (const flow of [...this.active]) this.settle(flow);
    this.live.clear();
    this.sampler?.finish(endTime);
    const s = this.selection;
    const drawn = new Set([...s.failed.slice(0, LIMITS.failedDrawn), ...s.top]);
    const sampled = s.sample.filter((f) => !drawn.has(f));
    const shownEntries = [...drawn, ...sampled].filter((f) => f.created !== null).length;
    const flows = this.nextIndex - 1;
    return {
      input,
      host: this.hostName ?? '',
      otherHosts: this.others,
      endTime,
      totals: { flows, packets: this.packets, failed: s.failedCount, entries: this.entries },
      hooks: this.hookOps(),
      topFlows: s.top,
      failedFlows: s.failed,
      sampledFlows: sampled,
      stats: this.sampler?.series ?? { fields: [], times: [], values: [] },
      leftOut: {
        flows: flows - drawn.size,
        packets: this.packets - [...drawn].reduce((n, f) => n + f.kept.length, 0),
        failedUnlisted: s.failedCount - s.failed.length,
        failedUndrawn: Math.max(0, s.failed.length - LIMITS.failedDrawn),
        entries: this.entries - shownEntries,
      },
    };
  }

  private hookOps(): HookOpInfo[] {
    const hooks = this.hooks;
    if (hooks === null) return [];
    return HOOKS.flatMap((hook) => hooks.opsAt(hook).map((op) => ({ hook, priority: op.priority, op: op.name })));
  }

  private start(skb: number, time: number, dev: string | null, pkt: PacketView): void {
    const p = this.packet(skb, time);
    p.record.inDev = dev;
    p.record.inPkt = pkt;
  }

  /** The packet `skb` in flight, begun if this is its first event. */
  private packet(skb: number, time: number): InFlight {
    let p = this.inFlight.get(skb);
    if (p !== undefined) return p;
    p = { record: newRecord(skb, time), flow: null, firstSeen: null };
    this.inFlight.set(skb, p);
    if (this.inFlight.size > IN_FLIGHT) {
      const [oldest, q] = this.inFlight.entries().next().value!;
      this.end(oldest, q);
    }
    return p;
  }

  private hook(e: Extract<TraceEvent, { kind: 'hook' }>): void {
    const p = this.packet(e.skb, e.time);
    p.firstSeen ??= e.before;
    if (p.flow === null && e.ct !== null) this.join(p, e.ct.orig, direction(e.ct));
    const ctChanged = e.ct !== null && (e.ctBefore === null || e.ctBefore.id !== e.ct.id || e.ctBefore.tcpState !== e.ct.tcpState || !sameTuple(e.ctBefore.reply, e.ct.reply));
    const changed = !samePacket(e.before, e.after);
    const drop = e.drop?.reason ?? null;
    const plain = !changed && !ctChanged && e.rule === null && e.notes.length === 0 && drop === null;
    const step: OpStep = plain
      ? this.plainStep(e)
      : {
          hook: e.hook,
          priority: e.priority,
          op: e.op,
          verdict: e.verdict,
          changed: changed ? { before: e.before, after: e.after } : null,
          ct: ctChanged ? e.ct : null,
          rule: e.rule,
          notes: e.notes.length === 0 ? NO_NOTES : e.notes,
          drop,
        };
    p.record.ops.push(step);
    if (e.verdict === Verdict.Stolen) p.record.stolen = true;
    if (e.verdict === Verdict.Drop) p.record.drop ??= e.drop?.reason ?? `${e.op}: NF_DROP`;
  }

  /**
   * The step of an op that changed nothing and recorded nothing: the last one made for its
   * hook and op (made again when the priority or verdict differs), shared by every packet it
   * passed (steps are read-only). Most of a kept packet's steps are such, and a kept packet
   * lives until its flow settles, so an object per step was copied by the young generation's
   * collections for each of the first 16 packets of every flow.
   */
  private plainStep(e: Extract<TraceEvent, { kind: 'hook' }>): OpStep {
    const byOp = this.plainSteps[e.hook]!;
    const known = byOp.get(e.op);
    if (known !== undefined && known.priority === e.priority && known.verdict === e.verdict) return known;
    const step: OpStep = { hook: e.hook, priority: e.priority, op: e.op, verdict: e.verdict, changed: null, ct: null, rule: null, notes: NO_NOTES, drop: null };
    byOp.set(e.op, step);
    return step;
  }

  /** The packet belongs to the flow of `orig` (a new one when none is live). */
  private join(p: InFlight, orig: TupleView, dir: Direction): void {
    const key = tupleKey(orig);
    const flow = this.live.get(key) ?? this.newFlow(key, orig, p.record.time);
    p.flow = flow;
    p.record.direction = dir;
    this.packets++;
    flow.packets++;
    flow.bytes += (p.record.inPkt ?? p.firstSeen)?.length ?? 0;
    flow.last = p.record.time;
    this.active.delete(flow);
    this.active.add(flow);
    if (this.active.size > ACTIVE) this.settle(this.active.values().next().value!);
    if (flow.kept.length < LIMITS.packetsPerFlow) {
      flow.kept.push(p.record);
      p.record.kept = true;
    }
  }

  private newFlow(key: string, orig: TupleView, time: number): FlowRecord {
    const flow: FlowRecord = { index: this.nextIndex++, key, proto: orig.proto, orig, reply: null, first: time, last: time, packets: 0, bytes: 0, drops: 0, dropReasons: new Map(), clashes: 0, created: null, destroyed: null, states: [], status: 0, kept: [] };
    this.live.set(key, flow);
    return flow;
  }

  /** Offered to the selection; its packets go unless the page draws them. */
  private settle(flow: FlowRecord): void {
    this.active.delete(flow);
    if (!this.selection.offer(flow)) flow.kept.length = 0;
    // with no entry there is nothing more to wait for
    if (flow.created === null && this.live.get(flow.key) === flow) this.live.delete(flow.key);
  }

  private settleQuiet(now: number): void {
    for (const flow of this.active) {
      if (now - flow.last < QUIET_NS) return;
      this.settle(flow);
    }
  }

  /** The packet's journey through the node is over: its flow learns how it ended. */
  private end(skb: number, p: InFlight): void {
    this.inFlight.delete(skb);
    if (p.flow === null) {
      // no conntrack entry: the flow is the packet's addresses and ports, the first packet's way round
      const pkt = p.record.inPkt ?? p.firstSeen;
      if (pkt === null) return;
      const t = packetTuple(pkt);
      const back = reverse(t);
      if (!this.live.has(tupleKey(t)) && this.live.has(tupleKey(back))) this.join(p, back, 'reply');
      else this.join(p, t, 'original');
    }
    const flow = p.flow!;
    if (p.record.drop === null) return;
    flow.drops++;
    const reason = p.record.drop;
    flow.dropReasons.set(reason, (flow.dropReasons.get(reason) ?? 0) + 1);
    if (isClash(reason)) flow.clashes++;
    if (!p.record.kept && flow.kept.length < LIMITS.packetsPerFlow + LIMITS.dropsPerFlow) {
      flow.kept.push(p.record);
      p.record.kept = true;
    }
    // a settled flow that now failed is offered again
    if (!this.active.has(flow) && !this.selection.offer(flow)) flow.kept.length = 0;
  }

  private conntrack(time: number, event: 'NEW' | 'UPDATE' | 'DESTROY', entry: CtEntryView): void {
    const key = tupleKey(entry.orig);
    let flow = this.live.get(key);
    if (flow === undefined) {
      if (event !== 'NEW') return;
      flow = this.newFlow(key, entry.orig, time);
    }
    flow.reply = entry.reply;
    flow.status = entry.status;
    if (event === 'NEW' && flow.created === null) {
      flow.created = time;
      this.entries++;
    }
    const state = entryState(entry, flow);
    if (event !== 'DESTROY' && flow.states.at(-1)?.state !== state && flow.states.length < LIMITS.stateChanges) flow.states.push({ time, state });
    if (event === 'DESTROY') {
      flow.destroyed = time;
      this.live.delete(key);
    }
    if (this.active.has(flow) && (event === 'DESTROY' || CLOSING.has(state))) this.settle(flow);
  }
}

function newRecord(skb: number, time: number): PacketRecord {
  return { skb, time, direction: 'original', inDev: null, inPkt: null, ops: [], route: null, routeAt: 0, outDev: null, outPkt: null, drop: null, stolen: false, local: false, kept: false };
}

function direction(ct: CtView): Direction {
  return ct.ctinfo >= CtInfo.EstablishedReply && ct.ctinfo <= CtInfo.RelatedReply ? 'reply' : 'original';
}

/**
 * The flows map's key of a tuple: its numbers as 16-bit code units (an address in three: an
 * IPv6 handle is 2^32 and more), not as decimal text, which cost a number-to-string conversion
 * for each of the five fields at every packet.
 */
export function tupleKey(t: TupleView): string {
  const { src, dst } = t;
  return String.fromCharCode(t.proto, Math.floor(src / 2 ** 32), src >>> 16, src & 0xffff, t.srcU, Math.floor(dst / 2 ** 32), dst >>> 16, dst & 0xffff, t.dstU);
}

function packetTuple(p: PacketView): TupleView {
  return { src: p.saddr, srcU: p.sport, dst: p.daddr, dstU: p.dport, proto: p.proto };
}

function reverse(t: TupleView): TupleView {
  return { src: t.dst, srcU: t.dstU, dst: t.src, dstU: t.srcU, proto: t.proto };
}

/**
 * The state the timeline colours: the TCP tracker's (an event without protoinfo keeps the last
 * one), else whether a reply was seen and the entry assured (IPS_SEEN_REPLY, IPS_ASSURED).
 */
function entryState(entry: CtEntryView, flow: FlowRecord): string {
  if (entry.tcpState !== null) return entry.tcpState;
  if (entry.orig.proto === 6) return flow.states.at(-1)?.state ?? 'SYN_SENT';
  if (entry.status & Status.Assured) return 'ASSURED';
  return entry.status & Status.SeenReply ? 'REPLIED' : 'UNREPLIED';
}
