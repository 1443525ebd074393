/**
 * The flat storage of ct->proto.tcp (conntrack/tcp-slab.ts): records are zeroed when handed
 * out, reused after release, kept apart from each other across growth, and an entry released
 * from its slab still reads (and writes) its own state — also when the copies of many released
 * entries share detached slabs (Slab.detach).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TcpSlab, TCP_RECORD_BYTES } from '../../src/netfilter/conntrack/tcp-slab.js';
import { TcpConn, TcpIndex } from '../../src/netfilter/conntrack/tcp.js';
import { TcpState } from '../../src/netfilter/conntrack/tcp-state.js';
import { Dir } from '../../src/netfilter/conntrack/tuple.js';

/** Gives a connection state that differs in every field from a zeroed record. */
function fill(tcp: TcpConn, v: number): void {
  for (const dir of [Dir.Original, Dir.Reply]) {
    const s = tcp.seen(dir);
    s.tdEnd = s.tdMaxend = s.tdMaxwin = s.tdMaxack = (v + dir) >>> 0;
    s.tdScale = 14;
    s.flags = 0xff;
  }
  tcp.state = TcpState.TimeWait;
  tcp.lastDir = Dir.Reply;
  tcp.lastIndex = TcpIndex.Rst;
  tcp.lastSeq = tcp.lastAck = tcp.lastEnd = v;
  tcp.lastWin = 0xffff;
  tcp.lastWscale = 14;
  tcp.lastFlags = 0xff;
  tcp.retrans = 0xff;
}

function snapshot(tcp: TcpConn): number[] {
  const seen = [Dir.Original, Dir.Reply].flatMap((dir) => {
    const s = tcp.seen(dir);
    return [s.tdEnd, s.tdMaxend, s.tdMaxwin, s.tdMaxack, s.tdScale, s.flags];
  });
  return [...seen, tcp.state, tcp.lastDir, tcp.lastIndex, tcp.lastSeq, tcp.lastAck, tcp.lastEnd, tcp.lastWin, tcp.lastWscale, tcp.lastFlags, tcp.retrans];
}

describe('TCP state in a slab', () => {
  it('a slab hands out distinct zeroed records, reuses freed ones, and keeps them across growth', () => {
    const slab = new TcpSlab(1);
    const a = slab.alloc();
    slab.words.fill(-1, 0, TCP_RECORD_BYTES / 4);
    const b = slab.alloc(); // grows: a's record must survive the copy
    expect([a, b, slab.capacity, slab.words[0]]).toEqual([0, 1, 2, -1]);
    slab.free(a);
    expect(slab.alloc()).toBe(a); // from the free list, not a third record
    expect([...slab.bytes.subarray(0, TCP_RECORD_BYTES)].every((x) => x === 0)).toBe(true);
    expect(slab.capacity).toBe(2);
  });

  it('an entry released from its slab keeps its state, and whoever gets its record starts from zero', () => {
    const slab = new TcpSlab(1);
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.integer({ min: 1, max: 40 }), (v, others) => {
        const gone = new TcpConn(slab);
        fill(gone, v);
        const before = snapshot(gone);
        gone.release();
        gone.release(); // a second release must not free the record again
        const fresh = Array.from({ length: others }, () => new TcpConn(slab));
        expect(fresh.map(snapshot).every((s) => s.every((x) => x === 0))).toBe(true);
        for (const f of fresh) fill(f, ~v >>> 0);
        expect(snapshot(gone)).toEqual(before);
        gone.lastSeq = 7; // a released entry still takes writes, into its own copy
        expect([gone.lastSeq, fresh[0]!.lastSeq]).toEqual([7, ~v >>> 0]);
        for (const f of fresh) f.release();
      }),
      { numRuns: 50 },
    );
  });

  it('entries released in numbers share detached slabs, each keeping its own state', () => {
    const slab = new TcpSlab(4);
    const gone = Array.from({ length: 200 }, (_, i) => {
      const tcp = new TcpConn(slab);
      fill(tcp, 1000 + i);
      tcp.release();
      return tcp;
    });
    // the records went back: the slab never held more than one at a time
    expect(slab.capacity).toBe(4);
    gone[0]!.lastSeq = 7; // a write to one copy touches no other
    expect(gone.map((t) => t.lastSeq)).toEqual(gone.map((_, i) => (i === 0 ? 7 : 1000 + i)));
    expect(gone.slice(1).map(snapshot)).toEqual(gone.slice(1).map((_, i) => {
      const t = new TcpConn(new TcpSlab(1));
      fill(t, 1001 + i);
      return snapshot(t);
    }));
  });
});
