/**
 * A flow's fate, as `natsim diff` compares two runs: where its first packet went (forwarded,
 * delivered locally, or dropped and where), the tuple NAT gave it, and why it failed if it did.
 */
import type { CauseKind, FlowTuple } from './finding.js';

export interface FlowFate {
  readonly fate: 'forwarded' | 'local' | 'dropped';
  /** The hook that confirmed its entry, or where it was dropped (hook and kernel function). */
  readonly where: string | null;
  /** Why it did not complete (explain's cause), or null when it did. */
  reason: CauseKind | null;
  /** The tuple as the peer sees it after NAT (null when dropped before NAT decided). */
  readonly translated: FlowTuple | null;
  /** Packets of it that died. */
  dropped: number;
}

/** A fate with the flow it belongs to, as a run collects them. */
export interface TrackedFate {
  readonly flow: FlowTuple;
  readonly fate: FlowFate;
}
