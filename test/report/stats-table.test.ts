import { describe, expect, it } from 'vitest';
import { ConntrackStats } from '../../src/netfilter/conntrack/stats.js';
import { statsTables } from '../../src/report/stats-table.js';
import { DEFAULT_KERNEL } from '../../src/kernel/profile.js';

describe('natsim stats table', () => {
  it('a row per counter, a column per CPU, within the width, CPUs split over tables when many', () => {
    const stats = new ConntrackStats(16, DEFAULT_KERNEL.stats);
    stats.inc(15, 'insert_failed', 123456);
    const tables = statsTables(stats, 80, false);
    expect(tables.length).toBeGreaterThan(1);
    const lines = tables.join('\n').split('\n');
    expect(lines.every((l) => [...l].length <= 80)).toBe(true);
    expect(lines.join('\n')).not.toContain('\x1b');
    expect(lines.filter((l) => l.includes('cpu=15'))).toHaveLength(1);
    expect(lines.find((l) => l.includes('insert_failed') && l.includes('123456'))).toBeDefined();
  });

  it('colour when asked: cyan headings and grey borders, never red', () => {
    const [table] = statsTables(new ConntrackStats(2, DEFAULT_KERNEL.stats), 80, true);
    expect(table).toContain('\x1b[36m'); // cyan
    expect(table).toContain('\x1b[90m'); // grey
    expect(table).not.toContain('\x1b[31m'); // red
  });
});
