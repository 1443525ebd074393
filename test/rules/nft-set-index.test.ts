/**
 * The index of an nft set (rules/nft-set.ts SetIndex: exact keys, disjoint intervals, or a
 * walk): whatever is done to the elements — declared, added by a rule, replaced dead in place, deleted, flushed, collected
 * after they expired, a range among exact keys — a lookup finds what a walk over the elements in
 * order finds: the first live element holding the key, else the last live catch-all.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addElement, anonymousSet, collectExpired, findElement, flushElements, removeElementAt, replaceElement, setLookup, type NftSet, type SetElement } from '../../src/netfilter/rules/nft-set.js';

/** What findElement must return: the walk nft_set_hash and the catch-all lookup amount to. */
function walked(set: NftSet, regs: readonly (number | string)[], now: number, catchAll: boolean): SetElement | undefined {
  let star: SetElement | undefined;
  for (const e of set.elements) {
    const live = e.expiry === null || now < e.expiry.expiration;
    if (e.key.length === 0) {
      if (catchAll && live) star = e;
    } else if (live && e.key.every((f, i) => regs[i]! >= f.min && regs[i]! <= f.max)) return e;
  }
  return star;
}

const element = (key: readonly (readonly [number | string, number | string])[], expiration: number | null = null): SetElement => ({
  key: key.map(([min, max]) => ({ min, max })),
  verdict: null,
  data: null,
  expiry: expiration === null ? null : { timeout: 1, expiration },
});

/** One change to the set: the functions every writer of a set's elements goes through. */
type Op =
  | { readonly kind: 'add'; readonly a: number; readonly b: string; readonly dies: number | null }
  | { readonly kind: 'range'; readonly a: number; readonly to: number }
  | { readonly kind: 'star'; readonly dies: number | null }
  | { readonly kind: 'kill'; readonly at: number; readonly when: number }
  | { readonly kind: 'remove'; readonly at: number }
  | { readonly kind: 'flush' }
  | { readonly kind: 'gc'; readonly now: number }
  | { readonly kind: 'look'; readonly a: number; readonly b: string; readonly now: number };

const small = fc.integer({ min: 0, max: 30 });
const name = fc.constantFrom('eth0', 'eth1', 'wan');
const time = fc.integer({ min: 0, max: 10 });
// adds weigh most, so that sets grow past the size up to which they are walked
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('add' as const), a: small, b: name, dies: fc.option(time) }), weight: 6 },
  fc.record({ kind: fc.constant('range' as const), a: small, to: small }),
  fc.record({ kind: fc.constant('star' as const), dies: fc.option(time) }),
  fc.record({ kind: fc.constant('kill' as const), at: fc.nat(), when: time }),
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }),
  fc.constant({ kind: 'flush' as const }),
  fc.record({ kind: fc.constant('gc' as const), now: time }),
  fc.record({ kind: fc.constant('look' as const), a: small, b: name, now: time }),
);

/** Applies `o` to `set`; a lookup is checked against the walk. */
function apply(set: NftSet, o: Op): void {
  const n = set.elements.length;
  switch (o.kind) {
    case 'add':
      return addElement(set, element([[o.a, o.a], [o.b, o.b]], o.dies));
    case 'range':
      return addElement(set, element([[Math.min(o.a, o.to), Math.max(o.a, o.to)], ['eth', 'eth\uffff']]));
    case 'star':
      return addElement(set, element([], o.dies));
    case 'kill':
      if (n > 0) replaceElement(set, set.elements[o.at % n]!, { ...set.elements[o.at % n]!, expiry: { timeout: 1, expiration: o.when } });
      return;
    case 'remove':
      if (n > 0) removeElementAt(set, o.at % n);
      return;
    case 'flush':
      return flushElements(set);
    case 'gc':
      return collectExpired(set, o.now * 1e9);
    case 'look': {
      const regs = [o.a, o.b];
      expect(setLookup(set, regs, o.now)).toBe(walked(set, regs, o.now, true));
      expect(findElement(set, regs, o.now)).toBe(walked(set, regs, o.now, false));
    }
  }
}

