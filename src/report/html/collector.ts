/**
 * Builds the report's data from the trace events of one host as the replay emits them, in
 * memory bounded by what the page shows: a live flow per conntrack entry (the kernel holds
 * those too), the first packets of each flow, and the finished flows FlowSelection keeps.
 */
import { CtInfo, Status } from '../../netfilter/conntrack/conn.js';
import { Hook, Verdict } from '../../netfilter/constants.js';
import type { HookTable } from '../../netfilter/hooks.js';
import type { Host } from '../../host/host.js';
import { samePacket, sameTuple, type CtView, type CtEntryView, type PacketView, type TraceEvent, type TraceSink, type TupleView } from '../../trace/events.js';
import { FlowSelection } from './flow-selection.js';
import { isClash, LIMITS, type Direction, type FlowRecord, type HookOpInfo, type OpStep, type PacketRecord, type ReportData } from './model.js';
import { StatsSampler } from './stats-sampler.js';

/** Packets in flight at once (an ICMP error made while its cause is in the hooks, a fragment held). */
const IN_FLIGHT = 256;
/** Events between two sweeps for flows that never got an entry (a clash's loser, an untracked host). */
const SWEEP_EVERY = 4096;
/** A flow without a confirmed entry ends when it has been quiet this long (virtual ns). */
const IDLE_NS = 120e9;

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
  private hooks: HookTable | null = null;
  private sampler: StatsSampler | null = null;
  private readonly inFlight = new Map<number, InFlight>();
  private readonly live = new Map<string, FlowRecord>();
  private readonly selection = new FlowSelection();
  private nextIndex = 1;
  private events = 0;

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
    if (++this.events % SWEEP_EVERY === 0) this.sweep(e.time);
    switch (e.kind) {
      case 'receive':
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

  /** The page's data once the run is over (flows still live end with it). */
  finish(input: string, endTime: number): ReportData {
    for (const [skb, p] of this.inFlight) this.end(skb, p);
    for (const flow of this.live.values()) this.selection.add(flow);
    this.live.clear();
    this.sampler?.finish(endTime);
    const s = this.selection;
    const drawn = new Set([...s.top, ...s.failed.slice(0, LIMITS.failedDrawn)]);
    const sampled = s.sample.filter((f) => !drawn.has(f));
    const shownEntries = [...drawn, ...sampled].filter((f) => f.created !== null).length;
    return {
      input,
      host: this.hostName ?? '',
      otherHosts: this.others,
      endTime,
      totals: { flows: s.flows, packets: s.packets, failed: s.failedCount, entries: s.entries },
      hooks: this.hookOps(),
      topFlows: s.top,
      failedFlows: s.failed,
      sampledFlows: sampled,
      stats: this.sampler?.series ?? { fields: [], times: [], values: [] },
      leftOut: {
        flows: s.flows - drawn.size,
        packets: s.packets - [...drawn].reduce((n, f) => n + f.kept.length, 0),
        failedUnlisted: s.failedCount - s.failed.length,
        failedUndrawn: Math.max(0, s.failed.length - LIMITS.failedDrawn),
        entries: s.entries - shownEntries,
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
    const step: OpStep = {
      hook: e.hook,
      priority: e.priority,
      op: e.op,
      verdict: e.verdict,
      changed: samePacket(e.before, e.after) ? null : { before: e.before, after: e.after },
      ct: ctChanged ? { orig: e.ct!.orig, reply: e.ct!.reply, state: e.ct!.tcpState } : null,
      rule: e.rule,
      notes: e.notes,
      drop: e.drop?.reason ?? null,
    };
    p.record.ops.push(step);
    if (e.verdict === Verdict.Stolen) p.record.stolen = true;
    if (e.verdict === Verdict.Drop) p.record.drop ??= e.drop?.reason ?? `${e.op}: NF_DROP`;
  }

  /** The packet belongs to the flow of `orig` (a new one when none is live). */
  private join(p: InFlight, orig: TupleView, dir: Direction): void {
    const key = tupleKey(orig);
    let flow = this.live.get(key);
    if (flow === undefined) {
      flow = newFlow(this.nextIndex++, key, orig, p.record.time);
      this.live.set(key, flow);
    }
    p.flow = flow;
    p.record.direction = dir;
    flow.packets++;
    flow.bytes += (p.record.inPkt ?? p.firstSeen)?.length ?? 0;
    flow.last = p.record.time;
    if (flow.kept.length < LIMITS.packetsPerFlow) {
      flow.kept.push(p.record);
      p.record.kept = true;
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
  }

  private conntrack(time: number, event: 'NEW' | 'UPDATE' | 'DESTROY', entry: CtEntryView): void {
    const key = tupleKey(entry.orig);
    let flow = this.live.get(key);
    if (flow === undefined) {
      if (event !== 'NEW') return;
      flow = newFlow(this.nextIndex++, key, entry.orig, time);
      this.live.set(key, flow);
    }
    flow.reply = entry.reply;
    flow.status = entry.status;
    if (event === 'NEW') flow.created ??= time;
    const state = entryState(entry, flow);
    if (event !== 'DESTROY' && flow.states.at(-1)?.state !== state && flow.states.length < LIMITS.stateChanges) flow.states.push({ time, state });
    if (event !== 'DESTROY') return;
    flow.destroyed = time;
    this.live.delete(key);
    this.selection.add(flow);
  }

  /** Flows that never had a confirmed entry end once they have been quiet for IDLE_NS. */
  private sweep(now: number): void {
    for (const [key, flow] of this.live) {
      if (flow.created !== null || now - flow.last < IDLE_NS) continue;
      this.live.delete(key);
      this.selection.add(flow);
    }
  }
}

function newRecord(skb: number, time: number): PacketRecord {
  return { skb, time, direction: 'original', inDev: null, inPkt: null, ops: [], route: null, outDev: null, outPkt: null, drop: null, stolen: false, local: false, kept: false };
}

function newFlow(index: number, key: string, orig: TupleView, time: number): FlowRecord {
  return { index, key, proto: orig.proto, orig, reply: null, first: time, last: time, packets: 0, bytes: 0, drops: 0, dropReasons: new Map(), clashes: 0, created: null, destroyed: null, states: [], status: 0, kept: [] };
}

function direction(ct: CtView): Direction {
  return ct.ctinfo >= CtInfo.EstablishedReply && ct.ctinfo <= CtInfo.RelatedReply ? 'reply' : 'original';
}

function tupleKey(t: TupleView): string {
  return `${t.proto} ${t.src}:${t.srcU} ${t.dst}:${t.dstU}`;
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
