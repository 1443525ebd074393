/**
 * View 3b: the `conntrack -S` counters (summed over CPUs) as a chart over the run — one line
 * per counter that moved — with the sampled values as a table for those who cannot see it.
 */
import { count, esc, seconds } from './markup.js';
import type { StatsSeries } from './model.js';

const W = 900;
const H = 260;
const PAD = { left: 60, right: 150, top: 14, bottom: 30 } as const;
/** Line colours, one per counter in order; every other line dashed, as counters often move together. */
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#000000'];

export function statsChart(series: StatsSeries): string {
  const last = series.values.at(-1) ?? [];
  const moved = series.fields.map((name, i) => ({ name, i })).filter(({ i }) => (last[i] ?? 0) > 0);
  const intro = `<p>Counters as <code>conntrack -S</code> prints them, summed over CPUs, at ${count(series.times.length)} points of the run${moved.length ? '' : '; none moved'}.</p>`;
  if (moved.length === 0) return section(intro + finalTable(series, last));
  const tEnd = Math.max(series.times.at(-1) ?? 1, 1);
  const vMax = Math.max(1, ...moved.map(({ i }) => last[i]!));
  const px = (t: number): number => PAD.left + (t / tEnd) * (W - PAD.left - PAD.right);
  const py = (v: number): number => H - PAD.bottom - (v / vMax) * (H - PAD.top - PAD.bottom);
  const lines = moved
    .map(({ name, i }, k) => {
      // a counter only moves at an event: steps, not slopes, between the samples
      const points = series.times.map((t, j) => `${j > 0 ? `${px(t).toFixed(1)},${py(series.values[j - 1]![i]!).toFixed(1)} ` : ''}${px(t).toFixed(1)},${py(series.values[j]![i]!).toFixed(1)}`).join(' ');
      const colour = COLOURS[k % COLOURS.length]!;
      return `<polyline points="${points}" fill="none" stroke="${colour}" stroke-width="2"${k % 2 === 1 ? ' stroke-dasharray="6 4"' : ''}><title>${esc(name)}</title></polyline><text x="${W - PAD.right + 8}" y="${PAD.top + 14 * k + 10}" fill="${colour}" class="key">${esc(`${name} = ${count(last[i]!)}`)}</text>`;
    })
    .join('');
  const axes = `<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" class="axis"/><line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}" class="axis"/>
<text x="${PAD.left - 6}" y="${py(vMax) + 4}" class="yl">${count(vMax)}</text><text x="${PAD.left - 6}" y="${H - PAD.bottom + 4}" class="yl">0</text>
<text x="${PAD.left}" y="${H - 8}" class="tl">0 s</text><text x="${W - PAD.right}" y="${H - 8}" class="tl">${esc(seconds(tEnd))}</text>`;
  const label = `chart of conntrack counters over ${seconds(tEnd)}: ${moved.map(({ name, i }) => `${name} reaches ${last[i]}`).join(', ')}`;
  return section(`${intro}
<svg class="stats" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(label)}">${axes}${lines}</svg>
${finalTable(series, last)}
<details><summary>Every sampled point as a table</summary>${pointsTable(series, moved.map((m) => m.i))}</details>`);
}

function section(body: string): string {
  return `<section id="stats" aria-labelledby="stats-h">
<h2 id="stats-h">conntrack -S counters over time</h2>
${body}
</section>`;
}

function finalTable(series: StatsSeries, last: readonly number[]): string {
  return `<table class="listed counters"><caption>When the run ended</caption><thead><tr>${series.fields.map((f) => `<th scope="col">${esc(f)}</th>`).join('')}</tr></thead><tbody><tr>${series.fields.map((f, i) => `<td data-counter="${esc(f)}">${count(last[i] ?? 0)}</td>`).join('')}</tr></tbody></table>`;
}

function pointsTable(series: StatsSeries, columns: readonly number[]): string {
  const head = `<tr><th scope="col">time</th>${columns.map((i) => `<th scope="col">${esc(series.fields[i]!)}</th>`).join('')}</tr>`;
  const rows = series.times.map((t, j) => `<tr><td>${seconds(t)}</td>${columns.map((i) => `<td>${count(series.values[j]![i]!)}</td>`).join('')}</tr>`).join('');
  return `<table class="listed"><thead>${head}</thead><tbody>${rows}</tbody></table>`;
}
