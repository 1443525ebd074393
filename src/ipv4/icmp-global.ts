/**
 * The host's global ICMP limit (net/ipv4/icmp.c icmp_global_allow, icmp_global_consume; per
 * network namespace since 6.12), shared by ICMP and ICMPv6 errors of the rate-limited types: a
 * bucket of net.ipv4.icmp_msgs_burst (50) credits refilled at icmp_msgs_per_sec (1000). An error
 * may go while credit is left; with none, the bucket refills first if HZ/50 (20 ms) have passed
 * since it last did, by msgs_per_sec for the time since (a second at most), up to the burst. An
 * error that then passes its peer's limit takes 0, 1 or 2 credits at random
 * (get_random_u32_below(3): one on average, and random so that the count does not leak the
 * limit's state to an attacker, CVE-2020-25705), which may leave the credit below zero.
 * fixtures/kernel/icmp-global-limit: bursts of 120 errors to 120 peers, 47, 54 and 48 answered.
 * Before "icmp: change the order of rate limits" (2024, in stable kernels too) icmp_global_allow
 * spent the credit itself, whatever the peer's limit then said; natsim spends it as 6.18 does
 * on every kernel profile.
 */
import type { Prng } from '../sim/prng.js';
import type { Sysctl } from '../host/sysctl.js';
import { HZ, jiffiesAt } from '../netfilter/rules/jiffies.js';

/** The least time between two refills, in jiffies (HZ / 50). */
const REFILL_AFTER = HZ / 50;

export class IcmpGlobal {
  private credit = 0;
  /** The jiffy of the last refill; null before the first (the bucket is then filled as after a second). */
  private stamp: number | null = null;

  /** `draw`: the stream the random credits come from (its own, so that NAT's draws stay as they were). */
  constructor(
    private readonly sysctl: Sysctl,
    private readonly draw: Prng,
  ) {}

  /** icmp_global_allow at virtual time `time` (ns): whether an error may go. */
  allow(time: number): boolean {
    if (this.credit > 0) return true;
    const now = jiffiesAt(time);
    const delta = this.stamp === null ? HZ : Math.min(now - this.stamp, HZ);
    if (delta < REFILL_AFTER) return false;
    const incr = Math.floor((this.sysctl.num('net.ipv4.icmp_msgs_per_sec') * delta) / HZ);
    if (incr === 0) return false;
    this.stamp = now;
    this.credit = Math.min(this.credit + incr, this.sysctl.num('net.ipv4.icmp_msgs_burst'));
    return true;
  }

  /** icmp_global_consume: an error passed its peer's limit and goes. */
  consume(): void {
    this.credit -= this.draw.below(3);
  }
}
