/**
 * Which flows the page keeps, in bounded memory. A flow is offered once it settles (quiet, or
 * closing) and again if it moves after that; the selection keeps every failed flow up to a
 * cap (the first ones drawn with their packets), the busiest of the others, and a uniform
 * sample of all flows for the conntrack timeline (reservoir sampling, Vitter's algorithm R,
 * from a fixed seed so that a report is the same on every run). A flow it does not keep can
 * let its packets go.
 */
import { Prng } from '../../sim/prng.js';
import { flowFailed, LIMITS, type FlowRecord } from './model.js';

const SAMPLE_SEED = 21;

export class FlowSelection {
  readonly failed: FlowRecord[] = [];
  /** The busiest flows that did not fail, busiest first. */
  readonly top: FlowRecord[] = [];
  readonly sample: FlowRecord[] = [];
  /** Flows that failed, listed or not. */
  failedCount = 0;
  private readonly failedSeen = new WeakSet<FlowRecord>();
  private readonly sampled = new WeakSet<FlowRecord>();
  private offered = 0;
  private readonly prng = new Prng(SAMPLE_SEED);

  /** Whether the page may draw the flow's packets. */
  offer(flow: FlowRecord): boolean {
    this.addSample(flow);
    if (flowFailed(flow)) return this.addFailed(flow);
    return this.addTop(flow);
  }

  private addFailed(flow: FlowRecord): boolean {
    const wasTop = this.top.indexOf(flow);
    if (wasTop >= 0) this.top.splice(wasTop, 1);
    if (!this.failedSeen.has(flow)) {
      this.failedSeen.add(flow);
      this.failedCount++;
      if (this.failed.length < LIMITS.failedListed) this.failed.push(flow);
    }
    const at = this.failed.indexOf(flow);
    return at >= 0 && at < LIMITS.failedDrawn;
  }

  private addTop(flow: FlowRecord): boolean {
    const top = this.top;
    const was = top.indexOf(flow);
    if (was >= 0) top.splice(was, 1);
    else if (top.length === LIMITS.topFlows && top[top.length - 1]!.packets >= flow.packets) return false;
    let at = top.findIndex((f) => f.packets < flow.packets);
    if (at < 0) at = top.length;
    top.splice(at, 0, flow);
    if (top.length > LIMITS.topFlows) top.pop()!.kept.length = 0;
    return true;
  }

  private addSample(flow: FlowRecord): void {
    if (this.sampled.has(flow)) return;
    this.sampled.add(flow);
    const seen = ++this.offered;
    if (this.sample.length < LIMITS.sampledEntries) this.sample.push(flow);
    else {
      const j = this.prng.below(seen);
      if (j < LIMITS.sampledEntries) this.sample[j] = flow;
    }
  }
}
