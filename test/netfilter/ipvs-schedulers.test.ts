/**
 * The IPVS schedulers (src/netfilter/ipvs/sched) against net/netfilter/ipvs/ip_vs_{rr,wrr,lc,
 * wlc,sh,dh,mh}.c. Expected choices are worked out by hand from the kernel code, not from the
 * implementation. Two kernel facts run through all of them:
 *  - ip_vs_add_dest links a new server at the head of svc->destinations (list_add_rcu), so the
 *    kernel walks servers newest first: added A, B, C → list C, B, A.
 *  - ipvsadm -A creates the service empty and every -a calls the scheduler's add_dest hook.
 * hash_32(v, 8) values are (v * 0x61c88647 mod 2^32) >> 24, multiplied out by hand below.
 */
import { describe, expect, it } from 'vitest';
import { makeScheduler } from '../../src/netfilter/ipvs/sched/index.js';
import { MH_TAB_SIZE, mhLookup } from '../../src/netfilter/ipvs/sched/mh.js';
import { hsiphash, sipHashCD, type SipKey } from '../../src/netfilter/ipvs/sched/siphash.js';
import {
  newDest,
  type IpvsDest,
  type IpvsService,
  type SchedFlags,
  type SchedPacket,
  type SchedulerName,
} from '../../src/netfilter/ipvs/service.js';

const IP_A = 0xc0a80001; // 192.168.0.1
const IP_B = 0xc0a80002;
const IP_C = 0xc0a80003;
const CLIENT = 0x0a000001; // 10.0.0.1
const CLIENT2 = 0x0a000002; // 10.0.0.2

interface DestOpts {
  readonly weight: number;
  readonly active?: number;
  readonly inact?: number;
}

/** A service built as ipvs.ts does: dests in -a order, the scheduler made from them. */
function service(name: SchedulerName, dests: readonly [number, DestOpts][], flags: Partial<SchedFlags> = {}): IpvsService {
  const spec = {
    key: { kind: 'addr', protocol: 6, addr: 0x0a0000fe, port: 80 } as const,
    scheduler: name,
    flags: { fallback: false, port: false, ...flags },
    persistent: null,
    netmask: 0xffffffff,
    onePacket: false,
    dests: dests.map(([addr, o]) => ({ addr, port: 80, method: 'masq' as const, weight: o.weight, upperThreshold: 0, lowerThreshold: 0 })),
    place: { file: 'test' },
  };
  const live = spec.dests.map(newDest);
  dests.forEach(([, o], i) => {
    live[i]!.activeConns = o.active ?? 0;
    live[i]!.inactConns = o.inact ?? 0;
  });
  return { spec, dests: live, scheduler: makeScheduler(name, { dests: live }) };
}

function pkt(saddr: number, sport = 40000, daddr = 0x0a0000fe): SchedPacket {
  return { saddr, daddr, sport, dport: 80, proto: 6 };
}

function names(svc: IpvsService): Map<IpvsDest, string> {
  return new Map(svc.dests.map((d) => [d, String.fromCharCode(65 + [IP_A, IP_B, IP_C].indexOf(d.addr))]));
}

/** The name ('A'…) of the destination picked for `p`, or '-' for none. */
function pick(svc: IpvsService, p: SchedPacket = pkt(CLIENT)): string {
  const d = svc.scheduler.schedule(svc, p);
  return d === null ? '-' : names(svc).get(d)!;
}

function picks(svc: IpvsService, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += pick(svc);
  return s;
}

function dest(svc: IpvsService, addr: number): IpvsDest {
  return svc.dests.find((d) => d.addr === addr)!;
}

