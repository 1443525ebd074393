/**
 * fib_lookup's choice (the local table, then main; within a table the longest prefix, then
 * the lowest metric, then the route added first) against a plain scan of every route, for
 * random tables, small ones scanned and larger ones (past 16 routes) looked up by prefix.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Fib, TABLE_LOCAL, TABLE_MAIN, type Route } from '../../src/host/fib.js';
import { Scope } from '../../src/host/device.js';
import { inPrefix } from '../../src/packet/ipv4-addr.js';

/** Addresses from a few /24s, so that prefixes overlap and lookups hit. */
const addr = fc.tuple(fc.constantFrom(0x0a000000, 0x0a000100, 0xc0a80000, 0xcb007100), fc.integer({ min: 0, max: 255 })).map(([net, host]) => (net | host) >>> 0);

const route = fc.record({
  table: fc.constantFrom(TABLE_LOCAL, TABLE_MAIN),
  dst: addr,
  prefixLen: fc.constantFrom(0, 8, 16, 23, 24, 25, 32),
  metric: fc.integer({ min: 0, max: 3 }),
});

function scan(routes: readonly Route[], daddr: number): Route | null {
  for (const table of [TABLE_LOCAL, TABLE_MAIN]) {
    let best: Route | null = null;
    for (const r of routes) {
      if (r.table !== table || !inPrefix(daddr, r.dst, r.prefixLen)) continue;
      if (!best || r.prefixLen > best.prefixLen || (r.prefixLen === best.prefixLen && r.metric < best.metric)) best = r;
    }
    if (best) return best;
  }
  return null;
}

describe('Fib.lookup', () => {
  it('finds the route a scan of every route by fib_lookup’s preference finds', () => {
    fc.assert(
      fc.property(fc.array(route, { maxLength: 25 }), fc.array(addr, { minLength: 1, maxLength: 10 }), (specs, lookups) => {
        const fib = new Fib();
        const routes: Route[] = specs.map((s) => ({ ...s, type: 'unicast', dev: null, gateway: 0, prefsrc: 0, scope: Scope.Universe }));
        for (const r of routes) fib.add(r);
        for (const daddr of lookups) expect(fib.lookup(daddr)).toBe(scan(routes, daddr));
      }),
      { numRuns: 300 },
    );
  });

  it('finds the same in tables large enough to be looked up by prefix', () => {
    fc.assert(
      // 34 routes or more: one of the two tables holds more than 16
      fc.property(fc.array(route, { minLength: 34, maxLength: 60 }), fc.array(addr, { minLength: 1, maxLength: 10 }), (specs, lookups) => {
        const fib = new Fib();
        const routes: Route[] = specs.map((s) => ({ ...s, type: 'unicast', dev: null, gateway: 0, prefsrc: 0, scope: Scope.Universe }));
        for (const r of routes) fib.add(r);
        for (const daddr of lookups) expect(fib.lookup(daddr)).toBe(scan(routes, daddr));
      }),
      { numRuns: 200 },
    );
  });

  it('answers as the scan does when routes are added between lookups (each add empties its memo)', () => {
    fc.assert(
      fc.property(fc.array(route, { minLength: 1, maxLength: 12 }), fc.array(addr, { minLength: 1, maxLength: 6 }), (specs, lookups) => {
        const fib = new Fib();
        const added: Route[] = [];
        for (const s of specs) {
          const r: Route = { ...s, type: 'unicast', dev: null, gateway: 0, prefsrc: 0, scope: Scope.Universe };
          fib.add(r);
          added.push(r);
          // twice each: the second answer comes from the memo
          for (const daddr of [...lookups, ...lookups]) expect(fib.lookup(daddr)).toBe(scan(added, daddr));
        }
      }),
      { numRuns: 300 },
    );
  });
});
