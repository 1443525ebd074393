/** diff's fate table (explain/fate.ts) and flow numbering (flow-index.ts): fates equal exactly when they are, and turned back into the same fate. */
import { describe, expect, it } from 'vitest';
import { FateTable } from '../../src/explain/fate.js';
import { columnsTuple, flowKey, TupleIndex } from '../../src/explain/flow-index.js';
import { IPPROTO } from '../../src/netfilter/constants.js';
import { Tuple } from '../../src/netfilter/conntrack/tuple.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { parseIpv6 } from '../../src/packet/ipv6-addr.js';

const tcp = (src: string, sport: number, dst: string, dport: number): Tuple => new Tuple(parseIpv4(src)!, sport, parseIpv4(dst)!, dport, IPPROTO.TCP);

/** A table of one row with this fate. */
function one(fate: 'forwarded' | 'local' | 'dropped', where: string, translated: Tuple | null, dropped: number): FateTable {
  const t = new FateTable();
  t.set(t.add(0, 0), fate, where, translated, dropped);
  return t;
}

describe('fate table', () => {
  it('a row turns into its fate, `where` kept whole (hook op names hold spaces)', () => {
    const t = one('dropped', 'FORWARD ip filter FORWARD', tcp('192.168.206.250', 50004, '192.168.206.1', 53), 3);
    t.setReason(0, 'rule');
    expect(t.fate(0)).toEqual({
      fate: 'dropped',
      where: 'FORWARD ip filter FORWARD',
      reason: 'rule',
      translated: { proto: 'tcp', src: '192.168.206.250', sport: 50004, dst: '192.168.206.1', dport: 53 },
      dropped: 3,
    });
    expect(one('forwarded', 'POSTROUTING', null, 0).fate(0)).toEqual({ fate: 'forwarded', where: 'POSTROUTING', reason: null, translated: null, dropped: 0 });
  });

  it('fates differ when any part of them does, also across tables (as the two runs of a diff are)', () => {
    const t = tcp('10.0.3.1', 41000, '192.168.206.1', 80);
    const base = one('forwarded', 'POSTROUTING', t, 0);
    const same = (o: FateTable): boolean => base.sameFate(0, o, 0);
    expect(same(one('forwarded', 'POSTROUTING', t.clone(), 0))).toBe(true);
    expect(same(one('local', 'POSTROUTING', t, 0))).toBe(false);
    expect(same(one('forwarded', 'INPUT', t, 0))).toBe(false);
    expect(same(one('forwarded', 'POSTROUTING', tcp('10.0.3.1', 41001, '192.168.206.1', 80), 0))).toBe(false);
    expect(same(one('forwarded', 'POSTROUTING', null, 0))).toBe(false);
    expect(same(one('forwarded', 'POSTROUTING', t, 1))).toBe(false);
    const failed = one('forwarded', 'POSTROUTING', t, 0);
    failed.setReason(0, 'timeout');
    expect(same(failed)).toBe(false);
    // the names are each table's own: one met in another order is the same name
    const other = new FateTable();
    other.set(other.add(0, 0), 'dropped', 'INPUT', null, 1);
    other.set(other.add(1, 0), 'forwarded', 'POSTROUTING', t, 0);
    expect(base.sameFate(0, other, 1)).toBe(true);
  });

  it('a row is set again in its place (a flow confirmed after its first packets were dropped), and survives the worker boundary', () => {
    const t = new FateTable();
    for (let i = 0; i < 3000; i++) t.set(t.add(i, i % 3), 'dropped', `FORWARD ${i % 7}`, null, 1);
    t.addDropped(5);
    t.set(7, 'forwarded', 'POSTROUTING', tcp('10.0.3.1', 41000, '192.168.206.1', 80), 0);
    const copy = new FateTable(structuredClone(t.columns()));
    expect(copy.rows).toBe(3000);
    expect([copy.tuple(2999), copy.life(2999)]).toEqual([2999, 2]);
    expect(copy.fate(5)).toMatchObject({ fate: 'dropped', where: 'FORWARD 5', dropped: 2 });
    expect(copy.fate(7)).toMatchObject({ fate: 'forwarded', where: 'POSTROUTING', dropped: 0, translated: { sport: 41000 } });
  });
});

describe('flow numbering', () => {
  it('a tuple keeps its number, and its life counts its entries that are gone', () => {
    const index = new TupleIndex();
    const a = tcp('172.17.0.3', 40002, '192.168.206.250', 8080);
    const id = index.idOf(a);
    expect(index.idOf(a.clone())).toBe(id);
    expect(index.idOf(tcp('172.17.0.3', 40003, '192.168.206.250', 8080))).not.toBe(id);
    expect(index.life(id)).toBe(0);
    index.died(id);
    expect(index.life(id)).toBe(1);
    expect(flowKey(id, 1)).not.toBe(flowKey(id, 0));
  });

  it('tuples of both families, by the thousand: each named by its number in the columns, and renumbered the same in another index', () => {
    const index = new TupleIndex();
    const v6 = [parseIpv6('2001:db8::1')!, parseIpv6('2001:db8::2')!];
    const tuples = Array.from({ length: 5000 }, (_, i) => (i % 2 ? new Tuple(v6[0]!, 1024 + i, v6[1]!, 443, IPPROTO.TCP) : new Tuple(0x0a000000 + i, 40000, 0xc0a8ce01, 53, IPPROTO.UDP)));
    const ids = tuples.map((t) => index.idOf(t));
    expect(new Set(ids).size).toBe(5000);
    const columns = index.columns();
    ids.forEach((id, i) => expect(columnsTuple(columns, id).equals(tuples[i]!)).toBe(true));
    const other = new TupleIndex();
    other.idOf(tuples[4999]!);
    const renumbered = other.numbering(columns);
    ids.forEach((id, i) => expect(other.idOf(tuples[i]!)).toBe(renumbered[id]));
    expect(other.size).toBe(5000);
  });
});