describe('hsiphash (lib/siphash.c, 64-bit: SipHash-1-3 truncated to u32)', () => {
  const key: SipKey = { k0: 0x0706050403020100n, k1: 0x0f0e0d0c0b0a0908n };
  const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);

  it('matches the kernel self-test vectors (lib/siphash_kunit.c, BITS_PER_LONG == 64)', () => {
    // test_vectors_hsiphash[i] = hsiphash(bytes 0..i-1, key 00..0f), verbatim.
    const vectors = [
      0x050fc4dc, 0x7d57ca93, 0x4dc7d44d, 0xe7ddf7fb, 0x88d38328, 0x49533b67, 0xc59f22a7, 0x9bb11140,
      0x8d299a8e, 0x6c063de4, 0x92ff097f, 0xf94dc352, 0x57b4d9a2, 0x1229ffa7, 0xc0f95d34, 0x2a519956,
      0x7d908b66, 0x63dbd80c, 0xb473e63e, 0x8d297d1c, 0xa6cce040, 0x2b45f844, 0xa320872e, 0xdae6c123,
      0x67349c8c, 0x705b0979, 0xca9913a5, 0x4ade3b35, 0xef6cd00d, 0x4ab1e1f4, 0x43c5e663, 0x8c21d1bc,
      0x16a7b60d, 0x7a8ff9bf, 0x1f2a753e, 0xbf186b91, 0xada26206, 0xa3c33057, 0xae3a36a1, 0x7b108392,
      0x99e41531, 0x3f1ad944, 0xc8138825, 0xc28949a6, 0xfaf8876b, 0x9f042196, 0x68b1d623, 0x8b5114fd,
      0xdf074c46, 0x12cc86b3, 0x0a52098f, 0x9d292f9a, 0xa2f41f12, 0x43a71ed0, 0x73f0bce6, 0x70a7e980,
      0x243c6d75, 0xfdb71513, 0xa67d8a08, 0xb7e8f148, 0xf7a644ee, 0x0f1837f2, 0x4b6694e0, 0xb7bbb3a8,
    ];
    vectors.forEach((v, i) => expect(hsiphash(bytes(i), key), `length ${i}`).toBe(v));
  });

  it('runs the reference SipHash-2-4 from the same core (veorq/SipHash vectors)', () => {
    expect(sipHashCD(bytes(0), key, 2, 4)).toBe(0x726fdb47dd0e0e31n);
    expect(sipHashCD(bytes(4), key, 2, 4)).toBe(0xcf2794e0277187b7n);
    expect(sipHashCD(bytes(8), key, 2, 4)).toBe(0x93f5f5799a932462n);
    expect(sipHashCD(bytes(15), key, 2, 4)).toBe(0xa129ca6149be45e5n);
    expect(sipHashCD(bytes(63), key, 2, 4)).toBe(0x958a324ceb064572n);
  });
});

describe('rr (ip_vs_rr.c)', () => {
  it('starts at the list head, so with the newest server, and keeps its place', () => {
    const svc = service('rr', [[IP_A, { weight: 1 }], [IP_B, { weight: 1 }], [IP_C, { weight: 1 }]]);
    expect(picks(svc, 7)).toBe('CBACBAC');
  });

  it('skips weight 0 and overloaded servers, resuming after the last hit', () => {
    const svc = service('rr', [[IP_A, { weight: 1 }], [IP_B, { weight: 0 }], [IP_C, { weight: 5 }]]);
    expect(picks(svc, 4)).toBe('CACA');
    // Position is after A (the list end): the scan wraps to C, overloaded, and ends on A again.
    dest(svc, IP_C).overloaded = true;
    expect(picks(svc, 2)).toBe('AA');
    dest(svc, IP_A).overloaded = true;
    expect(pick(svc)).toBe('-');
    dest(svc, IP_C).overloaded = false;
    expect(pick(svc)).toBe('C');
  });

  it('finds nothing when every server is quiesced', () => {
    expect(pick(service('rr', [[IP_A, { weight: 0 }], [IP_B, { weight: 0 }]]))).toBe('-');
  });
});

