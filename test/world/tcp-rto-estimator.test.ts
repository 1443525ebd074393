/**
 * The RTO natsim computes (src/sockets/tcp-rto.ts: tcp_rtt_estimator, __tcp_set_rto,
 * tcp_schedule_loss_probe's timeout), worked by hand from the kernel's integer arithmetic, and
 * for the RTT of fixtures/kernel/tcp-rto: the client's SYN and its ACK of the SYN-ACK 443 µs apart
 * at rt (43001), 51 jiffies (204 ms at HZ 250), what the kernel's timer ran after (204.0 ms from
 * the tick of the loss probe to the RTO).
 */
import { describe, expect, it } from 'vitest';
import { RttEstimator, TCP_RTO_MAX, usecsToJiffies, wheelGranularity, xmitTimerAt } from '../../src/sockets/tcp-rto.js';

function estimator(...samplesUs: number[]): RttEstimator {
  const e = new RttEstimator();
  // snd_una passes rtt_seq at every sample after the first (a new window of data each time)
  samplesUs.forEach((us, i) => e.sample(us, 1000 * i + 1, 1000 * (i + 1)));
  return e;
}

describe('the retransmission timeout (tcp_rtt_estimator, __tcp_set_rto)', () => {
  it('the recording\'s RTT, 443 µs: srtt 8 × 443, rttvar TCP_RTO_MIN, RTO 200.443 ms rounded up to 51 jiffies', () => {
    const e = estimator(443);
    expect(e.srttUs).toBe(3544);
    expect(e.rto()).toBe(51);
  });

  it('an RTT of 0 (srtt at least 1): the RTO is TCP_RTO_MIN, 50 jiffies', () => {
    expect(estimator(0).srttUs).toBe(1);
    expect(estimator(0).rto()).toBe(50);
  });

  it('a first RTT of 100 ms: mdev 2 × RTT, below TCP_RTO_MIN, so 300 ms; a second of 20 ms: srtt 90 ms, rttvar 203.75 ms, 74 jiffies', () => {
    expect(estimator(100_000).rto()).toBe(75);
    const e = estimator(100_000, 20_000);
    expect(e.srttUs).toBe(720_000);
    expect(e.rto()).toBe(usecsToJiffies(90_000 + 203_750));
    expect(e.rto()).toBe(74);
  });

  it('at most TCP_RTO_MAX (120 s)', () => {
    expect(estimator(200e6).rto()).toBe(TCP_RTO_MAX);
    expect(TCP_RTO_MAX).toBe(30_000);
  });
});

describe('the tail loss probe\'s timeout (tcp_schedule_loss_probe)', () => {
  it('one segment in flight: 2 × srtt rounded up + TCP_RTO_MIN, capped by the RTO\'s time', () => {
    const e = estimator(443);
    expect(e.lossProbeTimeout(1, 204_000)).toBe(51);
    expect(e.lossProbeTimeout(1, 150_000)).toBe(38);
  });

  it('more than one: 2 × srtt + TCP_TIMEOUT_MIN (2 jiffies); no RTT yet: TCP_TIMEOUT_INIT', () => {
    expect(estimator(443).lossProbeTimeout(3, 204_000)).toBe(3);
    expect(new RttEstimator().lossProbeTimeout(1, 0)).toBe(250);
  });
});

describe('when the timer runs', () => {
  it('below 63 jiffies on the tick `timeout` jiffies after the one it was armed in', () => {
    expect(xmitTimerAt(1_000_040_000, 51)).toBe(1_204_000_000);
    expect(xmitTimerAt(1_204_000_000, 51)).toBe(1_408_000_000);
  });

  it('further ahead, rounded up to the wheel level\'s granularity: jiffy 301 + 102 runs at 408', () => {
    expect([62, 63, 503, 504, 4031, 4032, 30_000].map(wheelGranularity)).toEqual([1, 8, 8, 64, 64, 512, 512]);
    expect(xmitTimerAt(1_204_000_000, 102)).toBe(1_632_000_000);
  });
});
