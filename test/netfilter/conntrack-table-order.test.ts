/**
 * The order a dump lists the table in (ctnetlink_dump_table): bucket by bucket, newest first
 * within a bucket (hlist_nulls_add_head_rcu), each entry once by its original tuple; the
 * buckets follow from the boot's hash key.
 */
import { describe, expect, it } from 'vitest';
import { Conn } from '../../src/netfilter/conntrack/conn.js';
import { ConntrackTable } from '../../src/netfilter/conntrack/table.js';
import { hashTuple, invertTuple, Tuple } from '../../src/netfilter/conntrack/tuple.js';
import { reciprocalScale } from '../../src/netfilter/nat/jhash.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';

/** An entry of `table` (its records are in the table's slab). */
function conn(table: ConntrackTable, id: number, sport: number): Conn {
  const orig = new Tuple(parseIpv4('10.0.3.1')!, sport, parseIpv4('192.168.206.1')!, 80, 6);
  return new Conn(table.records, id, orig, invertTuple(orig)!);
}

describe('conntrack table dump order', () => {
  it('one bucket: newest first, each entry once', () => {
    const table = new ConntrackTable(1, 7);
    const conns = [conn(table, 1, 40001), conn(table, 2, 40002), conn(table, 3, 40003)];
    for (const c of conns) table.insert(c);
    expect([...table.connections()].map((c) => c.id)).toEqual([3, 2, 1]);
  });

  it('many buckets: by the bucket of the original tuple under the key', () => {
    for (const key of [1, 2, 3]) {
      const table = new ConntrackTable(262144, key);
      for (let i = 0; i < 20; i++) table.insert(conn(table, i + 1, 40000 + i));
      const bucket = (c: Conn): number => reciprocalScale(hashTuple(key, c.tuple(0)), 262144);
      const listed = [...table.connections()];
      expect(listed).toHaveLength(20);
      expect(listed.map(bucket)).toEqual([...listed.map(bucket)].sort((a, b) => a - b));
    }
  });

  it('another key, another order (the kernel draws its key at boot)', () => {
    const order = (key: number): number[] => {
      const table = new ConntrackTable(262144, key);
      for (let i = 0; i < 5; i++) table.insert(conn(table, i + 1, 43001 + i));
      return [...table.connections()].map((c) => c.id);
    };
    expect(new Set([1, 2, 3, 4, 5, 6, 7, 8].map((k) => order(k).join())).size).toBeGreaterThan(4);
  });
});
