/**
 * The conntrack table over the flat tuple storage (conntrack/tuplehash.ts, table.ts): under any
 * churn of inserts, reply-only inserts, removals and releases, with records reused and the slab
 * growing, the table finds exactly what a plain map of tuples holds, in the right direction;
 * a released entry keeps its tuples while its record serves another.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Conn, Status } from '../../src/netfilter/conntrack/conn.js';
import { ConntrackTable } from '../../src/netfilter/conntrack/table.js';
import { Dir, Tuple } from '../../src/netfilter/conntrack/tuple.js';
import { NO_NODE, nodeDir } from '../../src/netfilter/conntrack/tuplehash.js';
import { parseIpv6 } from '../../src/packet/ipv6-addr.js';

const V6 = parseIpv6('fd00::1')!;
/** Host `n` of 10.0.0.0/24 or of fd00::/64 (interned, as the table hashes an IPv6 handle's address). */
const host = (ipv6: boolean, n: number) => (ipv6 ? parseIpv6(`fd00::${n.toString(16)}`)! : 0x0a000000 + n);

/** Entry k's tuples: IPv4 or IPv6, TCP or UDP, few distinct values so that buckets are shared. */
function tuples(k: number): [Tuple, Tuple] {
  const ipv6 = k % 3 === 0;
  const proto = k % 2 === 0 ? 6 : 17;
  const [client, server, wan] = [host(ipv6, 1 + (k % 5)), host(ipv6, 100), host(ipv6, 200)];
  return [new Tuple(client, 1000 + k, server, 80, proto), new Tuple(server, 80, wan, 2000 + k, proto)];
}

const key = (t: Tuple) => `${t.src}/${t.srcU}/${t.dst}/${t.dstU}/${t.proto}`;

const op = fc.oneof(
  fc.record({ kind: fc.constantFrom('insert' as const, 'reply-only' as const), k: fc.nat({ max: 60 }) }),
  fc.record({ kind: fc.constant('remove' as const), k: fc.nat({ max: 60 }) }),
);

describe('the conntrack table in flat storage', () => {
  it('finds what a map of the live tuples holds, whatever the churn', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.constantFrom(1, 4, 64), (ops, buckets) => {
        const table = new ConntrackTable(buckets, 7);
        const live = new Map<number, Conn>();
        const released: [Conn, Tuple, Tuple][] = [];
        const model = new Map<string, [Conn, Dir]>();
        let id = 0;
        for (const o of ops) {
          const held = live.get(o.k);
          if (o.kind === 'remove') {
            if (!held) continue;
            table.remove(held);
            held.release();
            released.push([held, ...tuples(o.k)]);
            live.delete(o.k);
            for (const t of tuples(o.k)) model.delete(key(t));
            continue;
          }
          if (held) continue;
          const [orig, reply] = tuples(o.k);
          const ct = new Conn(table.records, ++id, orig, reply);
          live.set(o.k, ct);
          if (o.kind === 'insert') {
            table.insert(ct);
            model.set(key(orig), [ct, Dir.Original]);
          } else {
            ct.status |= Status.NatClash; // as nf_ct_resolve_clash_harder marks it
            table.insertReplyOnly(ct);
          }
          model.set(key(reply), [ct, Dir.Reply]);
        }
        expect(table.count).toBe(live.size);
        for (let k = 0; k <= 60; k++) {
          for (const t of tuples(k)) {
            const node = table.find(t);
            const want = model.get(key(t));
            expect(node === NO_NODE ? null : [table.conn(node), nodeDir(node)]).toEqual(want ?? null);
          }
        }
        // every released entry still reads its own tuples, though its record was reused
        for (const [ct, orig, reply] of released) {
          expect([ct.row, key(ct.tuple(Dir.Original)), key(ct.tuple(Dir.Reply))]).toEqual([-1, key(orig), key(reply)]);
        }
        expect(new Set([...table.connections()])).toEqual(new Set(live.values()));
        for (const ct of live.values()) {
          table.remove(ct);
          ct.release();
        }
        expect(table.count).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps an IPv6 entry apart from an IPv4 one with the same low address bits', () => {
    const table = new ConntrackTable(1, 7);
    const peer = host(true, 2);
    const v6 = new Conn(table.records, 1, new Tuple(V6, 1, peer, 2, 6), new Tuple(peer, 2, V6, 1, 6));
    table.insert(v6);
    const low = (a: number) => (a % 2 ** 32) >>> 0;
    expect(table.find(new Tuple(low(V6), 1, low(peer), 2, 6))).toBe(NO_NODE);
    expect(table.conn(table.find(new Tuple(V6, 1, peer, 2, 6)))).toBe(v6);
    expect([v6.isIpv6, v6.src(Dir.Original), v6.dstU(Dir.Reply)]).toEqual([true, V6, 1]);
    table.remove(v6);
    v6.release();
  });

  it("keeps each table's records apart: one table's entry cannot go into another, and a new table starts empty", () => {
    const full = new ConntrackTable(64, 7);
    for (let k = 0; k < 5000; k++) full.insert(new Conn(full.records, k + 1, new Tuple(0x0a000001, k, 0x0a000002, 80, 6), new Tuple(0x0a000002, 80, 0x0a000001, k, 6)));
    const fresh = new ConntrackTable(64, 7);
    // the records of a table that is done with go with it, not into the next table's storage
    expect([full.records.capacity >= 5000, fresh.records.capacity]).toEqual([true, 1024]);
    const stray = new Conn(full.records, 9999, new Tuple(0x0a000003, 1, 0x0a000002, 80, 6), new Tuple(0x0a000002, 80, 0x0a000003, 1, 6));
    expect(() => fresh.insert(stray)).toThrow(/another namespace's table/);
  });
});
