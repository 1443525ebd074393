/**
 * Per-CPU conntrack statistics (struct ip_conntrack_stat) as `conntrack -S` prints them: the
 * counters of every kernel natsim has a profile for; each kernel has and prints its own list
 * (KernelProfile.stats), in ctnetlink's order.
 */

export const STAT_NAMES = [
  'found',
  'invalid',
  'ignore',
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
  private readonly cpus: CpuStats[];

  constructor(
    cpuCount: number,
    /** The counters this kernel has, in the order conntrack -S prints them. */
    readonly fields: readonly StatName[],
  ) {
    this.cpus = Array.from({ length: cpuCount }, () => zeroStats());
  }

  /** NF_CT_STAT_INC on the CPU the packet is processed on. */
  inc(cpu: number, name: StatName, by = 1): void {
    if (!this.fields.includes(name)) throw new Error(`bug: this kernel has no conntrack counter '${name}'`);
    this.cpus[cpu]![name] += by;
  }

  /** One CPU's counters, only those this kernel has, in its order. */
  row(cpu: number): Partial<CpuStats> {
    return Object.fromEntries(this.fields.map((n) => [n, this.cpus[cpu]![n]]));
  }

  rows(): Partial<CpuStats>[] {
    return this.cpus.map((_, cpu) => this.row(cpu));
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
