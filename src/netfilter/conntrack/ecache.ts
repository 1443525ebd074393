/**
 * Conntrack events (net/netfilter/nf_conntrack_ecache.c), what `conntrack -E` shows: NEW when an
 * entry is confirmed, UPDATE when a later packet changed what the event mask covers — the TCP
 * state (IPCT_PROTOINFO), the first reply (IPCT_REPLY), ASSURED (IPCT_ASSURED) — delivered at
 * the confirm op as nf_ct_deliver_cached_events does, and DESTROY when the entry goes.
 * Nothing is kept or computed unless someone listens.
 */
import type { NetfilterNet } from '../net.js';
import { Status, type Conn } from './conn.js';

export type ConntrackEventType = 'NEW' | 'UPDATE' | 'DESTROY';

export interface ConntrackEventSink {
  /** `protoinfo`: the event carries the TCP state (IPCT_PROTOINFO, or any DESTROY). */
  emit(type: ConntrackEventType, ct: Conn, now: number, protoinfo: boolean): void;
}

/** The part of an entry whose change is an event: TCP state, SEEN_REPLY, ASSURED. */
function reportable(ct: Conn): number {
  return ((ct.tcp?.state ?? 0) << 2) | (ct.has(Status.SeenReply) ? 1 : 0) | (ct.has(Status.Assured) ? 2 : 0);
}

function stateChanged(before: number | undefined, now: number): boolean {
  return before === undefined || before >> 2 !== now >> 2;
}

export function eventNew(net: NetfilterNet, ct: Conn, now: number): void {
  const sink = net.events;
  if (!sink) return;
  const state = reportable(ct);
  net.reported.set(ct, state);
  sink.emit('NEW', ct, now, ct.tcp !== null && stateChanged(undefined, state));
}

/**
 * nf_ct_deliver_cached_events for a packet of an already confirmed entry — none for a dying one
 * (the TCP tracker killed it on this packet: its SEEN_REPLY, set after, goes unreported).
 */
export function deliverCachedEvents(net: NetfilterNet, ct: Conn, now: number): void {
  const sink = net.events;
  if (!sink || !ct.confirmed || ct.has(Status.Dying)) return;
  const before = net.reported.get(ct);
  const state = reportable(ct);
  if (before === state) return;
  net.reported.set(ct, state);
  sink.emit('UPDATE', ct, now, ct.tcp !== null && stateChanged(before, state));
}

export function eventDestroy(net: NetfilterNet, ct: Conn, now: number): void {
  const sink = net.events;
  if (!sink || !net.reported.delete(ct)) return;
  sink.emit('DESTROY', ct, now, ct.tcp !== null);
}