describe('an nft set looked up by its exact-key index', () => {
  it('finds what a walk over the elements finds, after any changes', () => {
    fc.assert(
      // without a range half the time: a set with one is walked
      fc.property(fc.array(op, { minLength: 20, maxLength: 60 }), fc.boolean(), (ops, ranges) => {
        const set = anonymousSet(['inet_service', 'ifname'], false);
        for (const o of ops) if (ranges || o.kind !== 'range') apply(set, o);
        for (let a = 0; a <= 30; a++) for (const b of ['eth0', 'eth1', 'wan']) apply(set, { kind: 'look', a, b, now: 5 });
      }),
      { numRuns: 400 },
    );
  });

  /** An IPv6 address's register (nft-datatype.ts ipv6Register: 32 hex digits), in the order of `n`. */
  const register = (n: number): string => `20010db8${n.toString(16).padStart(24, '0')}`;

  it.each([
    ['numbers', (n: number): number | string => n],
    ['IPv6 registers', register],
  ])('a one-field set of %s, ranges among them (overlapping or not): finds what the walk finds', (_kind, encode) => {
    // ranges [4k, 4k + w]: disjoint but where one k comes twice, so both the search by halves and the walk are met
    const value = fc.integer({ min: 0, max: 805 });
    const change = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant('range' as const), k: fc.integer({ min: 0, max: 200 }), w: fc.integer({ min: 0, max: 3 }), dies: fc.option(time) }), weight: 8 },
      fc.record({ kind: fc.constant('star' as const), dies: fc.option(time) }),
      fc.record({ kind: fc.constant('kill' as const), at: fc.nat(), when: time }),
      fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('gc' as const), now: time }),
      fc.record({ kind: fc.constant('look' as const), v: value, now: time }),
    );
    fc.assert(
      fc.property(fc.array(change, { minLength: 20, maxLength: 60 }), (changes) => {
        const set = anonymousSet(['inet_service'], false);
        const look = (n: number, now: number): void => {
          const v = encode(n);
          expect(setLookup(set, [v], now)).toBe(walked(set, [v], now, true));
          expect(findElement(set, [v], now)).toBe(walked(set, [v], now, false));
        };
        for (const c of changes) {
          const n = set.elements.length;
          if (c.kind === 'range') addElement(set, element([[encode(4 * c.k), encode(4 * c.k + c.w)]], c.dies));
          else if (c.kind === 'star') addElement(set, element([], c.dies));
          else if (c.kind === 'kill' && n > 0) replaceElement(set, set.elements[c.at % n]!, { ...set.elements[c.at % n]!, expiry: { timeout: 1, expiration: c.when } });
          else if (c.kind === 'remove' && n > 0) removeElementAt(set, c.at % n);
          else if (c.kind === 'gc') collectExpired(set, c.now * 1e9);
          else if (c.kind === 'look') look(c.v, c.now);
        }
        for (let v = 0; v <= 805; v++) look(v, 5);
      }),
      { numRuns: 200 },
    );
  });

  it('an element added after a lookup is found at the next, in an exact set and in an interval set', () => {
    const exact = anonymousSet(['inet_service', 'ifname'], false);
    for (let i = 0; i < 10; i++) addElement(exact, element([[i, i], ['eth0', 'eth0']]));
    expect(findElement(exact, [3, 'eth0'], 0)).toBe(exact.elements[3]);
    addElement(exact, element([[20, 20], ['eth0', 'eth0']]));
    expect(findElement(exact, [20, 'eth0'], 0)).toBe(exact.elements[10]);
    const intervals = anonymousSet(['inet_service'], false);
    for (let i = 0; i < 10; i++) addElement(intervals, element([[10 * i, 10 * i + 5]]));
    expect(findElement(intervals, [33], 0)).toBe(intervals.elements[3]);
    addElement(intervals, element([[200, 210]]));
    expect(findElement(intervals, [205], 0)).toBe(intervals.elements[10]);
    expect(findElement(intervals, [206 - 100], 0)).toBeUndefined();
  });

  it('a set of 20,000 IPv6 /64 prefixes (registers) is searched by halves: each found, one outside not', () => {
    const set = anonymousSet(['ipv6_addr'], false);
    const prefix = (i: number, host: string): string => `20010db8${i.toString(16).padStart(8, '0')}${host}`;
    // added out of order (7,919 is prime to 20,000), as a list's prefixes come
    for (let i = 0; i < 20_000; i++) {
      const k = (i * 7_919) % 20_000;
      addElement(set, element([[prefix(2 * k, '0'.repeat(16)), prefix(2 * k, 'f'.repeat(16))]]));
    }
    expect(findElement(set, [prefix(2 * 12_345, '0000000000000001')], 0)?.key[0]!.min).toBe(prefix(2 * 12_345, '0'.repeat(16)));
    expect(findElement(set, [prefix(2 * 12_345 + 1, '0000000000000001')], 0)).toBeUndefined();
    expect(set.index?.kind).toBe('intervals');
  });

  it('a set of interface names, wildcards among them, finds what the walk finds, searched by halves unless a wildcard covers a name', () => {
    const names = ['lan0', 'lan1', 'lan2', 'lan3', 'lan4', 'lan5', 'lan6', 'lan7', 'dmz', 'wan'];
    const set = anonymousSet(['ifname'], false);
    for (const n of names) addElement(set, element([[n, n]]));
    for (const w of ['veth', 'wg']) addElement(set, element([[w, `${w}\uffff`]]));
    const looks = [...names, 'veth0', 'veth12ab', 'vet', 'wg', 'wg0', 'lan', 'lan10', 'wan0', 'eth0', ''];
    for (const v of looks) expect(findElement(set, [v], 0)).toBe(walked(set, [v], 0, false));
    expect(set.index?.kind).toBe('intervals');
    addElement(set, element([['veth9', 'veth9']]));
    for (const v of [...looks, 'veth9']) expect(findElement(set, [v], 0)).toBe(walked(set, [v], 0, false));
    expect(set.index?.kind).toBe('walk');
  });

  it('a one-field set of 20,000 addresses: each found, one not in it not found', () => {
    const set = anonymousSet(['ipv4_addr'], false);
    for (let i = 0; i < 20_000; i++) addElement(set, element([[0x0a000000 + i, 0x0a000000 + i]]));
    expect(findElement(set, [0x0a000000 + 12_345], 0)).toBe(set.elements[12_345]);
    expect(findElement(set, [0x0a000000 + 20_000], 0)).toBeUndefined();
  });
});
