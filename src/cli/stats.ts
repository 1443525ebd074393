/**
 * `natsim stats INPUT`: replay without tracing, then `conntrack -S` style counters — exactly
 * conntrack's text with --plain, else with natsim's own packet counts (in, out, delivered to a
 * socket, dropped by reason) beside them.
 */
import Table from 'cli-table3';
import { conntrackDashS } from '../report/conntrack-stats.js';
import type { Output } from '../trace/output.js';
import { runInput, type RunOptions } from './run-input.js';
import { wantColor } from '../trace/palette.js';

export interface StatsOptions extends RunOptions {
  readonly plain: boolean;
  readonly json: boolean;
  /** false with --no-color; NO_COLOR and a non-terminal turn colour off too (wantColor). */
  readonly color: boolean;
}

/** cli-table3 colours its header red and its border grey unless told no colour at all. */
const NO_COLOR_STYLE = { head: [], border: [] };

export async function statsCommand(input: string, options: StatsOptions, out: Output): Promise<number> {
  const result = await runInput(input, options, () => null);
  for (const host of result.hosts) {
    const stats = host.nf.stats;
    const p = host.packets;
    if (options.json) {
      out.line(JSON.stringify({ host: host.name, cpus: stats.rows(), packets: { received: p.received, sent: p.sent, delivered: p.delivered, dropped: Object.fromEntries(p.dropped) } }));
    } else if (options.plain || !process.stdout.isTTY) {
      for (const line of conntrackDashS(stats)) out.line(line);
    } else {
      const table = new Table({ head: ['cpu', ...stats.fields], ...(wantColor(process.stdout, !options.color) ? {} : { style: NO_COLOR_STYLE }) });
      stats.rows().forEach((row, i) => table.push([i, ...Object.values(row)]));
      out.line(`${host.name}:`);
      out.line(table.toString());
      out.line(`packets: ${p.received} received, ${p.sent} sent, ${p.delivered} delivered locally`);
      for (const [why, n] of p.dropped) out.line(`dropped: ${n} × ${why}`);
    }
  }
  return 0;
}
