/**
 * Entries living and dying: UDP, ICMP and generic timeouts and ASSURED, expiry on the virtual
 * clock with its DESTROY event, and a full table (nf_conntrack_max) with early drop.
 */
import { describe, expect, it } from 'vitest';
import { CtInfo, Status, type Conn } from '../../src/netfilter/conntrack/conn.js';
import { conntrackIn } from '../../src/netfilter/conntrack/core.js';
import { Dir, Tuple } from '../../src/netfilter/conntrack/tuple.js';
import { NO_NODE, nodeDir } from '../../src/netfilter/conntrack/tuplehash.js';
import { confirm } from '../../src/netfilter/conntrack/confirm.js';
import type { ConntrackEventType } from '../../src/netfilter/conntrack/ecache.js';
import { gcSweep } from '../../src/netfilter/conntrack/gc.js';
import { Hook, Verdict } from '../../src/netfilter/constants.js';
import type { HookState } from '../../src/netfilter/hooks.js';
import { NetfilterNet } from '../../src/netfilter/net.js';
import { Skb } from '../../src/netfilter/skb.js';
import { Sysctl, type SysctlName } from '../../src/host/sysctl.js';
import { Prng } from '../../src/sim/prng.js';
import { buildIcmpEcho, buildUdp } from '../../src/packet/build.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { Ipv4Packet } from '../../src/packet/ipv4.js';
import { checksum } from '../../src/packet/checksum.js';
import { KERNEL_PROFILES, type KernelVersion } from '../../src/kernel/profile.js';

const S = 1e9;
const ip = (s: string) => parseIpv4(s)!;
const A = ip('10.0.0.1');
const B = ip('10.0.0.2');

function net(sysctls: [SysctlName, number][] = [], kernel: KernelVersion = '6.18'): NetfilterNet {
  const sysctl = new Sysctl(KERNEL_PROFILES[kernel]);
  for (const [k, v] of sysctls) sysctl.set(k, v);
  return new NetfilterNet(sysctl, new Prng(1), 1, 1);
}

let skbId = 0;
/** The packet through conntrack at PRE_ROUTING and confirm at POST_ROUTING, as a forwarded one. */
function pass(n: NetfilterNet, pkt: Ipv4Packet, time: number): { verdict: Verdict; skb: Skb } {
  const skb = new Skb(++skbId, pkt, time, 0, null);
  const state = (hook: Hook): HookState => ({ hook, in: null, out: null, trace: null, notes: null });
  const verdict = conntrackIn(n, skb, state(Hook.PreRouting));
  if (verdict !== Verdict.Accept) return { verdict, skb };
  return { verdict: confirm(n, skb, state(Hook.PostRouting)), skb };
}

const udp = (src: number, sport: number, dst: number, dport: number) => buildUdp({ saddr: src, daddr: dst, sport, dport, ipId: 1, ttl: 64, payload: new Uint8Array(4) });
const echo = (src: number, dst: number, type: number) => buildIcmpEcho({ saddr: src, daddr: dst, ipId: 1, ttl: 64, type, echoId: 7, seq: 1, payload: new Uint8Array(8) });
const secondsLeft = (ct: Conn, now: number) => (ct.timeout - now) / S;

describe('UDP tracker (nf_conntrack_udp_packet)', () => {
  it('gives 30 s until a reply, keeps 30 s for a reply within 2 s, and 120 s ASSURED after', () => {
    const n = net();
    const ct = pass(n, udp(A, 1000, B, 53), 0).skb.ct!;
    expect(secondsLeft(ct, 0)).toBe(30);
    pass(n, udp(B, 53, A, 1000), 1 * S);
    expect([secondsLeft(ct, 1 * S), ct.has(Status.SeenReply), ct.has(Status.Assured)]).toEqual([30, true, false]);
    pass(n, udp(A, 1000, B, 53), 3 * S);
    expect([secondsLeft(ct, 3 * S), ct.has(Status.Assured)]).toEqual([120, true]);
  });

  it('on 4.15 gives the stream timeout, 180 s, and ASSURED to the first packet after a reply, however soon (udp_packet)', () => {
    const n = net([], '4.15');
    const ct = pass(n, udp(A, 1000, B, 53), 0).skb.ct!;
    pass(n, udp(B, 53, A, 1000), 1 * S);
    expect([secondsLeft(ct, 1 * S), ct.has(Status.Assured)]).toEqual([30, false]);
    pass(n, udp(A, 1000, B, 53), 1.5 * S);
    expect([secondsLeft(ct, 1.5 * S), ct.has(Status.Assured)]).toEqual([180, true]);
  });
});

