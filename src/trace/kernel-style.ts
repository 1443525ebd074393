/**
 * The `kernel` trace style (design.md §5), after the seed 追踪一个数据包的SNAT流程: one NF-CORE
 * line per hook op, the conntrack line after the conntrack op and after any op that changed the
 * entry, and the packet line whenever an op rewrote it. The kernel log lines of LOG and TRACE
 * rules come before their op's NF-CORE line, as in dmesg; the nf_tables trace after it, as the
 * monitor tool prints it, with the op's notes.
 */
import { HOOK_KERNEL_NAME, Verdict, VERDICT_KERNEL_NAME } from '../netfilter/constants.js';
import { formatInetAddr } from '../packet/inet-addr.js';
import { isIpv6 } from '../packet/ipv6-addr.js';
import type { BridgeStep, CtView, TraceEvent, TraceSink } from './events.js';
import { samePacket, sameTuple } from './events.js';
import { ctinfoName, dmesgPrefix, l3Text, packetLine, pfName, protoName, skbAddress, tupleText } from './format-common.js';
import type { Palette } from './palette.js';
import { conntrackEventText } from '../report/conntrack-list.js';
import { nfLogLine } from '../netfilter/log/nf-log-syslog.js';
import { traceToolLines } from './trace-tools.js';
import type { TraceCounters } from './nft-rule-listing.js';
import type { LineSink } from './sinks.js';
import { flatText } from './flat-text.js';

type HookEvent = Extract<TraceEvent, { kind: 'hook' }>;

/** The kernel style's sink: each event's lines straight to `out`, in order. */
export class KernelStyle implements TraceSink {
  private readonly nfCore: NfCoreTexts;

  constructor(
    private readonly out: LineSink,
    private readonly c: Palette,
    private readonly multiHost: boolean,
    private readonly counters: TraceCounters,
  ) {
    this.nfCore = new NfCoreTexts(c);
  }

  emit(e: TraceEvent): void {
    const ts = dmesgPrefix(e.time, this.multiHost ? e.host : null);
    if (e.kind === 'hook') this.hook(ts, e);
    else this.out.line(ts + this.eventText(e));
  }

  /** The line of an event other than a hook op's (those have one each). */
  private eventText(e: Exclude<TraceEvent, HookEvent>): string {
    const { c } = this;
    switch (e.kind) {
      case 'receive':
        return c.dim(`${e.dev} in: `) + packetLine(e.pkt);
      case 'transmit':
        return c.dim(`${e.dev} out: `) + packetLine(e.pkt);
      case 'output':
        return c.dim('local out: ') + packetLine(e.pkt) + c.dim(` (the node's own packet, from the capture${e.note ? `: ${e.note}` : ''})`);
      case 'route':
        if (e.result === 'drop') return c.bad(`routing: drop: ${e.reason}`);
        return `routing: ${e.result === 'local' ? 'local delivery (LOCAL_IN)' : 'forward (FORWARD)'}, outdev : ${e.dev ?? '-'}, nexthop ${formatInetAddr(e.nexthop)}`;
      case 'drop':
        return c.bad(`drop: ${e.reason}${e.counter ? ` (conntrack counter ${e.counter})` : ''}`);
      case 'unhandled':
        return c.dim(`${e.dev}: not handled: ${e.reason}`);
      case 'neighbour':
        return `neigh: ${formatInetAddr(e.nexthop)} on ${e.dev} not resolved: the packet waits in its arp_queue (__neigh_event_send)`;
      case 'conntrack':
        return c.ct(`conntrack event: ${conntrackEventText(e.event, e.entry)}`);
      case 'bridge':
        return (e.step.step === 'drop' || e.step.step === 'no-hairpin' ? c.bad : c.dim)(`bridge ${e.bridge}: ${bridgeStepText(e.step)}`);
    }
  }

  private hook(ts: string, e: HookEvent): void {
    const { out, c } = this;
    // the LOG and TRACE lines were printed while the op ran, before it returned its verdict
    // indexed loops: a for-of over an op's lists, mostly empty, made an iterator object for each
    for (let i = 0; i < e.logs.length; i++) out.line(ts + nfLogLine(e.logs[i]!));
    const nfCore = this.nfCore.of(e);
    out.line(ts + nfCore.head + skbAddress(e.skb) + nfCore.tail);
    for (let i = 0; i < e.nftTrace.length; i++) for (const line of traceToolLines(e.nftTrace[i]!, this.counters)) out.line(ts + c.dim(`  ${line}`));
    for (let i = 0; i < e.notes.length; i++) out.line(ts + c.dim(`  ${e.notes[i]}`));
    if (e.ct && (nfCore.conntrackOp || ctChanged(e.ctBefore, e.ct))) out.line(ts + c.ct(ctLine(e.ct)));
    if (!samePacket(e.before, e.after)) out.line(ts + c.changed(packetLine(e.after)));
  }
}

