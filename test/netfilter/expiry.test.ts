/**
 * The expiry wheel (conntrack/expiry.ts) must hand out exactly the entries a walk of the table
 * would find expired (nf_ct_is_expired), however their timeouts moved after they were filed,
 * and hold each entry once (a place left behind in a later slot keeps a dead entry alive).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Conn, NO_SLOT, Status } from '../../src/netfilter/conntrack/conn.js';
import { ExpiryWheel } from '../../src/netfilter/conntrack/expiry.js';
import { connSlab } from '../../src/netfilter/conntrack/conn-record.js';
import { invertTuple, Tuple } from '../../src/netfilter/conntrack/tuple.js';

const S = 1e9;
let id = 0;
/** The entries' tuple records (the wheel needs no table). */
const SLAB = connSlab();
function entry(timeout: number): Conn {
  const orig = new Tuple(0x0a000001, 1000 + id, 0x0a000002, 80, 17);
  const ct = new Conn(SLAB, ++id, orig, invertTuple(orig)!);
  ct.status |= Status.Confirmed;
  ct.timeout = timeout;
  return ct;
}

describe('expiry wheel', () => {
  it('hands out an entry once its timeout has passed, not before, and only once', () => {
    const wheel = new ExpiryWheel();
    const ct = entry(5.5 * S);
    wheel.schedule(ct);
    expect(wheel.takeExpired(5.4 * S)).toEqual([]);
    expect(wheel.takeExpired(5.5 * S)).toEqual([ct]);
    expect(wheel.takeExpired(100 * S)).toEqual([]);
    expect(ct.expirySlot).toBe(NO_SLOT);
  });

  it('keeps an entry whose timeout was pushed later, and finds one brought earlier', () => {
    const wheel = new ExpiryWheel();
    const later = entry(2 * S);
    const earlier = entry(300 * S);
    wheel.schedule(later);
    wheel.schedule(earlier);
    later.timeout = 50 * S; // a refresh: stays in its slot, moved on when the slot comes up
    wheel.schedule(later);
    earlier.timeout = 10 * S; // TCP closing: filed again in the earlier slot
    wheel.schedule(earlier);
    expect(wheel.takeExpired(20 * S)).toEqual([earlier]);
    expect(wheel.takeExpired(49 * S)).toEqual([]);
    expect(wheel.takeExpired(50 * S)).toEqual([later]);
  });

  it('forgets an entry that left the table', () => {
    const wheel = new ExpiryWheel();
    const ct = entry(1 * S);
    wheel.schedule(ct);
    wheel.unschedule(ct);
    expect(wheel.takeExpired(10 * S)).toEqual([]);
    expect(wheel.held).toBe(0);
  });

  it('holds an entry filed again earlier once, not in its first slot too', () => {
    const wheel = new ExpiryWheel();
    const ct = entry(120 * S); // SYN_SENT
    wheel.schedule(ct);
    ct.timeout = 10 * S; // reset: CLOSE
    wheel.schedule(ct);
    expect(wheel.held).toBe(1);
    expect(wheel.takeExpired(10 * S)).toEqual([ct]);
    expect(wheel.held).toBe(0); // nothing left in the 120 s slot to keep it alive
    expect(wheel.takeExpired(200 * S)).toEqual([]);
  });

  it('agrees with a walk of every entry, whatever the refreshes (property)', () => {
    const step = fc.record({ pick: fc.nat(), timeout: fc.integer({ min: 0, max: 200 * S }), now: fc.integer({ min: 0, max: 3 * S }), leaves: fc.boolean() });
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100 * S }), { minLength: 1, maxLength: 30 }), fc.array(step, { maxLength: 60 }), (initial, steps) => {
        const wheel = new ExpiryWheel();
        const live = new Set<Conn>();
        for (const t of initial) {
          const ct = entry(t);
          wheel.schedule(ct);
          live.add(ct);
        }
        let now = 0;
        for (const s of steps) {
          const all = [...live];
          if (all.length > 0) {
            const ct = all[s.pick % all.length]!;
            if (s.leaves) {
              wheel.unschedule(ct); // nf_ct_delete before its timeout
              live.delete(ct);
            } else {
              ct.timeout = now + s.timeout;
              wheel.schedule(ct);
            }
          }
          now += s.now;
          const walk = [...live].filter((ct) => now >= ct.timeout).sort((a, b) => a.id - b.id);
          const got = wheel.takeExpired(now).sort((a, b) => a.id - b.id);
          expect(got).toEqual(walk);
          for (const ct of got) live.delete(ct);
          expect(wheel.held).toBe(live.size); // each entry once: no place left behind holds one
        }
      }),
      { seed: 7, numRuns: 300 },
    );
  });
});
