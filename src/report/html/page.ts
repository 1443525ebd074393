/**
 * The whole report page: one self-contained HTML file (style, data and script inline, nothing
 * fetched) with findings, the hook diagram and the selected packet's path, the flows with their
 * ladders, the conntrack timeline and the counters — and, first, what the page left out.
 */
import { conntrackTimeline } from './conntrack-timeline.js';
import { findingsSection, type ReportFinding } from './findings.js';
import { flowsSection } from './flows.js';
import { hookDiagram } from './hook-diagram.js';
import { count, esc, scriptJson, seconds } from './markup.js';
import { LIMITS, type FlowRecord, type ReportData } from './model.js';
import { clientPacket } from './packet-data.js';
import { pageScript } from './page-script.js';
import { statsChart } from './stats-chart.js';
import { styleSheet } from './style.js';

export function reportPage(data: ReportData, findings: readonly ReportFinding[] | null): string {
  const drawn = [...new Set([...data.failedFlows.slice(0, LIMITS.failedDrawn), ...data.topFlows])];
  const packets = Object.fromEntries(drawn.flatMap((f) => f.kept.map((p) => [String(p.skb), clientPacket(p, f)])));
  const drawnSet = new Set<FlowRecord>(drawn);
  const sections = [
    findingsSection(findings, drawn),
    hookDiagram(data.host, data.hooks),
    flowsSection(drawn, data.failedFlows.slice(LIMITS.failedDrawn), data.host),
    conntrackTimeline([...drawn, ...data.sampledFlows], drawnSet, data.endTime, data.totals.entries),
    statsChart(data.stats),
  ];
  const nav = [findings === null ? null : ['findings', 'Findings'], ['hooks', 'Hooks'], ['flows', 'Flows'], ['conntrack', 'Conntrack table'], ['stats', 'Counters']]
    .filter((x): x is string[] => x !== null)
    .map(([id, label]) => `<li><a href="#${id}">${label}</a></li>`)
    .join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>natsim report: ${esc(data.input)}</title>
<style>${styleSheet()}</style>
</head>
<body>
<header>
<h1>natsim report: ${esc(data.input)}</h1>
<p>Host <strong>${esc(data.host)}</strong>, ${seconds(data.endTime)} of virtual time: ${count(data.totals.packets)} packets in ${count(data.totals.flows)} flows, ${count(data.totals.failed)} failed, ${count(data.totals.entries)} conntrack entries.${data.otherHosts.length ? ` Also traced, not shown: ${esc(data.otherHosts.join(', '))} (natsim report --host NAME shows one).` : ''}</p>
${leftOut(data)}
<nav aria-label="sections"><ul>${nav}</ul></nav>
</header>
<main>
${sections.join('\n')}
</main>
<script type="application/json" id="packet-data">${scriptJson(packets)}</script>
<script>(${pageScript.toString()})(document);</script>
</body>
</html>
`;
}

function leftOut(data: ReportData): string {
  const l = data.leftOut;
  const parts: string[] = [];
  if (l.flows > 0) parts.push(`${count(l.flows)} of ${count(data.totals.flows)} flows are not drawn (drawn: every failed flow up to ${LIMITS.failedDrawn} and the ${LIMITS.topFlows} busiest others)`);
  if (l.failedUndrawn > 0) parts.push(`${count(l.failedUndrawn)} failed flows are listed without their packets`);
  if (l.failedUnlisted > 0) parts.push(`${count(l.failedUnlisted)} failed flows are only counted (${count(LIMITS.failedListed)} listed)`);
  if (l.packets > 0) parts.push(`${count(l.packets)} of ${count(data.totals.packets)} packets are only counted (each drawn flow shows its first ${LIMITS.packetsPerFlow} packets and up to ${LIMITS.dropsPerFlow} more that were dropped)`);
  if (l.entries > 0) parts.push(`${count(l.entries)} conntrack entries are not on the timeline (it shows the drawn flows' and a sample of ${LIMITS.sampledEntries} others)`);
  const text = parts.length === 0 ? 'Nothing was left out: every flow and packet of the run is on this page.' : `Left out to keep the page small: ${parts.join('; ')}.`;
  return `<p class="leftout" id="left-out">${esc(text)}</p>`;
}
