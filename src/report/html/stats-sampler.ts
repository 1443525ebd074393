/**
 * The conntrack -S counters along a run, in at most 2 × LIMITS.statsPoints samples however
 * long it is: a sample at the first event of every `step` ns of virtual time, and when there
 * are too many the step doubles and each new interval keeps its first, so the points stay
 * evenly spread.
 */
import type { ConntrackStats } from '../../netfilter/conntrack/stats.js';
import { LIMITS, type StatsSeries } from './model.js';

/** The first step: 10 ms of virtual time. */
const FIRST_STEP_NS = 10_000_000;

export class StatsSampler {
  private step = FIRST_STEP_NS;
  private next = 0;
  readonly series: StatsSeries;

  constructor(private readonly stats: ConntrackStats) {
    this.series = { fields: stats.fields, times: [], values: [] };
  }

  /** Called with every event's time: samples when the clock has passed the next point. */
  at(time: number): void {
    if (time < this.next) return;
    this.take(time);
    this.next = (Math.floor(time / this.step) + 1) * this.step;
    if (this.series.times.length >= 2 * LIMITS.statsPoints) this.thin();
  }

  /** The counters when the run ended. */
  finish(time: number): void {
    if (this.series.times.at(-1) !== time) this.take(time);
  }

  private take(time: number): void {
    const total = this.stats.total();
    this.series.times.push(time);
    this.series.values.push(this.series.fields.map((f) => total[f]));
  }

  /** Doubles the step until the samples fit, keeping the first of each step's interval. */
  private thin(): void {
    const { times, values } = this.series;
    while (times.length > LIMITS.statsPoints) {
      this.step *= 2;
      let w = 0;
      for (let r = 0; r < times.length; r++) {
        if (w > 0 && Math.floor(times[r]! / this.step) === Math.floor(times[w - 1]! / this.step)) continue;
        times[w] = times[r]!;
        values[w++] = values[r]!;
      }
      times.length = w;
      values.length = w;
    }
    this.next = (Math.floor(times.at(-1)! / this.step) + 1) * this.step;
  }
}
