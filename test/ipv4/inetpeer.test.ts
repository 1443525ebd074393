/**
 * The inet_peer of one source (ipv4/inetpeer.ts) against what the kernel did in
 * fixtures/kernel/icmp-redirect: 80 datagrams 35 ms apart needing a redirect, then two to a
 * closed port of the router, 140 ms after the last redirect and 1.5 s later.
 */
import { describe, expect, it } from 'vitest';
import { InetPeers } from '../../src/ipv4/inetpeer.js';

const MS = 1e6;
const PEER = 0x0a000301;

describe('ip_rt_send_redirect backoff and the rate tokens it shares with icmp_send', () => {
  it('redirects the datagrams the kernel redirected: 20 ms << n after the last', () => {
    const peers = new InetPeers();
    const sent = Array.from({ length: 80 }, (_, i) => i).filter((i) => peers.redirect(PEER, 1000 * MS + i * 35 * MS));
    expect(sent).toEqual([0, 2, 5, 10, 20, 39, 76]);
  });

  it('leaves the port unreachable 140 ms after the last redirect unsent, and sends the one 1.5 s later', () => {
    const peers = new InetPeers();
    const t0 = 1000 * MS;
    for (let i = 0; i < 80; i++) peers.redirect(PEER, t0 + i * 35 * MS);
    const last = t0 + 76 * 35 * MS;
    expect(peers.xrlimAllow(PEER, last + 140 * MS, false)).toBe(false);
    expect(peers.xrlimAllow(PEER, last + 1640 * MS, false)).toBe(true);
  });

  it('sends no more than ip_rt_redirect_number (9), and starts again after ip_rt_redirect_silence (20.48 s) without one', () => {
    const peers = new InetPeers();
    let n = 0;
    let t = 0;
    for (; t < 60_000 * MS; t += 10 * MS) if (peers.redirect(PEER, t)) n++;
    expect(n).toBe(9); // every 10 ms keeps rate_last fresh: silence never comes
    expect(peers.redirect(PEER, t + 20_481 * MS)).toBe(true);
  });

  it('keeps each peer apart, and starts a new one with a full bucket (inet_getpeer: rate_last 60 s back)', () => {
    const peers = new InetPeers();
    peers.redirect(PEER, 0);
    expect(peers.xrlimAllow(PEER + 1, 0, false)).toBe(true);
    expect(Array.from({ length: 8 }, () => peers.xrlimAllow(PEER + 2, 5 * MS, false)).filter(Boolean)).toHaveLength(6);
  });
});

describe('in jiffies (HZ 250), as the kernel counts', () => {
  it('lets the next redirect out only a tick after rate_last + (ip_rt_redirect_load << n): 5 << 1 = 10 jiffies = 40 ms', () => {
    const early = new InetPeers();
    early.redirect(PEER, 0);
    expect(early.redirect(PEER, 43.9 * MS)).toBe(false); // jiffy 10: not time_after
    const late = new InetPeers();
    late.redirect(PEER, 0);
    expect(late.redirect(PEER, 44 * MS)).toBe(true); // jiffy 11
  });

  it('refills whole ticks: a /64 ICMPv6 limit of 25 >> 2 = 6 jiffies is 24 ms, not 25', () => {
    const peers = new InetPeers();
    for (let i = 0; i < 6; i++) expect(peers.xrlimAllow(PEER, 0, false, 6)).toBe(true);
    expect(peers.xrlimAllow(PEER, 0, false, 6)).toBe(false);
    expect(peers.xrlimAllow(PEER, 20 * MS, false, 6)).toBe(false); // 5 ticks
    expect(peers.xrlimAllow(PEER, 24 * MS, false, 6)).toBe(true); // 6 ticks since 0
  });
});

