/**
 * Round-robin (net/netfilter/ipvs/ip_vs_rr.c: ip_vs_rr_init_svc, ip_vs_rr_schedule).
 *
 * The kernel walks svc->destinations, which ip_vs_add_dest fills with list_add_rcu, i.e. at
 * the head: the list runs newest first, the reverse of the ipvsadm -a order that natsim's
 * svc.dests keeps. The position (sched_data) survives between calls and starts at the list
 * head, so the first connection goes to the last destination added.
 */
import type { IpvsDest, IpvsService, Scheduler } from '../service.js';

/** The list head, which sched_data points at before the first hit. */
const HEAD = -1;

export function rrScheduler(svc: Pick<IpvsService, 'dests'>): Scheduler {
  // natsim's destination set is fixed for the run, so the kernel's list order is fixed too.
  const list = [...svc.dests].reverse();
  let pos = HEAD;
  return {
    schedule(): IpvsDest | null {
      const hit = rrNext(list, pos);
      if (hit === null) return null; // sched_data is left where it was
      pos = hit;
      return list[hit]!;
    },
  };
}

/**
 * The circular scan after `from`, ending with `from` itself; weight 0 (quiesced) and
 * overloaded servers are skipped. From the head one pass covers every entry, hence no second.
 */
function rrNext(list: readonly IpvsDest[], from: number): number | null {
  let i = from;
  for (let pass = 0; pass < 2; pass++) {
    for (i++; i < list.length; i++) {
      const dest = list[i]!;
      if (!dest.overloaded && dest.weight > 0) return i;
      if (i === from) return null;
    }
    i = HEAD;
    if (from === HEAD) break;
  }
  return null;
}
