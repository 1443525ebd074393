/**
 * Least-connection (net/netfilter/ipvs/ip_vs_lc.c: ip_vs_lc_schedule) with the load measure
 * of include/net/ip_vs.h ip_vs_dest_conn_overhead.
 *
 * The scan is over svc->destinations, newest first (ip_vs_add_dest uses list_add_rcu), so
 * natsim's svc.dests (-a order) is walked backwards; on equal overhead the first one met, the
 * most recently added, wins.
 */
import type { IpvsDest, IpvsService, Scheduler } from '../service.js';

/**
 * ip_vs_dest_conn_overhead: an active connection is taken to cost 256 inactive ones, so one
 * active connection outweighs up to 255 inactive ones. Unsigned in the kernel.
 */
export function connOverhead(dest: IpvsDest): number {
  return ((dest.activeConns << 8) + dest.inactConns) >>> 0;
}

export function lcScheduler(): Scheduler {
  return { schedule: lcSchedule };
}

/** The lowest overhead among servers neither quiesced (weight 0) nor overloaded; ties keep the first. */
function lcSchedule(svc: IpvsService): IpvsDest | null {
  let least: IpvsDest | null = null;
  let loh = 0;
  for (let i = svc.dests.length - 1; i >= 0; i--) {
    const dest = svc.dests[i]!;
    if (dest.overloaded || dest.weight === 0) continue;
    const doh = connOverhead(dest);
    if (least === null || doh < loh) {
      least = dest;
      loh = doh;
    }
  }
  return least;
}