describe('wrr (ip_vs_wrr.c)', () => {
  it('weights 4, 3, 2 added A, B, C: one pass at cw 1 left by the adds, then the weighted cycle', () => {
    // init_svc on the empty service: di 1, mw 0, cw 0. Add A(4): di 4, mw 4-3 = 1, cw 0 → mw = 1.
    // Add B(3), C(2): di 1, mw 4, cw 1 is neither 0 nor > mw and di is 1, so it stays 1.
    // List C, B, A. cw 1: C, B, A. End of list: cw 0 → mw 4 (restart). cw 4: A. cw 3: B, A.
    // cw 2: C, B, A. cw 1: C, B, A. cw 0 → 4: A, ... so the cycle is A BA CBA CBA.
    const svc = service('wrr', [[IP_A, { weight: 4 }], [IP_B, { weight: 3 }], [IP_C, { weight: 2 }]]);
    expect(picks(svc, 3 + 9 + 9)).toBe('CBA' + 'ABACBACBA' + 'ABACBACBA');
  });

  it('steps by the gcd of the weights: 4 and 2', () => {
    // Add A(4): di 4, mw 1, cw 1. Add B(2): di 2, mw 4-1 = 3, cw = (1/2)*2+1 = 1. List B, A.
    // cw 1: B, A. cw -1 → mw 3: A (B's 2 < 3). cw 1 (last pass): B, A. cw → 3: A ...
    const svc = service('wrr', [[IP_A, { weight: 4 }], [IP_B, { weight: 2 }]]);
    expect(picks(svc, 8)).toBe('BA' + 'ABA' + 'ABA');
  });

  it('returns nothing when all are overloaded and restarts from the head at cw = mw', () => {
    const svc = service('wrr', [[IP_A, { weight: 4 }], [IP_B, { weight: 3 }], [IP_C, { weight: 2 }]]);
    for (const d of svc.dests) d.overloaded = true;
    expect(pick(svc)).toBe('-');
    for (const d of svc.dests) d.overloaded = false;
    // The failed scan wrapped cw from 1 to mw = 4 and left cl at the head.
    expect(picks(svc, 3)).toBe('ABA');
  });

  it('never picks weight 0, and finds nothing when no weight is positive (mw 0)', () => {
    const svc = service('wrr', [[IP_A, { weight: 0 }], [IP_B, { weight: 1 }]]);
    expect(picks(svc, 3)).toBe('BBB');
    expect(pick(service('wrr', [[IP_A, { weight: 0 }]]))).toBe('-');
  });
});

describe('lc (ip_vs_lc.c)', () => {
  it('least (active << 8) + inactive wins: one active connection outweighs 255 inactive', () => {
    // A 1*256 + 0 = 256, B 0 + 300 = 300, C 2*256 = 512.
    const svc = service('lc', [
      [IP_A, { weight: 1, active: 1 }],
      [IP_B, { weight: 1, inact: 300 }],
      [IP_C, { weight: 9, active: 2 }],
    ]);
    expect(pick(svc)).toBe('A');
    dest(svc, IP_B).inactConns = 255;
    expect(pick(svc)).toBe('B');
  });

  it('on a tie the first in list order wins, i.e. the most recently added', () => {
    const svc = service('lc', [[IP_A, { weight: 1, inact: 7 }], [IP_B, { weight: 1, inact: 7 }], [IP_C, { weight: 1, inact: 9 }]]);
    expect(pick(svc)).toBe('B');
  });

  it('ignores weight, except that weight 0 and overloaded servers are skipped', () => {
    const svc = service('lc', [[IP_A, { weight: 0 }], [IP_B, { weight: 1, active: 5 }], [IP_C, { weight: 100, active: 3 }]]);
    expect(pick(svc)).toBe('C');
    dest(svc, IP_C).overloaded = true;
    expect(pick(svc)).toBe('B');
    dest(svc, IP_B).overloaded = true;
    expect(pick(svc)).toBe('-');
  });
});

