/**
 * Which finished flows the page keeps, in bounded memory: every failed flow up to a cap (the
 * first ones drawn with their packets), the busiest of the others, and a uniform sample of all
 * the others for the conntrack timeline (reservoir sampling, Vitter's algorithm R, from a fixed
 * seed so that a report is the same on every run).
 */
import { Prng } from '../../sim/prng.js';
import { flowFailed, LIMITS, type FlowRecord } from './model.js';

const SAMPLE_SEED = 21;

export class FlowSelection {
  readonly failed: FlowRecord[] = [];
  /** The busiest flows that did not fail, busiest first. */
  readonly top: FlowRecord[] = [];
  readonly sample: FlowRecord[] = [];
  flows = 0;
  packets = 0;
  failedCount = 0;
  entries = 0;
  private offered = 0;
  private readonly prng = new Prng(SAMPLE_SEED);

  add(flow: FlowRecord): void {
    this.flows++;
    this.packets += flow.packets;
    if (flow.created !== null) this.entries++;
    if (flowFailed(flow)) {
      this.failedCount++;
      if (this.failed.length < LIMITS.failedListed) this.failed.push(flow);
      // listed, not drawn: its packets are not needed any more
      if (this.failed.length > LIMITS.failedDrawn) flow.kept.length = 0;
      return;
    }
    this.addTop(flow);
    this.addSample(flow);
  }

  private addTop(flow: FlowRecord): void {
    const top = this.top;
    if (top.length === LIMITS.topFlows && top[top.length - 1]!.packets >= flow.packets) return;
    let at = top.findIndex((f) => f.packets < flow.packets);
    if (at < 0) at = top.length;
    top.splice(at, 0, flow);
    if (top.length > LIMITS.topFlows) top.pop();
  }

  private addSample(flow: FlowRecord): void {
    const seen = ++this.offered;
    if (this.sample.length < LIMITS.sampledEntries) this.sample.push(flow);
    else {
      const j = this.prng.below(seen);
      if (j < LIMITS.sampledEntries) this.sample[j] = flow;
    }
  }
}
