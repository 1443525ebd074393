/**
 * icmpv4_xrlim_allow / inet_peer_xrlim_allow (net/ipv4/icmp.c, net/ipv4/inetpeer.c): ICMP
 * errors to one peer are limited to one per net.ipv4.icmp_ratelimit (1 s) with a burst of
 * XRLIM_BURST_FACTOR (6); a new peer starts with a full bucket. Loopback is never limited.
 * ip_error spends the same peer's tokens first (its own cost and a burst of 5: ip_rt_error_cost,
 * ip_rt_error_burst), so the two checks share one bucket per peer, as they share inet_peer's
 * rate_tokens. (The global icmp_msgs_per_sec limit is not modelled.)
 */
const RATELIMIT_NS = 1e9;
const XRLIM_BURST_FACTOR = 6;

export class IcmpRateLimit {
  private readonly peers = new Map<number, { tokens: number; last: number }>();

  /**
   * `interval`: the ns one error costs (net.ipv4.icmp_ratelimit; icmpv6_xrlim_allow passes its
   * own); `burst`: how many errors' worth of tokens the bucket holds at most.
   */
  allow(peer: number, now: number, loopback: boolean, interval = RATELIMIT_NS, burst = XRLIM_BURST_FACTOR): boolean {
    if (loopback) return true;
    // inet_getpeer starts rate_last 60 s in the past, so the first bucket is full
    const state = this.peers.get(peer) ?? { tokens: 0, last: now - 60e9 };
    let tokens = Math.min(state.tokens + (now - state.last), burst * interval);
    const allowed = tokens >= interval;
    if (allowed) tokens -= interval;
    this.peers.set(peer, { tokens, last: now });
    return allowed;
  }
}
