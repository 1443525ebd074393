/**
 * Expiry (gc_worker in net/netfilter/nf_conntrack_core.c): entries whose timeout has passed are
 * reaped when a lookup meets them and by a periodic scan. The kernel's scan adapts its pace
 * (GC_SCAN_INTERVAL_MIN 1 s to _MAX 60 s); natsim scans every second of virtual time, and
 * stamps each DESTROY with the moment the entry expired — the earliest the kernel reports it.
 */
import type { NetfilterNet } from '../net.js';
import { isExpired } from './core.js';
import type { Conn } from './conn.js';

const GC_INTERVAL_NS = 1e9;

export function gcIfDue(net: NetfilterNet, now: number): void {
  if (now - net.lastGc < GC_INTERVAL_NS) return;
  gcSweep(net, now);
}

/** Reaps every entry that has expired by `now`. */
export function gcSweep(net: NetfilterNet, now: number): void {
  net.lastGc = now;
  const expired: Conn[] = [];
  net.table.forEachConn((ct) => {
    if (isExpired(ct, now)) expired.push(ct);
  });
  for (const ct of expired.sort((a, b) => a.timeout - b.timeout)) net.destroy(ct, ct.timeout);
}