describe('wlc (ip_vs_wlc.c)', () => {
  it('least overhead per weight, compared as loh * w > doh * lw', () => {
    // List C, B, A. C: 2*256+10 = 522 / 3 = 174; B: 768 / 2 = 384; A: 256 / 1 = 256.
    const svc = service('wlc', [
      [IP_A, { weight: 1, active: 1 }],
      [IP_B, { weight: 2, active: 3 }],
      [IP_C, { weight: 3, active: 2, inact: 10 }],
    ]);
    expect(pick(svc)).toBe('C');
    dest(svc, IP_C).activeConns = 3; // 778 / 3 ≈ 259 > A's 256
    expect(pick(svc)).toBe('A');
  });

  it('on equal load per weight keeps the earlier in list order (the later added)', () => {
    // B 512/2 = A 256/1: 512*1 > 256*2 is false, B stays.
    const svc = service('wlc', [[IP_A, { weight: 1, active: 1 }], [IP_B, { weight: 2, active: 2 }]]);
    expect(pick(svc)).toBe('B');
  });

  it('a weight 0 server is never chosen, even idle; overloaded ones are skipped', () => {
    const svc = service('wlc', [[IP_A, { weight: 0 }], [IP_B, { weight: 1, active: 5 }], [IP_C, { weight: 0 }]]);
    expect(pick(svc)).toBe('B');
    dest(svc, IP_B).overloaded = true;
    expect(pick(svc)).toBe('-');
  });
});

describe('sh (ip_vs_sh.c)', () => {
  // Added A(1), B(1), C(2): list C, B, A; ip_vs_sh_reassign deals C, C, B, A round the 256
  // buckets, so bucket b holds "CCBA"[b % 4].
  // hash_32(0x0a000001): 0x0a000001 * 0x61c88647 = 0x27c88647 (mod 2^32) → bucket 0x27 = 39 → A.
  // hash_32(0x0a000002) → 0x89910c8e → 137 → C.
  const weighted = (flags: Partial<SchedFlags> = {}) =>
    service('sh', [[IP_A, { weight: 1 }], [IP_B, { weight: 1 }], [IP_C, { weight: 2 }]], flags);

  it('maps a source to its bucket, the same every time, port ignored without sh-port', () => {
    const svc = weighted();
    expect([pick(svc), pick(svc), pick(svc, pkt(CLIENT, 1234))]).toEqual(['A', 'A', 'A']);
    expect(pick(svc, pkt(CLIENT2))).toBe('C');
  });

  it('hashes ntohs(sport) + ntohl(saddr) with sh-port', () => {
    // 0x0a000001 + 1234 = 0x0a0004d3 → 0x805fc885 → 128 → C; + 1235 → 0xe2284ecc → 226 → B.
    const svc = weighted({ port: true });
    expect(pick(svc, pkt(CLIENT, 1234))).toBe('C');
    expect(pick(svc, pkt(CLIENT, 1235))).toBe('B');
  });

  it('an unavailable server gives nothing, or with sh-fallback the re-hashed buckets', () => {
    const plain = weighted();
    dest(plain, IP_A).overloaded = true;
    expect(pick(plain)).toBe('-');
    // Fallback: offset 0 → roffset 39 → (39 + 39) & 255 = 78 → "CCBA"[2] = B;
    // with B out too: 40 + 39 = 79 → A (out), 41 + 39 = 80 → C.
    const fb = weighted({ fallback: true });
    dest(fb, IP_A).overloaded = true;
    expect(pick(fb)).toBe('B');
    dest(fb, IP_B).overloaded = true;
    expect(pick(fb)).toBe('C');
  });

  it('a weight 0 server still takes one bucket per round but is never chosen', () => {
    // Added A(0), B(1): list B, A → buckets alternate B, A; 39 is odd → A → nothing.
    const plain = service('sh', [[IP_A, { weight: 0 }], [IP_B, { weight: 1 }]]);
    const fb = service('sh', [[IP_A, { weight: 0 }], [IP_B, { weight: 1 }]], { fallback: true });
    expect(pick(plain)).toBe('-');
    expect(pick(fb)).toBe('B'); // bucket 78
    let none = 0;
    for (let i = 0; i < 512; i++) {
      const p = pkt(0x0a010000 + i);
      expect(pick(fb, p)).toBe('B');
      if (pick(plain, p) === '-') none++;
    }
    expect(none).toBeGreaterThan(100);
  });
});

