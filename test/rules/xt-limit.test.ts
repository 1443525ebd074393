/**
 * -m limit: libxt_limit's rate parsing, xt_limit.c's jiffy credits (iptables-legacy, HZ 250)
 * and add_nft_limit's nft_limit bucket (iptables-nft), with the kernel's figures: 3/min with a
 * burst of 5 passes 5 at once, then one every 20 s.
 */
import { describe, expect, it } from 'vitest';
import { errorOf } from './helpers.js';
import { accepted, LEGACY, xtTable } from './xt-helpers.js';
import { CREDITS_PER_JIFFY, parseLimitRate, user2credits } from '../../src/netfilter/rules/xt-limit.js';

const rule = '-A INPUT -m limit --limit 3/min --limit-burst 5 -j ACCEPT';

describe('-m limit rates (libxt_limit parse_rate)', () => {
  it('stores 1/10000 s per packet, any prefix of the unit naming it', () => {
    expect(parseLimitRate('3/min')).toBe(200000);
    expect(parseLimitRate('3/m')).toBe(200000);
    expect(parseLimitRate('1/sec')).toBe(10000);
    expect(parseLimitRate('10/day')).toBe(86400000);
    expect(parseLimitRate('5')).toBe(2000);
    expect(parseLimitRate('0/s')).toMatch(/^bad rate/);
    expect(parseLimitRate('3/fortnight')).toMatch(/^bad rate/);
    expect(parseLimitRate('20000/s')).toMatch(/^rate too fast/);
  });

  it('turns them into credits as user2credits does at HZ 250 (128 credits a jiffy)', () => {
    expect(CREDITS_PER_JIFFY).toBe(128);
    expect(user2credits(200000)).toBe(640000); // divided first: 20 × 250 × 128
    expect(user2credits(1000000)).toBe(3200000);
    expect(user2credits(10000)).toBe(32000);
  });
});

describe('-m limit in iptables-legacy (xt_limit.c limit_mt, jiffies)', () => {
  const t = () => xtTable(rule, { legacy: true, policy: 'DROP' });

  it('passes the burst at once, then one packet per 20 s, counted in whole jiffies', () => {
    const limit = t();
    expect(accepted(limit, [0, 0, 0, 0, 0, 0, 0])).toEqual([true, true, true, true, true, false, false]);
    // jiffy 4999 is 128 credits short; jiffy 5000 (20 s) pays the 640000
    expect(accepted(limit, [19.996, 20, 20.5, 39.999, 40])).toEqual([false, true, false, false, true]);
  });

  it('refills to the burst and no further after a long pause', () => {
    const limit = t();
    accepted(limit, [0, 0, 0, 0, 0]);
    expect(accepted(limit, [3600, 3600, 3600, 3600, 3600, 3600])).toEqual([true, true, true, true, true, false]);
  });

  it('refuses what limit_mt_check refuses: a burst of 0, a burst overflowing the u32 credits', () => {
    expect(errorOf(`${LEGACY}*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m limit --limit 1/s --limit-burst 0 -j ACCEPT\nCOMMIT\n`)).toBe('r:4:13: the kernel refuses this limit: overflow, try lower (10000/0)');
    expect(errorOf(`${LEGACY}*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m limit --limit 1/day --limit-burst 10000 -j ACCEPT\nCOMMIT\n`)).toBe('r:4:13: the kernel refuses this limit: overflow, try lower (864000000/10000)');
  });

  it('refuses what libxt_limit refuses: an inverted limit, a burst over 10000', () => {
    expect(errorOf(`*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m limit ! --limit 1/s -j ACCEPT\nCOMMIT\n`)).toBe('r:3:21: -m limit cannot invert --limit');
    expect(errorOf(`*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m limit --limit-burst 10001 -j ACCEPT\nCOMMIT\n`)).toBe("r:3:19: --limit-burst needs a whole number from 0 to 10000, got '10001'");
  });

  it('defaults to 3/hour with a burst of 5', () => {
    const limit = xtTable('-A INPUT -m limit -j ACCEPT', { legacy: true, policy: 'DROP' });
    expect(accepted(limit, [0, 0, 0, 0, 0, 0, 1199.996, 1200])).toEqual([true, true, true, true, true, false, false, true]);
  });
});

describe('-m limit in iptables-nft (add_nft_limit → nft_limit_pkts_eval, nanoseconds)', () => {
  const t = () => xtTable(rule, { policy: 'DROP' });

  it('passes the burst at once, then one packet per 20 s to the nanosecond', () => {
    const limit = t();
    expect(accepted(limit, [0, 0, 0, 0, 0, 0])).toEqual([true, true, true, true, true, false]);
    expect(accepted(limit, [20 - 1e-9, 20, 40 - 1e-9, 40])).toEqual([false, true, false, true]);
  });

  it('takes a burst of 0 as nft_limit_init does: NFT_LIMIT_PKT_BURST_DEFAULT (5)', () => {
    const limit = xtTable('-A INPUT -m limit --limit 1/s --limit-burst 0 -j ACCEPT', { policy: 'DROP' });
    expect(accepted(limit, [0, 0, 0, 0, 0, 0])).toEqual([true, true, true, true, true, false]);
  });

  it('keeps a rate that add_nft_limit can state per second exactly: 7/s is one per 142857142 ns', () => {
    const limit = xtTable('-A INPUT -m limit --limit 7/s --limit-burst 1 -j ACCEPT', { policy: 'DROP' });
    expect(accepted(limit, [0, 0.142857141, 0.142857142])).toEqual([true, false, true]);
  });
});
