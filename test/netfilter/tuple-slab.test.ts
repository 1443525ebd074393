/**
 * The conntrack table over the flat entry storage (conntrack/conn-record.ts, tuplehash.ts,
 * table.ts): under any churn of inserts, reply-only inserts, removals, releases and changes of
 * an entry's scalar state, with records reused and the slab growing, the table finds exactly what
 * a plain map of tuples holds, in the right direction; every entry reads back the state last given
 * it, and a released entry keeps its tuples and state while its record serves another.
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

/** The scalar state an entry keeps in its record, as the Conn accessors give it back. */
interface Scalars {
  status: number;
  refs: number;
  timeout: number;
  expirySlot: number;
  mark: number;
  masqIndex: number;
  udpStreamTs: number;
}
const scalars = fc.record({
  status: fc.integer({ min: 0, max: (1 << 14) - 1 }),
  refs: fc.nat({ max: 8 }),
  // virtual ns past 2^32 and fractions of one (a float64, not two int32 words)
  timeout: fc.double({ min: 0, max: 2 ** 62, noNaN: true }),
  expirySlot: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
  mark: fc.nat({ max: 2 ** 32 - 1 }),
  masqIndex: fc.nat({ max: 1 << 16 }),
  udpStreamTs: fc.double({ min: 0, max: 2 ** 62, noNaN: true }),
});
const scalarsOf = (ct: Conn): Scalars => ({ status: ct.status, refs: ct.refs, timeout: ct.timeout, expirySlot: ct.expirySlot, mark: ct.mark, masqIndex: ct.masqIndex, udpStreamTs: ct.udpStreamTs });

const op = fc.oneof(
  fc.record({ kind: fc.constantFrom('insert' as const, 'reply-only' as const), k: fc.nat({ max: 60 }) }),
  fc.record({ kind: fc.constant('remove' as const), k: fc.nat({ max: 60 }) }),
  fc.record({ kind: fc.constant('set' as const), k: fc.nat({ max: 60 }), to: scalars }),
);

describe('the conntrack table in flat storage', () => {
  it('finds what a map of the live tuples holds, whatever the churn', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.constantFrom(1, 4, 64), (ops, buckets) => {
        const table = new ConntrackTable(buckets, 7);
        const live = new Map<number, Conn>();
        const released: [Conn, Tuple, Tuple][] = [];
        const model = new Map<string, [Conn, Dir]>();
        const state = new Map<Conn, Scalars>();
        let id = 0;
        for (const o of ops) {
          const held = live.get(o.k);
          if (o.kind === 'set') {
            if (!held) continue;
            // any state, but a reply-only entry stays one (connections() lists it by NAT_CLASH)
            Object.assign(held, { ...o.to, status: (o.to.status & ~Status.NatClash) | (held.status & Status.NatClash) });
            state.set(held, { ...o.to, status: held.status });
            continue;
          }
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
          // a new entry's state: nothing set but its one use, and on no expiry slot
          expect([ct.id, scalarsOf(ct)]).toEqual([id, { status: 0, refs: 1, timeout: 0, expirySlot: -1, mark: 0, masqIndex: 0, udpStreamTs: 0 }]);
          live.set(o.k, ct);
          if (o.kind === 'insert') {
            table.insert(ct);
            model.set(key(orig), [ct, Dir.Original]);
          } else {
            ct.status |= Status.NatClash; // as nf_ct_resolve_clash_harder marks it
            table.insertReplyOnly(ct);
          }
          state.set(ct, scalarsOf(ct));
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
        // every released entry still reads its own tuples and state, though its record was reused
        for (const [ct, orig, reply] of released) {
          expect([ct.row, key(ct.tuple(Dir.Original)), key(ct.tuple(Dir.Reply)), scalarsOf(ct)]).toEqual([-1, key(orig), key(reply), state.get(ct)]);
        }
        for (const ct of live.values()) expect(scalarsOf(ct)).toEqual(state.get(ct));
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
