/**
 * `natsim stats INPUT`: replay without tracing, then `conntrack -S` style counters — exactly
 * conntrack's text with --plain, else with natsim's own packet counts (in, out, delivered to a
 * socket, dropped by reason) beside them.
 */
import { conntrackDashS } from '../report/conntrack-stats.js';
import { statsTables } from '../report/stats-table.js';
import { wantColor } from '../trace/palette.js';
import type { LineStream } from './io.js';
import { runInput, type RunOptions } from './run-input.js';

export interface StatsOptions extends RunOptions {
  readonly plain: boolean;
  readonly json: boolean;
  /** false with --no-color; NO_COLOR and a non-terminal turn colour off too (wantColor). */
  readonly color: boolean;
}

/** A terminal's width when it does not say. */
const DEFAULT_COLUMNS = 80;

export async function statsCommand(input: string, options: StatsOptions, out: LineStream): Promise<number> {
  const result = await runInput(input, options, () => null);
  for (const host of result.hosts) {
    const stats = host.nf.stats;
    const p = host.packets;
    if (host.cpu.ownDraw) options.stderr.line(`natsim: ${host.name}: the per-CPU split is natsim's draw (not recorded)`);
    if (options.json) {
      out.line(JSON.stringify({ host: host.name, cpus: stats.rows(), packets: { received: p.received, sent: p.sent, delivered: p.delivered, dropped: Object.fromEntries(p.dropped) } }));
    } else if (options.plain || out.terminal === null) {
      for (const line of conntrackDashS(stats)) out.line(line);
    } else {
      out.line(`${host.name}:`);
      for (const table of statsTables(stats, out.terminal.columns ?? DEFAULT_COLUMNS, wantColor(out.terminal, !options.color))) out.line(table);
      out.line(`packets: ${p.received} received, ${p.sent} sent, ${p.delivered} delivered locally`);
      for (const [why, n] of p.dropped) out.line(`dropped: ${n} × ${why}`);
    }
  }
  return 0;
}