describe('ICMP and generic trackers', () => {
  it('ICMP echo: 30 s; an echo reply alone creates nothing (invalid)', () => {
    const n = net();
    const ct = pass(n, echo(A, B, 8), 0).skb.ct!;
    expect(secondsLeft(ct, 0)).toBe(30);
    const lone = pass(n, echo(B, ip('10.0.0.3'), 0), 1 * S);
    expect(lone.skb.ct).toBeNull();
    expect(n.stats.total().invalid).toBe(1);
  });
});

describe('generic tracker (nf_conntrack_generic_packet)', () => {
  it('keeps an entry of an untracked protocol (OSPF, 89) for nf_conntrack_generic_timeout', () => {
    const n = net();
    const d = udp(A, 0, B, 0).data.slice();
    d[9] = 89; // protocol OSPF: no tracker of its own, no ports
    d[10] = 0;
    d[11] = 0;
    const sum = checksum(d, 0, 20);
    d[10] = sum >> 8;
    d[11] = sum & 255;
    const ct = pass(n, Ipv4Packet.decode(d) as Ipv4Packet, 0).skb.ct!;
    expect(secondsLeft(ct, 0)).toBe(600);
  });
});

describe('expiry on the virtual clock', () => {
  it('reaps an entry once its timeout passed, with a DESTROY event at the expiry time', () => {
    const n = net();
    const events: [ConntrackEventType, number][] = [];
    n.events = { emit: (type, _ct, now) => void events.push([type, now]) };
    pass(n, udp(A, 1000, B, 53), 0);
    gcSweep(n, 29 * S);
    expect(n.table.count).toBe(1);
    pass(n, udp(A, 1001, B, 53), 31 * S); // the periodic scan runs before this packet's lookup
    expect(events).toEqual([
      ['NEW', 0],
      ['DESTROY', 30 * S],
      ['NEW', 31 * S],
    ]);
    expect(n.table.count).toBe(1);
  });

  it('a packet after expiry starts a new entry', () => {
    const n = net();
    const first = pass(n, udp(A, 1000, B, 53), 0).skb.ct!;
    const second = pass(n, udp(A, 1000, B, 53), 40 * S).skb.ct!;
    expect(second).not.toBe(first);
    expect(second.confirmed).toBe(true);
  });
});

describe('the table holds an entry by its own tuples', () => {
  it('finds both directions, loses them on removal, and refuses a new reply tuple once confirmed', () => {
    const n = net();
    const ct = pass(n, udp(A, 1000, B, 53), 0).skb.ct!;
    const reply = n.table.find(new Tuple(B, 53, A, 1000, 17));
    expect([n.table.conn(reply), nodeDir(reply)]).toEqual([ct, Dir.Reply]);
    const original = n.table.find(ct.tuple(Dir.Original));
    expect([n.table.conn(original), nodeDir(original)]).toEqual([ct, Dir.Original]);
    expect(() => ct.setReply(new Tuple(B, 53, ip('192.0.2.1'), 1000, 17))).toThrow('after confirmation');
    n.table.remove(ct);
    expect([n.table.count, n.table.find(ct.tuple(Dir.Reply)), n.table.lookup(ct.tuple(Dir.Original))]).toEqual([0, NO_NODE, null]);
    n.table.remove(ct); // a second removal finds nothing to unlink
    expect(n.table.count).toBe(0);
  });
});

