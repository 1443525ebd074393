/**
 * A flow's fate, as `natsim diff` compares two runs: where its first packet went (forwarded,
 * delivered locally, or dropped and where), the tuple NAT gave it, and why it failed if it did.
 *
 * A run keeps one small FateRecord per flow (numbers and an interned hook name, no text), and
 * hands its fates over as one signature string per flow: diff compares signatures and turns
 * back into FlowFates only the flows whose fate changed — a 1M-packet capture has some 80,000
 * flows, of which a what-if usually changes a handful.
 */
import { Tuple } from '../netfilter/conntrack/tuple.js';
import type { CauseKind, FlowTuple } from './finding.js';
import { flowTuple } from './flow-tuple.js';

export type FateKind = 'forwarded' | 'local' | 'dropped';

export interface FlowFate {
  readonly fate: FateKind;
  /** The hook that confirmed its entry, or where it was dropped (hook and kernel function). */
  readonly where: string;
  /** Why it did not complete (explain's cause), or null when it did. */
  readonly reason: CauseKind | null;
  /** The tuple as the peer sees it after NAT (null when dropped before NAT decided). */
  readonly translated: FlowTuple | null;
  /** Packets of it that died. */
  readonly dropped: number;
}

/** A flow's fate while its run goes on: explain sets the reason, later drops count up. */
export class FateRecord {
  reason: CauseKind | null = null;
  dropped: number;

  constructor(
    readonly fate: FateKind,
    readonly where: string,
    /** The translated tuple, numbers only (a copy: nothing of the entry is kept). */
    readonly translated: Tuple | null,
    dropped: number,
  ) {
    this.dropped = dropped;
  }
}

/** A flow's identity in a run, before its `#life` (collect.ts): its original tuple's numbers. */
export function tupleKey(t: Tuple): string {
  return `${t.proto} ${t.src} ${t.srcU} ${t.dst} ${t.dstU}`;
}

function keyTuple(key: string): Tuple {
  const [proto, src, srcU, dst, dstU] = key.split(' ').map(Number);
  return new Tuple(src!, srcU!, dst!, dstU!, proto!);
}

/** The original tuple a flow id (`key#life`) names, and the life. */
export function flowOfId(id: string): { readonly flow: FlowTuple; readonly life: number } {
  const hash = id.lastIndexOf('#');
  return { flow: flowTuple(keyTuple(id.slice(0, hash))), life: Number(id.slice(hash + 1)) };
}

/** One line that is equal for two records exactly when their fates are: `where` last, as it may hold spaces. */
export function fateSignature(r: FateRecord): string {
  return `${r.fate},${r.reason ?? ''},${r.dropped},${r.translated === null ? '' : tupleKey(r.translated)},${r.where}`;
}

/** The fate a signature stands for. */
export function fateOfSignature(sig: string): FlowFate {
  const parts = sig.split(',');
  const [fate, reason, dropped, translated] = parts;
  return {
    fate: fate as FateKind,
    where: parts.slice(4).join(','),
    reason: reason === '' ? null : (reason as CauseKind),
    translated: translated === '' ? null : flowTuple(keyTuple(translated!)),
    dropped: Number(dropped),
  };
}
