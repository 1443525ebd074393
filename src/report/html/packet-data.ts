/**
 * Each drawn packet's path as the page script shows it (ClientPacket): where it came in, every
 * hook op it met — the packet before and after an op that rewrote it, the entry an op made or
 * changed, the rule that decided — routing, and how it ended. Texts are the trace's own
 * (packetLine, tupleText), so the page and `natsim trace` say the same thing.
 */
import { HOOK_KERNEL_NAME, VERDICT_KERNEL_NAME, Verdict, type Hook } from '../../netfilter/constants.js';
import { packetLine, tupleText } from '../../trace/format-common.js';
import type { RuleRef } from '../../trace/events.js';
import type { ClientPacket, ClientStep } from './page-script.js';
import type { FlowRecord, OpStep, PacketRecord } from './model.js';
import { fate, fateText } from './packet-fate.js';
import { seconds } from './markup.js';

/** "PRE_ROUTING" for NF_INET_PRE_ROUTING. */
export function hookName(hook: Hook): string {
  return HOOK_KERNEL_NAME[hook]!.replace('NF_INET_', '');
}

/** An op's key in the hook diagram (data-op). */
export function opKey(hook: Hook, priority: number, op: string): string {
  return `${hook}/${priority}/${op}`;
}

export function ruleText(rule: RuleRef): string {
  return `${rule.file}${rule.line === null ? '' : `:${rule.line}`}: ${rule.text}`;
}

export function clientPacket(p: PacketRecord, flow: FlowRecord): ClientPacket {
  const steps: ClientStep[] = [];
  const step = (kind: ClientStep['kind'], label: string, lines: string[], op: string | null = null, changed = false, bad = false): void => void steps.push({ kind, op, label, lines, changed, bad });
  step('in', p.inDev === null ? 'made by the node' : `${p.inDev} in`, p.inPkt ? [packetLine(p.inPkt)] : []);
  p.ops.forEach((o, i) => {
    if (i === p.routeAt && p.route !== null) step('route', 'routing decision', [p.route]);
    step('op', opLabel(o), opLines(o), opKey(o.hook, o.priority, o.op), o.changed !== null || o.ct !== null, o.verdict === Verdict.Drop);
  });
  if (p.routeAt >= p.ops.length && p.route !== null) step('route', 'routing decision', [p.route]);
  const end = fate(p);
  step(end.kind === 'sent' ? 'out' : 'end', fateText(end), p.outPkt ? [packetLine(p.outPkt)] : [], null, false, end.kind === 'dropped');
  return { title: `Packet ${p.skb} at ${seconds(p.time)}: flow ${flow.index}, ${p.direction} direction, ${fateText(end)}`, steps };
}

function opLabel(o: OpStep): string {
  return `${hookName(o.hook)} ${o.priority} ${o.op} → ${VERDICT_KERNEL_NAME[o.verdict]}`;
}

function opLines(o: OpStep): string[] {
  const lines: string[] = [];
  if (o.changed) lines.push(`before: ${packetLine(o.changed.before)}`, `after:  ${packetLine(o.changed.after)}`);
  if (o.ct) lines.push(`conntrack: original ${tupleText(o.ct.orig)} reply ${tupleText(o.ct.reply)}${o.ct.tcpState ? ` ${o.ct.tcpState}` : ''}`);
  const rule = o.rule ? `rule ${ruleText(o.rule)}` : null;
  if (rule) lines.push(rule);
  // the NAT core notes its rule too; said once
  for (const note of o.notes) if (note !== rule) lines.push(note);
  if (o.drop) lines.push(`drop: ${o.drop}`);
  return lines;
}
