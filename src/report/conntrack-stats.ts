/**
 * `conntrack -S` output: one line per CPU, "cpu=N" padded to 8 then a tab, then name=value
 * pairs each followed by a space (conntrack-tools' format, as the kernel recordings show), for
 * the counters the kernel reports (ctnetlink_ct_stat_cpu_fill_info of its version).
 */
import type { ConntrackStats } from '../netfilter/conntrack/stats.js';

export function conntrackDashS(stats: ConntrackStats): string[] {
  return stats.rows().map((row, cpu) => `${`cpu=${cpu}`.padEnd(8)}\t${Object.entries(row).map(([n, v]) => `${n}=${v} `).join('')}`);
}
