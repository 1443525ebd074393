/**
 * View 4: `natsim explain`'s findings at the top of the page, each linking to the packets it
 * is about. The explain work provides a FindingsSource: what it adds to the report's replay
 * (its fate probe, through run-input's options) and its findings once the run is over. Without
 * one the section is left out.
 */
import type { RunOptions, RunResult } from '../../cli/run-input.js';
import { formatInetAddr } from '../../packet/inet-addr.js';
import { endText } from '../../explain/flow-tuple.js';
import { protoName } from '../../trace/format-common.js';
import { count, esc, seconds } from './markup.js';
import { LIMITS, type FlowRecord, type PacketRecord } from './model.js';

/** A flow as explain names it (explain/finding.ts FlowTuple): dotted addresses, ICMP's id as `sport`. */
export interface FindingFlow {
  readonly proto: string;
  readonly src: string;
  readonly sport: number | null;
  readonly dst: string;
  readonly dport: number | null;
}

/** A packet a finding is about: its flow and its virtual time (ns; explain's Moment.time × 1e9). */
export interface FindingPacket {
  readonly flow: FindingFlow;
  readonly time: number;
}

export interface ReportFinding {
  readonly severity: 'problem' | 'warning' | 'note';
  /** One line: what went wrong. */
  readonly title: string;
  /** Why, and what to change. */
  readonly detail: string;
  readonly packets: readonly FindingPacket[];
}

/** What the report needs from explain: options for the replay (its probe), then what it found. */
export interface FindingsSource {
  readonly runOptions: Partial<RunOptions>;
  findings(result: RunResult): readonly ReportFinding[];
}

/** A finding's time and the page's: explain's seconds lose less than a microsecond. */
const SAME_TIME_NS = 1000;

export function findingsSection(findings: readonly ReportFinding[] | null, drawn: readonly FlowRecord[]): string {
  if (findings === null) return '';
  const items = findings
    .slice(0, LIMITS.findings)
    .map((f) => {
      const links = f.packets.map((p) => packetLink(p, drawn));
      return `<li class="finding ${f.severity}"><strong>${esc(f.severity)}: ${esc(f.title)}</strong><p>${esc(f.detail)}</p>${links.length ? `<p>Packets: ${links.join(', ')}</p>` : ''}</li>`;
    })
    .join('');
  return `<section id="findings" aria-labelledby="findings-h">
<h2 id="findings-h">Findings</h2>
${findings.length === 0 ? '<p>explain found nothing wrong.</p>' : `<ol class="findings">${items}</ol>`}
${findings.length > LIMITS.findings ? `<p>And ${count(findings.length - LIMITS.findings)} more findings, left out here: <code>natsim explain</code> lists them all.</p>` : ''}
</section>`;
}

/** The drawn packet (or else the drawn flow) a finding names; plain text when neither is drawn. */
function packetLink(p: FindingPacket, drawn: readonly FlowRecord[]): string {
  const text = `${p.flow.proto} ${endText(p.flow.src, p.flow.sport)} → ${endText(p.flow.dst, p.flow.dport)} at ${seconds(p.time)}`;
  const flow = drawn.find((f) => sameFlow(f, p.flow));
  if (flow === undefined) return `${esc(text)} (not drawn)`;
  const packet: PacketRecord | undefined = flow.kept.find((k) => Math.abs(k.time - p.time) < SAME_TIME_NS);
  if (packet === undefined) return `<a href="#flow-${flow.index}">${esc(text)}</a>`;
  return `<a href="#pkt-${packet.skb}" data-pkt="${packet.skb}">${esc(text)}</a>`;
}

function sameFlow(f: FlowRecord, t: FindingFlow): boolean {
  const o = f.orig;
  return protoName(o.proto) === t.proto && formatInetAddr(o.src) === t.src && formatInetAddr(o.dst) === t.dst && (t.sport === null || o.srcU === t.sport) && (t.dport === null || o.dstU === t.dport);
}
