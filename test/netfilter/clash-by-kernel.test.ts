/**
 * Insert clashes at confirm on each kernel profile, with the counters each moves: two first
 * packets of one UDP flow race (both entries unconfirmed), the first is confirmed, the second
 * meets it. 4.15 merges only into a winner without NAT decided (IPS_NAT_DONE_MASK, which a
 * null binding sets: the drop behind the "5 s DNS delay" of NAT hosts), 5.4 also into one with
 * the very same tuples (nf_ct_match), 6.18 merges or inserts the loser for replies only. Up to
 * 5.9 every clash counts insert_failed, resolved or not; 6.18 counts clash_resolve instead.
 */
import { describe, expect, it } from 'vitest';
import { Status, type Conn } from '../../src/netfilter/conntrack/conn.js';
import { conntrackIn } from '../../src/netfilter/conntrack/core.js';
import { confirm } from '../../src/netfilter/conntrack/confirm.js';
import { Tuple } from '../../src/netfilter/conntrack/tuple.js';
import { Hook, Verdict } from '../../src/netfilter/constants.js';
import type { HookState } from '../../src/netfilter/hooks.js';
import { Skb } from '../../src/netfilter/skb.js';
import { buildTcp, buildUdp } from '../../src/packet/build.js';
import { TcpFlag, type Ipv4Packet } from '../../src/packet/ipv4.js';
import type { KernelVersion } from '../../src/kernel/profile.js';
import { ip, net } from './nat-helpers.js';

const state: HookState = { hook: Hook.PostRouting, in: null, out: null, trace: null, notes: null };
const A = ip('10.0.0.1');
const DNS = ip('10.0.0.53');
const query = (): Ipv4Packet => buildUdp({ saddr: A, daddr: DNS, sport: 5000, dport: 53, ipId: 1, ttl: 64, payload: new Uint8Array(4) });
const syn = (): Ipv4Packet => buildTcp({ saddr: A, daddr: DNS, sport: 5000, dport: 53, ipId: 1, ttl: 64, seq: 1000, ack: 0, flags: TcpFlag.SYN, window: 64240, syn: { mss: 1460, wscale: 7 }, payloadLength: 0 });

/** Two first packets of one flow, both through nf_conntrack_in before either is confirmed. */
function race(kernel: KernelVersion, pkt: () => Ipv4Packet = query) {
  const n = net(1, kernel);
  const skbs = [1, 2].map((id) => {
    const skb = new Skb(id, pkt(), 0, 0, null);
    conntrackIn(n, skb, state);
    return skb;
  });
  const [first, second] = skbs as [Skb, Skb];
  return { n, first, second, winner: first.ct!, loser: second.ct! };
}

/** What confirm did with the loser, and the counters that moved (only those the kernel has). */
function outcome(r: ReturnType<typeof race>): { verdict: Verdict; merged: boolean; counters: Record<string, number> } {
  expect(confirm(r.n, r.first, state)).toBe(Verdict.Accept);
  const verdict = confirm(r.n, r.second, state);
  const row = r.n.stats.row(0);
  const counters = Object.fromEntries(Object.entries(row).filter(([, v]) => v !== 0)) as Record<string, number>;
  return { verdict, merged: r.second.ct === r.winner, counters };
}

/** As the NAT hooks' null bindings leave an entry on a host with a nat table: NAT decided, tuples unchanged. */
function nullBound(ct: Conn): void {
  ct.status |= Status.SrcNatDone | Status.DstNatDone;
}

describe('a UDP clash with a winner that has no NAT decided', () => {
  it.each([
    ['4.15', { insert_failed: 1 }],
    ['5.4', { insert_failed: 1 }],
    ['6.18', { clash_resolve: 1 }],
  ] as const)('%s: the packet continues with the winner, counting %o', (kernel, counters) => {
    expect(outcome(race(kernel))).toEqual({ verdict: Verdict.Accept, merged: true, counters });
  });
});

describe('a UDP clash with a null-bound winner (a host with a nat table)', () => {
  it('4.15: dropped — IPS_NAT_DONE_MASK is set — insert_failed and drop', () => {
    const r = race('4.15');
    nullBound(r.winner);
    nullBound(r.loser);
    expect(outcome(r)).toEqual({ verdict: Verdict.Drop, merged: false, counters: { insert_failed: 1, drop: 1 } });
  });

  it.each([
    ['5.4', { insert_failed: 1 }],
    ['6.18', { clash_resolve: 1 }],
  ] as const)('%s: merged, the tuples being the same (nf_ct_match), counting %o', (kernel, counters) => {
    const r = race(kernel);
    nullBound(r.winner);
    nullBound(r.loser);
    expect(outcome(r)).toEqual({ verdict: Verdict.Accept, merged: true, counters });
  });
});

describe('a UDP clash where the loser was NATed elsewhere', () => {
  function natedElsewhere(kernel: KernelVersion) {
    const r = race(kernel);
    nullBound(r.winner);
    nullBound(r.loser);
    r.loser.status |= Status.SrcNat;
    r.loser.setReply(new Tuple(DNS, 53, ip('192.0.2.1'), 61000, 17)); // replies to another source
    return r;
  }

  it('5.4: dropped, the tuples differing', () => {
    expect(outcome(natedElsewhere('5.4'))).toEqual({ verdict: Verdict.Drop, merged: false, counters: { insert_failed: 1, drop: 1 } });
  });

  it('6.18: inserted for its replies only (NAT_CLASH), clash_resolve', () => {
    const r = natedElsewhere('6.18');
    expect(outcome(r)).toEqual({ verdict: Verdict.Accept, merged: false, counters: { clash_resolve: 1 } });
    expect(r.loser.has(Status.NatClash)).toBe(true);
  });
});

describe('a clash of a protocol without allow_clash (TCP)', () => {
  it.each(['4.15', '5.4', '6.18'] as const)('%s: dropped, insert_failed and drop', (kernel) => {
    expect(outcome(race(kernel, syn))).toEqual({ verdict: Verdict.Drop, merged: false, counters: { insert_failed: 1, drop: 1 } });
  });
});
