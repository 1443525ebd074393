/**
 * -m conntrack beyond --ctstate (xt_conntrack.c conntrack_mt): each option on an entry, the
 * packet's direction, and the kernel's rule for a packet without an entry — it matches only
 * through --ctstate, so an inverted option does not make it match. The recording
 * fixtures/kernel/iptables-conntrack-match (verify.test.ts replays it) checks the same options
 * on a DNAT router's traffic.
 */
import { describe, expect, it } from 'vitest';
import { Conn, CtInfo, Status } from '../../src/netfilter/conntrack/conn.js';
import { connSlab } from '../../src/netfilter/conntrack/conn-record.js';
import { Tuple } from '../../src/netfilter/conntrack/tuple.js';
import { Verdict } from '../../src/netfilter/constants.js';
import { ip, lintRule, runChain, udp, xtTable, type RunOptions } from './xt-helpers.js';

/** A UDP entry 10.0.0.1:1000 → 10.0.3.254:8080 DNATed to 192.168.1.2:53, confirmed and replied. */
function dnatEntry(): Conn {
  const ct = new Conn(connSlab(1), 1, new Tuple(ip('10.0.0.1'), 1000, ip('10.0.3.254'), 8080, 17), new Tuple(ip('192.168.1.2'), 53, ip('10.0.0.1'), 1000, 17));
  ct.status = Status.Confirmed | Status.SeenReply | Status.DstNat | Status.DstNatDone;
  return ct;
}

/** Whether `-A INPUT <rule> -j DROP` drops the packet. */
function drops(rule: string, o: RunOptions): boolean {
  return runChain(xtTable(`-A INPUT ${rule} -j DROP`), udp(), o).verdict === Verdict.Drop;
}

const original = { ct: { conn: dnatEntry(), ctinfo: CtInfo.Established } };
const reply = { ct: { conn: dnatEntry(), ctinfo: CtInfo.EstablishedReply } };

describe('-m conntrack (conntrack_mt)', () => {
  it.each([
    ['--ctorigdst 10.0.3.254', original, true],
    ['--ctorigdst 10.0.3.0/24 --ctrepldst 10.0.0.1', original, true],
    ['! --ctreplsrc 192.168.1.0/255.255.255.0', original, false],
    ['--ctorigdstport 8080 --ctreplsrcport 50:60', reply, true],
    ['--ctorigsrcport 1001:2000', original, false],
    ['--ctproto udp --ctstate DNAT', reply, true],
    ['! --ctproto 17', reply, false],
    ['--ctstatus ASSURED', original, false],
    ['--ctstatus ASSURED,SEEN_REPLY', original, true],
    ['! --ctstatus NONE', original, true],
    ['--ctdir ORIGINAL --ctstate ESTABLISHED', original, true],
    ['--ctdir ORIGINAL', reply, false],
    ['--ctdir REPLY --ctorigdst 10.0.3.254', reply, true],
  ] as const)('-m conntrack %s', (options, packet, dropped) => {
    expect(drops(`-m conntrack ${options}`, packet)).toBe(dropped);
  });

  it('a packet without an entry matches only through --ctstate, inverted options or not', () => {
    expect(drops('-m conntrack ! --ctstatus ASSURED', {})).toBe(false);
    expect(drops('-m conntrack ! --ctorigsrc 10.9.9.9', {})).toBe(false);
    // the state passes (INVALID) and no entry: the other options are not looked at
    expect(drops('-m conntrack --ctstate INVALID --ctproto tcp', {})).toBe(true);
    expect(drops('-m conntrack --ctstate UNTRACKED --ctdir REPLY', { ct: 'untracked' })).toBe(true);
    expect(drops('-m conntrack ! --ctstate UNTRACKED --ctdir REPLY', { ct: 'untracked' })).toBe(false);
  });

  it.each([
    ['--ctexpire 10:20', /--ctexpire is not modelled/],
    ['--ctstatus DNAT', /unknown status 'DNAT'/],
    ['! --ctdir REPLY', /cannot be inverted/],
    ['--ctorigdst 10.0.0.0/255.0.255.0', /bad address/],
    ['', /needs one or more of its options/],
  ])('refuses -m conntrack %s by line and column', (options, reason) => {
    const problems = lintRule(`-m conntrack ${options} -j DROP`);
    expect(problems).toEqual([expect.stringMatching(reason)]);
    expect(problems[0]).toMatch(/^r\.rules:3:\d+: /);
  });
});
