/**
 * Weighted least-connection (net/netfilter/ipvs/ip_vs_wlc.c: ip_vs_wlc_schedule).
 *
 * The scan is over svc->destinations, newest first (ip_vs_add_dest uses list_add_rcu), so
 * natsim's svc.dests (-a order) is walked backwards. The kernel compares overhead/weight
 * without division, as loh * dw > doh * lw in 64 bits; BigInt keeps that product exact.
 */
import type { IpvsDest, IpvsService, Scheduler } from '../service.js';
import { connOverhead } from './lc.js';

export function wlcScheduler(): Scheduler {
  return { schedule: wlcSchedule };
}

/** ip_vs_dest_conn_overhead as wlc stores it: in an int, where lc keeps it unsigned. */
function overhead(dest: IpvsDest): number {
  return connOverhead(dest) | 0;
}

/**
 * The first server neither quiesced nor overloaded seeds the search; later ones replace it only
 * when strictly less loaded per unit of weight, so ties keep the earlier one. The second stage
 * does not test the weight: a weight 0 server can never compare lower.
 */
function wlcSchedule(svc: IpvsService): IpvsDest | null {
  const list = svc.dests;
  let i = list.length - 1;
  while (i >= 0 && (list[i]!.overloaded || list[i]!.weight <= 0)) i--;
  if (i < 0) return null;
  let least = list[i]!;
  let loh = overhead(least);
  for (i--; i >= 0; i--) {
    const dest = list[i]!;
    if (dest.overloaded) continue;
    const doh = overhead(dest);
    if (BigInt(loh) * BigInt(dest.weight) > BigInt(doh) * BigInt(least.weight)) {
      least = dest;
      loh = doh;
    }
  }
  return least;
}
