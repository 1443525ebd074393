/**
 * Expiry (gc_worker in net/netfilter/nf_conntrack_core.c): entries whose timeout has passed are
 * reaped when a lookup meets them and by a periodic scan. The kernel's scan adapts its pace
 * (GC_SCAN_INTERVAL_MIN 1 s to _MAX 60 s); natsim reaps every second of virtual time, and
 * stamps each DESTROY with the moment the entry expired — the earliest the kernel reports it.
 * What has expired comes from the expiry wheel (expiry.ts), not from a walk of the table.
 */
import type { NetfilterNet } from '../net.js';
import type { Conn } from './conn.js';

const GC_INTERVAL_NS = 1e9;

export function gcIfDue(net: NetfilterNet, now: number): void {
  if (now - net.lastGc < GC_INTERVAL_NS) return;
  gcSweep(net, now);
}

/** Reaps every entry that has expired by `now`. */
export function gcSweep(net: NetfilterNet, now: number): void {
  net.lastGc = now;
  const expired = net.expiry.takeExpired(now);
  for (const ct of expired.sort(byExpiry)) net.destroy(ct, ct.timeout);
}

/** Reaped in the order they expired; entries expiring together in the order they were created. */
function byExpiry(a: Conn, b: Conn): number {
  return a.timeout - b.timeout || a.id - b.id;
}
