/**
 * struct inet_peer (net/ipv4/inetpeer.c): what the host remembers about one remote address,
 * found by inet_getpeer_v4 (or _v6). natsim keeps what its ICMP limits read:
 * - inet_peer_xrlim_allow (icmpv4_xrlim_allow, icmpv6_xrlim_allow): ICMP errors to the peer are
 *   limited to one per net.ipv4.icmp_ratelimit (1 s) with a burst of XRLIM_BURST_FACTOR (6); a
 *   new peer starts with a full bucket. Loopback is never limited. ip_error spends the same
 *   tokens first (its own cost and a burst of 5: ip_rt_error_cost, ip_rt_error_burst).
 * - ip_rt_send_redirect (net/ipv4/route.c): the ICMP redirects sent to the peer, with the same
 *   rate_tokens and rate_last. A redirect after ip_rt_redirect_silence resets the tokens to 0
 *   and sets rate_last when it is sent, so an ICMP error to the same host right after a redirect
 *   finds the bucket empty (fixtures/kernel/icmp-redirect: the port unreachable 140 ms after
 *   the last redirect is not sent, the one 1.5 s later is).
 * All of it counts in jiffies (netfilter/rules/jiffies.ts, HZ 250), as the kernel does: a
 * limit's interval is whole ticks, and a time compares by the tick it falls in.
 * The global limit that both share is ipv4/icmp-global.ts.
 */
import { HZ, jiffiesAt } from '../netfilter/rules/jiffies.js';

const XRLIM_BURST_FACTOR = 6;
/** ip_rt_redirect_number, ip_rt_redirect_load (HZ/50) and ip_rt_redirect_silence ((HZ/50) << (9 + 1)), in jiffies. */
const REDIRECT_NUMBER = 9;
const REDIRECT_LOAD = HZ / 50;
const REDIRECT_SILENCE = REDIRECT_LOAD << 10;

interface Peer {
  rateTokens: number;
  rateLast: number;
  nRedirects: number;
}

export class InetPeers {
  private readonly peers = new Map<number, Peer>();

  /** inet_getpeer: a new peer's rate_last is 60 s in the past, so its bucket starts full. */
  private get(addr: number, now: number): Peer {
    let p = this.peers.get(addr);
    if (p === undefined) this.peers.set(addr, (p = { rateTokens: 0, rateLast: now - 60 * HZ, nRedirects: 0 }));
    return p;
  }

  /**
   * inet_peer_xrlim_allow at virtual time `time` (ns): `timeout` is the jiffies one error costs
   * (net.ipv4.icmp_ratelimit, 1 s; icmpv6_xrlim_allow passes its own, ip_error ip_rt_error_cost);
   * `burst` how many errors' worth of tokens the bucket holds at most.
   */
  xrlimAllow(addr: number, time: number, loopback: boolean, timeout = HZ, burst = XRLIM_BURST_FACTOR): boolean {
    if (loopback) return true;
    const now = jiffiesAt(time);
    const p = this.get(addr, now);
    const delta = now - p.rateLast;
    let tokens = p.rateTokens;
    if (delta !== 0) {
      p.rateLast = now;
      tokens = Math.min(tokens + delta, burst * timeout);
    }
    const allowed = tokens >= timeout;
    if (allowed) tokens -= timeout;
    p.rateTokens = tokens;
    return allowed;
  }

  /**
   * ip_rt_send_redirect's backoff at virtual time `time` (ns): the first ip_rt_redirect_number
   * redirects to the peer, each only once ip_rt_redirect_load << (redirects sent) has passed
   * since the last (time_after: a tick later than that); then none until the peer has needed none
   * for ip_rt_redirect_silence. True when a redirect goes out now (counted as sent even if
   * netfilter drops it, as the kernel counts it).
   */
  redirect(addr: number, time: number): boolean {
    const now = jiffiesAt(time);
    const p = this.get(addr, now);
    if (now > p.rateLast + REDIRECT_SILENCE) {
      p.rateTokens = 0;
      p.nRedirects = 0;
    }
    if (p.nRedirects >= REDIRECT_NUMBER) {
      p.rateLast = now;
      return false;
    }
    if (p.nRedirects !== 0 && now <= p.rateLast + (REDIRECT_LOAD << p.nRedirects)) return false;
    p.rateLast = now;
    p.nRedirects++;
    return true;
  }
}
