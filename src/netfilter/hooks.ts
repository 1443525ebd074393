/**
 * Hook registration and traversal (nf_register_net_hook, nf_hook_slow): each hook holds ops
 * sorted by priority; a packet runs through them until one returns something other than
 * ACCEPT. Among equal priorities the op registered last runs first, as nf_hook_entries_grow
 * inserts it before the first op of equal or higher priority.
 */
import { Hook, Verdict } from './constants.js';
import type { NetDevice } from '../host/device.js';
import type { Skb } from './skb.js';
import { ctAsViewed, packetAsViewed, viewCt, viewPacket, type CtView, type NatBinding, type RuleRef, type TraceSink } from '../trace/events.js';
import type { NfLogEntry } from './log/nf-log.js';
import type { NftTraceEvent } from './rules/nft-trace.js';

/** What an op may record for the trace while it runs (null when nobody traces). */
export interface OpTrace {
  readonly notes: string[];
  /** Kernel log lines (LOG, TRACE) the op printed, in order. */
  readonly logs: NfLogEntry[];
  /** nf_tables trace events the op sent (nft_trace_notify), in order. */
  readonly nftTrace: NftTraceEvent[];
  nat: NatBinding | null;
  /** The rule that decided the op's verdict or bound its NAT. */
  rule: RuleRef | null;
}

export interface HookState {
  readonly hook: Hook;
  readonly in: NetDevice | null;
  readonly out: NetDevice | null;
  readonly trace: OpTrace | null;
  /** Shorthand for trace?.notes. */
  readonly notes: string[] | null;
}

/** An op of one family's hook table: where it hooks in, and the kernel function it models. */
export interface HookOp {
  readonly hook: Hook;
  readonly priority: number;
  /** The kernel function it models, for traces (e.g. "ipv4_conntrack_in"). */
  readonly name: string;
}

/**
 * How a table runs one of its ops (nf_hook_entry_hookfn). One function for every op of the
 * table, which tells the ops apart by what they are: the loop of nf_hook_slow then has a single
 * call target, and each kind of op is a direct call inside it, rather than one call site that
 * sees every op's closure (megamorphic, so never inlined).
 */
export type HookOpRunner<S extends Skb, O extends HookOp> = (op: O, skb: S, state: HookState) => Verdict;

/** How many untraced states a table keeps (a power of two): far more than a host's (hook, in, out) pairs in use. */
const STATE_SLOTS = 64;

/** One family's hook table (nf_hooks_ipv4, nf_hooks_ipv6); S: the skbs of that family, O: its ops. */
export class HookTable<S extends Skb, O extends HookOp> {
  private readonly ops: O[][] = [[], [], [], [], []];
  /**
   * The untraced states met so far, read-only, so runs share them: direct-mapped by hook and
   * device indexes, so that every hook a packet passes finds its state in one probe (no hash
   * map); two pairs that share a slot only make a new state when they take turns.
   */
  private readonly states: (HookState | undefined)[] = Array.from({ length: STATE_SLOTS }, () => undefined);
  /**
   * The entry's view the last traced run ended with: a packet's next hook mostly finds its entry
   * as the last one left it, and the events share that view (they are read-only) instead of a
   * new one per hook.
   */
  private lastCt: CtView | null = null;

  constructor(private readonly runOp: HookOpRunner<S, O>) {}

  register(op: O): void {
    const list = this.ops[op.hook]!;
    const at = list.findIndex((o) => o.priority >= op.priority);
    list.splice(at < 0 ? list.length : at, 0, op);
  }

  opsAt(hook: Hook): readonly O[] {
    return this.ops[hook]!;
  }

  /**
   * nf_hook_slow: run the ops of `hook` in order. Returns ACCEPT when all accepted, else the
   * first other verdict. With a sink, every op becomes a trace event.
   */
  run(hook: Hook, skb: S, inDev: NetDevice | null, outDev: NetDevice | null, host: string, sink: TraceSink | null): Verdict {
    if (sink) return this.runTraced(hook, skb, inDev, outDev, host, sink);
    const ops = this.ops[hook]!;
    // nf_hook: a hook nothing registered on passes the packet without building a state
    if (ops.length === 0) return Verdict.Accept;
    const state = this.untracedState(hook, inDev, outDev);
    const run = this.runOp;
    for (const op of ops) {
      const verdict = run(op, skb, state);
      if (verdict !== Verdict.Accept) {
        skb.verdictOp = op.name;
        return verdict;
      }
    }
    return Verdict.Accept;
  }

  /** The state of an untraced run (nf_hook_state_init): one object per (hook, in, out), as no op changes it. */
  private untracedState(hook: Hook, inDev: NetDevice | null, outDev: NetDevice | null): HookState {
    const slot = (hook + 5 * ((inDev?.index ?? 0) + 7 * (outDev?.index ?? 0))) & (STATE_SLOTS - 1);
    let state = this.states[slot];
    if (state === undefined || state.hook !== hook || state.in !== inDev || state.out !== outDev) {
      state = { hook, in: inDev, out: outDev, trace: null, notes: null };
      this.states[slot] = state;
    }
    return state;
  }

  /**
   * run() with every op as a trace event. An op's "after" views are new objects only when the
   * op changed the packet or its entry; otherwise the events share them (they are read-only).
   * Most ops record nothing for the trace: their OpTrace and state serve the next op, and their
   * events have the one empty list; an op that recorded something hands its lists to its event.
   */
  private runTraced(hook: Hook, skb: S, inDev: NetDevice | null, outDev: NetDevice | null, host: string, sink: TraceSink): Verdict {
    let pkt = viewPacket(skb.pkt);
    let ct = ctAsViewed(skb.ct, skb.ctinfo, this.lastCt) ? this.lastCt : viewCt(skb.ct, skb.ctinfo);
    let state = tracedState(hook, inDev, outDev);
    for (const op of this.ops[hook]!) {
      const trace = state.trace!;
      trace.nat = null;
      trace.rule = null;
      const before = pkt;
      const ctBefore = ct;
      const verdict = this.runOp(op, skb, state);
      if (!packetAsViewed(skb.pkt, pkt)) pkt = viewPacket(skb.pkt);
      if (!ctAsViewed(skb.ct, skb.ctinfo, ct)) ct = viewCt(skb.ct, skb.ctinfo);
      const recorded = trace.notes.length + trace.logs.length + trace.nftTrace.length > 0;
      sink.emit({
        kind: 'hook',
        time: skb.time,
        host,
        skb: skb.id,
        hook,
        priority: op.priority,
        op: op.name,
        verdict,
        ctBefore,
        ct,
        before,
        after: pkt,
        nat: trace.nat,
        rule: trace.rule,
        notes: recorded ? trace.notes : NONE,
        logs: recorded ? trace.logs : NONE,
        nftTrace: recorded ? trace.nftTrace : NONE,
        drop: verdict === Verdict.Drop ? skb.drop : null,
      });
      this.lastCt = ct;
      if (verdict !== Verdict.Accept) {
        skb.verdictOp = op.name;
        return verdict;
      }
      if (recorded) state = tracedState(hook, inDev, outDev);
    }
    return Verdict.Accept;
  }
}

/** The lists of an event whose op recorded nothing: one, shared (events are read-only). */
const NONE: readonly never[] = Object.freeze([]);

/** A traced op's state, with empty lists for what it records. */
function tracedState(hook: Hook, inDev: NetDevice | null, outDev: NetDevice | null): HookState {
  const trace: OpTrace = { notes: [], logs: [], nftTrace: [], nat: null, rule: null };
  return { hook, in: inDev, out: outDev, trace, notes: trace.notes };
}