describe('a full table (nf_conntrack_max)', () => {
  it('early-drops entries that are not ASSURED from the new tuple’s buckets', () => {
    // one bucket: every entry is in the new tuple's bucket
    const n = net([['net.netfilter.nf_conntrack_max', 2], ['net.netfilter.nf_conntrack_buckets', 1]]);
    pass(n, udp(A, 1000, B, 53), 0);
    pass(n, udp(A, 1001, B, 53), 0);
    const third = pass(n, udp(A, 1002, B, 53), 0);
    expect(third.verdict).toBe(Verdict.Accept);
    // early_drop_list kills every unassured entry of the bucket, not only one
    expect(n.stats.total()).toMatchObject({ early_drop: 2, drop: 0 });
    expect(n.table.count).toBe(1);
  });

  it('drops the new packet (counter drop) when every entry is ASSURED', () => {
    const n = net([['net.netfilter.nf_conntrack_max', 1], ['net.netfilter.nf_conntrack_buckets', 1]]);
    const ct = pass(n, udp(A, 1000, B, 53), 0).skb.ct!;
    ct.status |= Status.Assured;
    const refused = pass(n, udp(A, 1001, B, 53), 0);
    expect(refused.verdict).toBe(Verdict.Drop);
    expect(refused.skb.drop?.counter).toBe('drop');
    expect(n.stats.total()).toMatchObject({ early_drop: 0, drop: 1 });
  });

  it('looks at no more than 8 buckets', () => {
    // many buckets, one assured entry: the new tuple's 8 buckets hold nothing to evict
    const n = net([['net.netfilter.nf_conntrack_max', 1]]);
    pass(n, udp(A, 1000, B, 53), 0).skb.ct!.status |= Status.Assured;
    expect(pass(n, udp(A, 1001, B, 53), 0).verdict).toBe(Verdict.Drop);
  });
});

describe('ICMP errors (nf_conntrack_inet_error)', () => {
  /** An ICMP error from `from` to `to` quoting the first 28 bytes of `quoted`. */
  function icmpError(from: number, to: number, type: number, quoted: Ipv4Packet): Ipv4Packet {
    const inner = quoted.data.subarray(0, 28);
    const d = new Uint8Array(20 + 8 + inner.length);
    d.set(buildIcmpEcho({ saddr: from, daddr: to, ipId: 9, ttl: 64, type: 8, echoId: 0, seq: 0, payload: new Uint8Array(0) }).data.subarray(0, 20));
    d[3] = d.length; // total length (fits one byte here)
    d[10] = 0;
    d[11] = 0;
    const ipSum = checksum(d, 0, 20);
    d[10] = ipSum >> 8;
    d[11] = ipSum & 255;
    d[20] = type;
    d.set(inner, 28);
    const icmpSum = checksum(d, 20, d.length);
    d[22] = icmpSum >> 8;
    d[23] = icmpSum & 255;
    return Ipv4Packet.decode(d) as Ipv4Packet;
  }

  it('an error about a request, sent back to its source, is RELATED_REPLY; one about the reply RELATED', () => {
    const n = net();
    const request = echo(A, B, 8);
    const ct = pass(n, request, 0).skb.ct!;
    const router = ip('10.0.0.254');
    const toA = pass(n, icmpError(router, A, 11, request), 1 * S).skb;
    expect([toA.ct, toA.ctinfo]).toEqual([ct, CtInfo.RelatedReply]);
    const reply = echo(B, A, 0);
    pass(n, reply, 1 * S);
    const toB = pass(n, icmpError(router, B, 3, reply), 2 * S).skb;
    expect([toB.ct, toB.ctinfo]).toEqual([ct, CtInfo.Related]);
    expect(n.stats.total()).toMatchObject({ error: 0, invalid: 0 });
  });

  it('an error quoting nothing tracked, or sent elsewhere than the quoted source, counts as error', () => {
    const n = net();
    const request = echo(A, B, 8);
    pass(n, request, 0);
    expect(pass(n, icmpError(B, A, 3, echo(A, ip('10.9.9.9'), 8)), 1 * S).skb.ct).toBeNull();
    expect(pass(n, icmpError(B, ip('10.0.0.77'), 3, request), 1 * S).skb.ct).toBeNull();
    expect(n.stats.total().error).toBe(2);
  });

  it.each(['4.15', '5.4'] as const)('on %s such an error counts invalid too (fixed in 5.10)', (kernel) => {
    const n = net([], kernel);
    pass(n, icmpError(B, A, 3, echo(A, ip('10.9.9.9'), 8)), 1 * S);
    expect(n.stats.total()).toMatchObject({ error: 1, invalid: 1 });
  });
});

describe('the ignore counter (up to 5.9)', () => {
  it.each([
    ['4.15', 1],
    ['5.4', 1],
    ['6.18', 0],
  ] as const)('%s: a packet that comes back with its entry (loopback) counts ignore %i times', (kernel, ignored) => {
    const n = net([], kernel);
    const { skb } = pass(n, udp(A, 1000, B, 53), 0);
    conntrackIn(n, skb, { hook: Hook.PreRouting, in: null, out: null, trace: null, notes: null });
    expect(n.stats.total().ignore).toBe(ignored);
    expect(n.stats.fields.includes('ignore')).toBe(ignored === 1);
  });
});
