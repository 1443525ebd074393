/**
 * The retransmission timeout of an established connection as Linux computes it: the smoothed
 * RTT and its variance from each RTT sample (tcp_rtt_estimator, net/ipv4/tcp_input.c), the RTO
 * from them (__tcp_set_rto, tcp_bound_rto: srtt + rttvar, rttvar at least TCP_RTO_MIN, in
 * jiffies rounded up by usecs_to_jiffies), the tail loss probe's timeout
 * (tcp_schedule_loss_probe, tcp_output.c) and the time the timer runs.
 *
 * The timer runs on the tick `timeout` jiffies after the one it was armed in, without the timer
 * wheel's round-up tcp-delack.ts sees: fixtures/kernel/tcp-rto (6.18, HZ 250) measured an RTO
 * armed by a timer (so on a tick) 204.0 ms after it (51 jiffies) and its doubled successor
 * 408.0 ms (102 jiffies, where a level-1 timer of the wheel would have run 4-36 ms later).
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

/** When a timer armed at `now` for `timeout` jiffies runs (see above). */
export function xmitTimerAt(now: number, timeout: number): number {
  return jiffyStart(jiffiesAt(now) + timeout);
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