describe('dh (ip_vs_dh.c)', () => {
  // Added A, B, C: list C, B, A; bucket b holds "CBA"[b % 3]. Buckets as for sh: 10.0.0.1 → 39
  // → C, 10.0.0.2 → 137 → A.
  const three = () => service('dh', [[IP_A, { weight: 1 }], [IP_B, { weight: 5 }], [IP_C, { weight: 1 }]]);

  it('maps the destination address, whatever the source', () => {
    const svc = three();
    expect(pick(svc, pkt(0x01020304, 1, CLIENT))).toBe('C');
    expect(pick(svc, pkt(0x05060708, 2, CLIENT))).toBe('C');
    expect(pick(svc, pkt(0x01020304, 1, CLIENT2))).toBe('A');
  });

  it('has no fallback: weight 0 or overloaded means no destination', () => {
    const svc = three();
    dest(svc, IP_C).overloaded = true;
    expect(pick(svc, pkt(1, 1, CLIENT))).toBe('-');
    const quiet = service('dh', [[IP_A, { weight: 1 }], [IP_B, { weight: 1 }], [IP_C, { weight: 0 }]]);
    expect(pick(quiet, pkt(1, 1, CLIENT))).toBe('-');
    expect(pick(quiet, pkt(1, 1, CLIENT2))).toBe('A');
  });
});

