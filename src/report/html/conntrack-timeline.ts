/**
 * View 3a: the conntrack table over time — each entry a bar from its [NEW] to its [DESTROY]
 * (or the end of the run), coloured by its state as the events reported it, with the packets
 * that died in an insert clash or were dropped marked on its row. A flow whose entry was never
 * confirmed (a clash's loser) has marks and no bar. A table after the chart says the same.
 */
import { count, esc, seconds } from './markup.js';
import { isClash, type FlowRecord } from './model.js';
import { flowTitle } from './flows.js';

const LABEL_W = 330;
const CHART_W = 640;
const ROW_H = 16;
const TOP = 24;
const TICKS = 5;

/** The states the legend explains, in the order a connection goes through them. */
export const STATE_ORDER = ['SYN_SENT', 'SYN_SENT2', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'UNREPLIED', 'REPLIED', 'ASSURED'] as const;

export function conntrackTimeline(flows: readonly FlowRecord[], drawn: ReadonlySet<FlowRecord>, endTime: number, totalEntries: number): string {
  const rows = [...flows].sort((a, b) => a.first - b.first || a.index - b.index);
  const span = Math.max(endTime, 1);
  const x = (t: number): number => LABEL_W + (Math.min(t, span) / span) * CHART_W;
  const height = TOP + rows.length * ROW_H + 8;
  const ticks = Array.from({ length: TICKS + 1 }, (_, i) => (span * i) / TICKS)
    .map((t) => `<line x1="${x(t)}" y1="${TOP - 6}" x2="${x(t)}" y2="${height}" class="tick"/><text x="${x(t)}" y="${TOP - 10}" class="tl">${tickText(t, span)}</text>`)
    .join('');
  const bars = rows.map((f, i) => row(f, drawn.has(f), TOP + i * ROW_H, x, endTime)).join('');
  const shown = rows.filter((f) => f.created !== null).length;
  return `<section id="conntrack" aria-labelledby="conntrack-h">
<h2 id="conntrack-h">The conntrack table over time</h2>
<p>${count(shown)} of ${count(totalEntries)} entries: those of the flows drawn above and a uniform sample of the others. Bars run from the entry's [NEW] to its [DESTROY]; ▲ a packet dropped in an insert clash, ✕ another drop.</p>
${legend()}
<svg class="timeline" viewBox="0 0 ${LABEL_W + CHART_W + 40} ${height}" width="${LABEL_W + CHART_W + 40}" height="${height}" role="img" aria-label="${esc(`timeline of ${rows.length} conntrack entries and flows over ${seconds(endTime)}; the table that follows lists the same`)}">
${ticks}${bars}</svg>
<details><summary>The timeline as a table</summary>${table(rows, drawn)}</details>
</section>`;
}

function row(f: FlowRecord, linked: boolean, y: number, x: (t: number) => number, endTime: number): string {
  const text = `<text x="4" y="${y + 11}" class="rl">${esc(`${f.index}: ${flowTitle(f)}`)}</text>`;
  const label = linked ? `<a href="#flow-${f.index}">${text}</a>` : text;
  let body = '';
  if (f.created !== null) {
    const until = f.destroyed ?? endTime;
    f.states.forEach((s, i) => {
      const to = f.states[i + 1]?.time ?? until;
      body += `<rect x="${x(s.time)}" y="${y + 2}" width="${Math.max(1, x(to) - x(s.time))}" height="${ROW_H - 4}" class="st-${s.state}"><title>${esc(`${s.state} from ${seconds(s.time)} to ${seconds(to)}`)}</title></rect>`;
    });
  }
  for (const p of f.kept) {
    if (p.drop === null) continue;
    body += `<text x="${x(p.time)}" y="${y + 12}" class="${isClash(p.drop) ? 'mark clash' : 'mark drop'}">${isClash(p.drop) ? '▲' : '✕'}<title>${esc(`${seconds(p.time)}: ${p.drop}`)}</title></text>`;
  }
  return `<g class="entry">${label}${body}</g>`;
}

/** A tick's time in the unit the run's length calls for: µs, ms or s. */
function tickText(t: number, span: number): string {
  if (span < 1e6) return `${(t / 1e3).toFixed(1)} µs`;
  if (span < 1e9) return `${(t / 1e6).toFixed(2)} ms`;
  return `${(t / 1e9).toFixed(span < 1e10 ? 3 : 1)} s`;
}

function legend(): string {
  return `<ul class="legend" aria-label="state colours">${STATE_ORDER.map((s) => `<li><span class="sw st-${s}" aria-hidden="true"></span>${s}</li>`).join('')}</ul>`;
}

function table(rows: readonly FlowRecord[], drawn: ReadonlySet<FlowRecord>): string {
  const body = rows
    .map((f) => {
      const marks = f.kept.filter((p) => p.drop !== null).map((p) => `${isClash(p.drop!) ? 'clash' : 'drop'} at ${seconds(p.time)}`);
      return `<tr><td>${drawn.has(f) ? `<a href="#flow-${f.index}">${f.index}</a>` : f.index}</td><td><code>${esc(flowTitle(f))}</code></td><td>${f.created === null ? 'never' : seconds(f.created)}</td><td>${f.destroyed === null ? (f.created === null ? '—' : 'still there') : seconds(f.destroyed)}</td><td>${esc(f.states.map((s) => `${s.state} (${seconds(s.time)})`).join(' → ') || '—')}</td><td>${esc(marks.join(', ') || '—')}</td></tr>`;
    })
    .join('');
  return `<table class="listed"><thead><tr><th scope="col">flow</th><th scope="col">original tuple</th><th scope="col">created</th><th scope="col">destroyed</th><th scope="col">states</th><th scope="col">drops</th></tr></thead><tbody>${body}</tbody></table>`;
}
