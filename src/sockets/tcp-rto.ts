/**
 * The retransmission timeout of an established connection as Linux computes it: the smoothed
 * RTT and its variance from each RTT sample (tcp_rtt_estimator, net/ipv4/tcp_input.c), the RTO
 * from them (__tcp_set_rto, tcp_bound_rto: srtt + rttvar, rttvar at least TCP_RTO_MIN, in
 * jiffies rounded up by usecs_to_jiffies), the tail loss probe's timeout
 * (tcp_schedule_loss_probe, tcp_output.c) and the time the timer runs.
 *
 * The timer runs on the tick `timeout` jiffies after the one it was armed in when that is less
 * than 63 jiffies ahead (the timer wheel's level 0), else on the first tick at or after it that
 * the level's granularity divides (8 jiffies below 504, 64 below 4032, …: calc_wheel_index).
 * fixtures/kernel/tcp-rto (6.18, HZ 250) and five earlier runs of its script measured it: an RTO
 * armed by the loss probe's timer (so on a tick) 204.0 ms after it every time, 51 jiffies with
 * no round-up; the second RTO, 102 jiffies after the first, 403.8-428.0 ms after it: 102-107
 * jiffies, as the level-1 rounding (to 102-109) of an expiry of unknown phase gives (natsim's
 * jiffy 0 is the run's start), less the first's own lateness; a probe or RTO armed at a data
 * segment's send 200.2-215.6 ms after it (51 jiffies from inside a jiffy, and the softirq's
 * latency on a shared 2-core machine).
 */
import { HZ, jiffiesAt, jiffyStart } from '../netfilter/rules/jiffies.js';

const USEC_PER_JIFFY = 1e6 / HZ;
/** TCP_RTO_MIN (HZ/5), tcp_rto_min_us's default: 200 ms. */
export const TCP_RTO_MIN_US = 200_000;
/** TCP_RTO_MAX (120 s) in jiffies. */
export const TCP_RTO_MAX = 120 * HZ;
/** TCP_TIMEOUT_MIN (2 jiffies) and TCP_TIMEOUT_INIT (1 s): a loss probe's floor and its timeout without an RTT. */
const TCP_TIMEOUT_MIN = 2;
const TCP_TIMEOUT_INIT = HZ;
/** TCP_TIMEOUT_FALLBACK (3 s): the RTO of a connection whose handshake gave no RTT sample (tcp_init_metrics). */
export const TCP_TIMEOUT_FALLBACK = 3 * HZ;

/** usecs_to_jiffies for HZ 250 (a divisor of 1000000): rounded up. */
export function usecsToJiffies(us: number): number {
  return Math.ceil(us / USEC_PER_JIFFY);
}

/** LVL_CLK_SHIFT, LVL_SIZE and LVL_DEPTH of kernel/time/timer.c for HZ above 100. */
const LVL_CLK_SHIFT = 3;
const LVL_SIZE = 64;
const LVL_DEPTH = 9;

/** LVL_GRAN of the wheel level calc_wheel_index puts a timer `delta` jiffies ahead in. */
export function wheelGranularity(delta: number): number {
  let lvl = 0;
  while (lvl < LVL_DEPTH - 1 && delta >= (LVL_SIZE - 1) << (lvl * LVL_CLK_SHIFT)) lvl++;
  return 1 << (lvl * LVL_CLK_SHIFT);
}

/** When a timer armed at `now` for `timeout` jiffies runs (see above). */
export function xmitTimerAt(now: number, timeout: number): number {
  const granularity = wheelGranularity(timeout);
  return jiffyStart(Math.ceil((jiffiesAt(now) + timeout) / granularity) * granularity);
}

/** tp->srtt_us (8 times the smoothed RTT), mdev_us, mdev_max_us, rttvar_us and rtt_seq. */
export class RttEstimator {
  srttUs = 0;
  private mdevUs = 0;
  private mdevMaxUs = 0;
  private rttvarUs = 0;
  private rttSeq = 0;

  /**
   * tcp_rtt_estimator: fold the sample `m` (µs) into srtt (7/8 old, 1/8 new) and mdev (3/4, 1/4);
   * rttvar follows mdev's maximum over a window of data (up to rtt_seq), never below
   * TCP_RTO_MIN, and decays by a quarter towards it once snd_una passes rtt_seq.
   */
  sample(mrttUs: number, sndUna: number, sndNxt: number): void {
    let m = Math.floor(mrttUs);
    let srtt = this.srttUs;
    if (srtt !== 0) {
      m -= srtt >> 3;
      srtt += m;
      if (m < 0) {
        m = -m - (this.mdevUs >> 2);
        if (m > 0) m >>= 3;
      } else {
        m -= this.mdevUs >> 2;
      }
      this.mdevUs += m;
      if (this.mdevUs > this.mdevMaxUs) {
        this.mdevMaxUs = this.mdevUs;
        if (this.mdevMaxUs > this.rttvarUs) this.rttvarUs = this.mdevMaxUs;
      }
      if (((sndUna - this.rttSeq) | 0) > 0) {
        if (this.mdevMaxUs < this.rttvarUs) this.rttvarUs -= (this.rttvarUs - this.mdevMaxUs) >> 2;
        this.rttSeq = sndNxt;
        this.mdevMaxUs = TCP_RTO_MIN_US;
      }
    } else {
      srtt = m << 3;
      this.mdevUs = m << 1;
      this.rttvarUs = this.mdevMaxUs = Math.max(this.mdevUs, TCP_RTO_MIN_US);
      this.rttSeq = sndNxt;
    }
    this.srttUs = Math.max(1, srtt);
  }

  /** __tcp_set_rto and tcp_bound_rto: srtt + rttvar in jiffies, at most TCP_RTO_MAX. */
  rto(): number {
    return Math.min(usecsToJiffies((this.srttUs >> 3) + this.rttvarUs), TCP_RTO_MAX);
  }

  /**
   * tcp_schedule_loss_probe's timeout: two smoothed RTTs plus TCP_RTO_MIN for a lone segment in
   * flight (the peer may delay its ACK) or TCP_TIMEOUT_MIN for more, TCP_TIMEOUT_INIT without an
   * RTT; never later than the RTO would run, `rtoDeltaUs` from now.
   */
  lossProbeTimeout(packetsOut: number, rtoDeltaUs: number): number {
    const timeout = this.srttUs ? usecsToJiffies(this.srttUs >> 2) + (packetsOut === 1 ? usecsToJiffies(TCP_RTO_MIN_US) : TCP_TIMEOUT_MIN) : TCP_TIMEOUT_INIT;
    return rtoDeltaUs > 0 ? Math.min(timeout, usecsToJiffies(rtoDeltaUs)) : timeout;
  }
}
