/**
 * View 4: `natsim explain`'s findings at the top of the page, each linking to the packets it
 * is about. The explain work provides a FindingsSource (a sink that watches the same replay as
 * the report, and the findings once the run is over); without one the section is left out.
 */
import type { RunResult } from '../../cli/run-input.js';
import type { TraceSink } from '../../trace/events.js';
import { esc, seconds } from './markup.js';

/** A packet a finding is about: its skb number on the reported host (TraceEvent.skb) and time. */
export interface FindingPacket {
  readonly skb: number;
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

/** What the report needs from explain: watch the replay, then say what it found. */
export interface FindingsSource {
  readonly sink: TraceSink;
  findings(result: RunResult): readonly ReportFinding[];
}

/** `drawn`: the packets the page draws (the others are named, not linked). */
export function findingsSection(findings: readonly ReportFinding[] | null, drawn: ReadonlySet<number>): string {
  if (findings === null) return '';
  const items = findings
    .map((f) => {
      const links = f.packets.map((p) => (drawn.has(p.skb) ? `<a href="#pkt-${p.skb}" data-pkt="${p.skb}">packet ${p.skb} at ${seconds(p.time)}</a>` : `packet ${p.skb} at ${seconds(p.time)} (not drawn)`));
      return `<li class="finding ${f.severity}"><strong>${esc(f.severity)}: ${esc(f.title)}</strong><p>${esc(f.detail)}</p>${links.length ? `<p>Packets: ${links.join(', ')}</p>` : ''}</li>`;
    })
    .join('');
  return `<section id="findings" aria-labelledby="findings-h">
<h2 id="findings-h">Findings</h2>
${findings.length === 0 ? '<p>explain found nothing wrong.</p>' : `<ol class="findings">${items}</ol>`}
</section>`;
}
