/**
 * The short answer at the end of a run (design.md §6): what went wrong, if anything, in the
 * terms users ask about — the conntrack counters that moved, what the applications saw
 * (connected, refused, timed out), and the hosts' socket counters as nstat names them.
 */
import type { RunResult } from '../cli/run-input.js';

export function diagnosis(result: RunResult): string[] {
  const lines: string[] = [];
  for (const host of result.hosts) {
    const total = host.nf.stats.total();
    const moved = host.nf.stats.fields.filter((n) => total[n] > 0).map((n) => `${n}=${total[n]}`);
    if (moved.length > 0) lines.push(`natsim: ${host.name}: conntrack counters: ${moved.join(' ')}`);
    if (total.insert_failed > 0) lines.push(`natsim: ${host.name}: ${total.insert_failed} packet(s) dropped at confirm: the NAT mapping clashed with an existing connection (insert_failed); a wider SNAT port range, more addresses or --random-fully give each flow its own tuple`);
  }
  if (result.world) {
    for (const e of result.world.appEvents) lines.push(`natsim: ${e.host}: ${(e.time / 1e9).toFixed(6)} s: ${e.text}`);
    for (const [name, sockets] of result.world.sockets) {
      const moved = sockets.mib.nonZero();
      if (moved.length > 0) lines.push(`natsim: ${name}: nstat: ${moved.map(([n, v]) => `${n} ${v}`).join(', ')}`);
    }
  }
  if (result.replay) {
    const skipped = [...result.replay.skipped].map(([reason, n]) => `${n} ${reason}`);
    lines.push(`natsim: replayed ${result.replay.records} records; natsim sent ${result.replay.sentCount} packets, the capture shows ${result.replay.recordedCount} sent${skipped.length ? `; not fed: ${skipped.join(', ')}` : ''}`);
  }
  return lines;
}
