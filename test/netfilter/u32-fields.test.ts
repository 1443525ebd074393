/**
 * Tuple addresses and the TCP tracker's sequence state are u32 values kept as int32 behind
 * accessors (so that V8 boxes none of them): every u32 must read back as itself, and tuple
 * comparison must not depend on how a value was stored.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dir, Tuple } from '../../src/netfilter/conntrack/tuple.js';
import { TcpConn } from '../../src/netfilter/conntrack/tcp.js';
import { TcpSlab } from '../../src/netfilter/conntrack/tcp-slab.js';

const u32 = fc.oneof(fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff), fc.nat({ max: 0xffffffff }));

describe('u32 fields kept as int32', () => {
  it('a tuple reads back the addresses it was given or set to, and compares by value', () => {
    fc.assert(
      fc.property(u32, u32, u32, u32, (a, b, c, d) => {
        const t = new Tuple(a, 1, b, 2, 6);
        expect([t.src, t.dst]).toEqual([a, b]);
        expect(t.equalsFields(a, 1, b, 2, 6)).toBe(true);
        expect(t.equalsFields(c, 1, b, 2, 6)).toBe(a === c);
        t.src = c;
        t.dst = d;
        expect([t.src, t.dst]).toEqual([c, d]);
        expect(t.equals(new Tuple(c, 1, d, 2, 6))).toBe(true);
      }),
    );
  });

  it('the TCP state reads back every sequence number, window and ack it was given', () => {
    fc.assert(
      fc.property(fc.array(u32, { minLength: 7, maxLength: 7 }), ([end, maxend, maxwin, maxack, seq, ack, last]) => {
        const tcp = new TcpConn(new TcpSlab(1));
        const s = tcp.seen(Dir.Reply);
        s.tdEnd = end!;
        s.tdMaxend = maxend!;
        s.tdMaxwin = maxwin!;
        s.tdMaxack = maxack!;
        tcp.lastSeq = seq!;
        tcp.lastAck = ack!;
        tcp.lastEnd = last!;
        expect([s.tdEnd, s.tdMaxend, s.tdMaxwin, s.tdMaxack, tcp.lastSeq, tcp.lastAck, tcp.lastEnd]).toEqual([end, maxend, maxwin, maxack, seq, ack, last]);
        expect(tcp.seen(Dir.Original).tdEnd).toBe(0); // the other direction is its own
      }),
    );
  });
});
