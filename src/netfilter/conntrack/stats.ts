/**
 * Per-CPU conntrack statistics (struct ip_conntrack_stat) as `conntrack -S` prints them on
 * Linux 6.x, in that order.
 */

export const STAT_NAMES = [
  'found',
  'invalid',
  'insert',
  'insert_failed',
  'drop',
  'early_drop',
  'error',
  'search_restart',
  'clash_resolve',
  'chaintoolong',
] as const;

export type StatName = (typeof STAT_NAMES)[number];
export type CpuStats = Record<StatName, number>;

export class ConntrackStats {
  readonly cpus: CpuStats[];

  constructor(cpuCount: number) {
    this.cpus = Array.from({ length: cpuCount }, () => zeroStats());
  }

  /** NF_CT_STAT_INC on the CPU the packet is processed on. */
  inc(cpu: number, name: StatName, by = 1): void {
    this.cpus[cpu]![name] += by;
  }

  /** Sum over CPUs. */
  total(): CpuStats {
    const sum = zeroStats();
    for (const c of this.cpus) for (const n of STAT_NAMES) sum[n] += c[n];
    return sum;
  }
}

function zeroStats(): CpuStats {
  return Object.fromEntries(STAT_NAMES.map((n) => [n, 0])) as CpuStats;
}