/**
 * An op's NF-CORE line around the skb address, which alone changes from packet to packet:
 * "NF-CORE: pf = AF_INET, hook = NF_INET_PRE_ROUTING, elem->pri = -200 verdict = NF_ACCEPT skb "
 * and " (ipv4_conntrack_in)".
 */
interface NfCoreText {
  readonly hook: number;
  readonly priority: number;
  readonly verdict: Verdict;
  readonly ipv6: boolean;
  readonly head: string;
  readonly tail: string;
  /** conntrack's own op (ipv4_conntrack_in, ipv4_conntrack_local, …): the entry is shown after it. */
  readonly conntrackOp: boolean;
}

/**
 * The NfCoreTexts met so far, by op name: a host has a few dozen ops, each seen with a verdict or
 * two, while a trace has an NF-CORE line for every op a packet passes.
 */
class NfCoreTexts {
  private readonly byOp = new Map<string, NfCoreText[]>();

  constructor(private readonly c: Palette) {}

  of(e: HookEvent): NfCoreText {
    const ipv6 = isIpv6(e.before.saddr);
    let texts = this.byOp.get(e.op);
    if (texts === undefined) this.byOp.set(e.op, (texts = []));
    for (const t of texts) if (t.hook === e.hook && t.priority === e.priority && t.verdict === e.verdict && t.ipv6 === ipv6) return t;
    const t = this.make(e);
    texts.push(t);
    return t;
  }

  private make(e: HookEvent): NfCoreText {
    const { c } = this;
    const verdict = VERDICT_KERNEL_NAME[e.verdict]!;
    const pf = pfName(e.before.saddr);
    return {
      hook: e.hook,
      priority: e.priority,
      verdict: e.verdict,
      ipv6: isIpv6(e.before.saddr),
      head: flatText(`NF-CORE: pf = ${pf}, hook = ${HOOK_KERNEL_NAME[e.hook]}, elem->pri = ${e.priority} verdict = ${e.verdict === Verdict.Accept ? verdict : c.bad(verdict)} skb `),
      tail: flatText(c.dim(` (${e.op})`)),
      conntrackOp: e.op.includes('conntrack_in') || e.op.includes('conntrack_local'),
    };
  }
}

/** A bridge step in words, named after the kernel function that takes it. */
export function bridgeStepText(s: BridgeStep): string {
  switch (s.step) {
    case 'frame':
      return `br_handle_frame on ${s.port}: ${s.source} > ${s.dest}`;
    case 'learn':
      return `br_fdb_update: ${s.mac} ${s.moved ? 'moved to' : 'learned on'} ${s.port}`;
    case 'forward':
      return `br_forward to ${s.port}${s.hairpin ? ' (hairpin: the port it came in by)' : ''}`;
    case 'flood':
      return `br_flood (${s.why}) to ${s.ports.length > 0 ? s.ports.join(', ') : 'no port'}`;
    case 'local':
      return 'br_pass_frame_up: for this host';
    case 'no-hairpin':
      return `should_deliver: not back out ${s.port} (hairpin mode off)`;
    case 'brnf':
      return `${s.fn}: IPv4 ${BRNF_HOOK[s.fn]} with the bridge as ${s.fn === 'br_nf_pre_routing' ? 'in' : s.fn === 'br_nf_forward_ip' ? 'in and out' : 'out'}, PHYSIN=${s.physin ?? ''}${s.physout === null ? '' : ` PHYSOUT=${s.physout}`}`;
    case 'bridged-dnat':
      return `br_nf_pre_routing_finish: DNATed to a neighbour on this bridge, bridged to it${s.neighbour === 'connected' ? '' : ' through neigh->output (the neighbour is not NUD_CONNECTED)'}`;
    case 'dnat-routed':
      return 'br_nf_pre_routing_finish: DNATed to a routed destination, up the stack to be routed';
    case 'drop':
      return `drop: ${s.reason}`;
  }
}

const BRNF_HOOK = { br_nf_pre_routing: 'PRE_ROUTING', br_nf_forward_ip: 'FORWARD', br_nf_post_routing: 'POST_ROUTING' } as const;

/**
 * The seed's conntrack line: "ctinfo:NEW L3:ipv4[2],L4:icmp:[1] dir:0,src=…,dst=… dir:1,src=…,dst=…",
 * with the TCP tracker's state appended for TCP (natsim's addition).
 */
export function ctLine(ct: CtView): string {
  const state = ct.tcpState === null ? '' : ` state:${ct.tcpState}`;
  return `ctinfo:${ctinfoName(ct.ctinfo)} L3:${l3Text(ct.orig.src)},L4:${protoName(ct.orig.proto)}:[${ct.orig.proto}] dir:0,${tupleText(ct.orig)} dir:1,${tupleText(ct.reply)}${state}`;
}

function ctChanged(a: CtView | null, b: CtView): boolean {
  if (!a || a.id !== b.id || a.tcpState !== b.tcpState) return true;
  return !sameTuple(a.reply, b.reply) || !sameTuple(a.orig, b.orig);
}
