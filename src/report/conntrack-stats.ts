/**
 * `conntrack -S` output: one line per CPU, "cpu=N" padded to 8 then a tab, then name=value
 * pairs each followed by a space (conntrack-tools' format, as the kernel recordings show).
 */
import { STAT_NAMES, type ConntrackStats } from '../netfilter/conntrack/stats.js';

export function conntrackDashS(stats: ConntrackStats): string[] {
  return stats.cpus.map((c, cpu) => `${`cpu=${cpu}`.padEnd(8)}\t${STAT_NAMES.map((n) => `${n}=${c[n]} `).join('')}`);
}