describe('mh (ip_vs_mh.c)', () => {
  function counts(weights: readonly number[]): number[] {
    // mhLookup takes the kernel's list: the reverse of the -a order.
    const added = weights.map((weight, i) => newDest({ addr: [IP_A, IP_B, IP_C][i]!, port: 80, method: 'masq', weight, upperThreshold: 0, lowerThreshold: 0 }));
    const table = mhLookup([...added].reverse());
    return added.map((d) => table.filter((t) => t === d).length);
  }

  it('uses the 4093-slot table (CONFIG_IP_VS_MH_TAB_INDEX 12 → primes[4])', () => {
    expect(MH_TAB_SIZE).toBe(4093);
  });

  it('fills the table by turns of weight/gcd, the list head first in every round', () => {
    // Whatever the permutations, ip_vs_mh_populate gives each server `turns` slots per round.
    // A 3, B 1, list B, A: rounds of B + AAA; 1023 rounds fill 4092, the last slot is B's.
    expect(counts([3, 1])).toEqual([3069, 1024]);
    // A 6, B 4: gcd 2 → turns 3, 2; 818 rounds of 5 = 4090, then B, B, A.
    expect(counts([6, 4])).toEqual([2454 + 1, 1636 + 2]);
    // A 100, B 1: max/gcd = 100, fls(100) = 7 > 6 bits → rshift 1: turns 50 and (0 → 1);
    // 80 rounds of 51 = 4080, then B and 12 of A.
    expect(counts([100, 1])).toEqual([4000 + 12, 80 + 1]);
    // Weight 0 takes no slot; B and C alternate from the head (C): C gets the odd one.
    expect(counts([0, 1, 1])).toEqual([0, 2046, 2047]);
  });

  it('looks a source up at hsiphash(ntohs(port) + ntohl(addr)) % 4093 in the list-ordered table', () => {
    // ip_vs_mh_hashkey hashes the u32 as it sits in memory (little-endian on x86-64) with
    // generate_hash_secret's hash1 = { 2654435761, 2654435761 }.
    const svc = service('mh', [[IP_A, { weight: 3 }], [IP_B, { weight: 1 }], [IP_C, { weight: 2 }]], { port: true });
    const table = mhLookup([...svc.dests].reverse());
    const key: SipKey = { k0: 2654435761n, k1: 2654435761n };
    const who = names(svc);
    for (let i = 0; i < 2000; i++) {
      const [src, port] = [0x0a000000 + i * 7919, 1024 + i];
      const v = new Uint8Array(4);
      new DataView(v.buffer).setUint32(0, (src + port) >>> 0, true);
      expect(pick(svc, pkt(src, port))).toBe(who.get(table[hsiphash(v, key) % MH_TAB_SIZE]!));
    }
  });

  it('spreads sources in proportion to the weights and keeps each source on its server', () => {
    const svc = service('mh', [[IP_A, { weight: 3 }], [IP_B, { weight: 1 }]]);
    const first = new Map<number, string>();
    let a = 0;
    const n = 8000;
    for (let i = 0; i < n; i++) {
      const src = 0x0a000000 + i * 7919;
      const d = pick(svc, pkt(src, 1000 + i));
      first.set(src, d);
      if (d === 'A') a++;
    }
    expect(a / n).toBeGreaterThan(0.72);
    expect(a / n).toBeLessThan(0.78);
    for (const [src, d] of first) expect(pick(svc, pkt(src, 5))).toBe(d);
  });

  it('mixes the source port in only with mh-port', () => {
    const plain = service('mh', [[IP_A, { weight: 1 }], [IP_B, { weight: 1 }], [IP_C, { weight: 1 }]]);
    const ported = service('mh', [[IP_A, { weight: 1 }], [IP_B, { weight: 1 }], [IP_C, { weight: 1 }]], { port: true });
    const seen = new Set<string>();
    for (let port = 1024; port < 1064; port++) {
      expect(pick(plain, pkt(CLIENT, port))).toBe(pick(plain, pkt(CLIENT, 1)));
      seen.add(pick(ported, pkt(CLIENT, port)));
    }
    expect(seen.size).toBe(3);
  });

  it('never picks weight 0; an overloaded server gives nothing, or another with mh-fallback', () => {
    const zero = service('mh', [[IP_A, { weight: 0 }], [IP_B, { weight: 1 }]]);
    const plain = service('mh', [[IP_A, { weight: 1 }], [IP_B, { weight: 1 }]]);
    const fb = service('mh', [[IP_A, { weight: 1 }], [IP_B, { weight: 1 }]], { fallback: true });
    dest(plain, IP_A).overloaded = true;
    dest(fb, IP_A).overloaded = true;
    let lost = 0;
    for (let i = 0; i < 400; i++) {
      const p = pkt(0x0a000000 + i * 104729);
      expect(pick(zero, p)).toBe('B');
      const before = pick(plain, p);
      if (before === '-') lost++;
      // Sources that hashed to B stay there; the ones that hashed to A move to B.
      expect(pick(fb, p)).toBe('B');
    }
    expect(lost).toBeGreaterThan(100);
    expect(pick(service('mh', [[IP_A, { weight: 0 }]]))).toBe('-');
  });
});

describe('makeScheduler', () => {
  it('builds each scheduler by its ipvsadm name', () => {
    const dests: [number, DestOpts][] = [[IP_A, { weight: 1 }], [IP_B, { weight: 2, active: 1 }]];
    expect(picks(service('rr', dests), 2)).toBe('BA');
    expect(picks(service('wrr', dests), 3)).toBe('BAB');
    expect(pick(service('lc', dests))).toBe('A');
    expect(pick(service('wlc', dests))).toBe('A');
    for (const name of ['sh', 'dh', 'mh'] as const) expect(pick(service(name, dests))).not.toBe('-');
  });
});
