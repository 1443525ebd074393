/**
 * Weighted round-robin (net/netfilter/ipvs/ip_vs_wrr.c: ip_vs_wrr_gcd_weight,
 * ip_vs_wrr_max_weight, ip_vs_wrr_init_svc, ip_vs_wrr_dest_changed, ip_vs_wrr_schedule).
 *
 * The walk is over svc->destinations, newest first (ip_vs_add_dest uses list_add_rcu), so the
 * reverse of natsim's svc.dests. The starting mark is not the one init_svc alone would give:
 * ipvsadm -A binds the scheduler to an empty service (cw 0) and each -a then calls
 * ip_vs_wrr_dest_changed, which keeps the current weight cw unless it is 0 or above the new
 * maximum. The first add sets cw to that server's mw, which is 1, and later adds leave a 1
 * alone, so unless the first server added had weight 0 the first round is at cw 1 and visits
 * every server before the weighted rounds start. That history is replayed from the -a order.
 */
import type { IpvsDest, IpvsService, Scheduler } from '../service.js';

/** mark->cl pointing at the list head rather than at a destination. */
const HEAD = -1;

/** struct ip_vs_wrr_mark: cl as an index into the kernel-ordered list. */
interface WrrMark {
  cl: number;
  cw: number;
  mw: number;
  di: number;
}

export function wrrScheduler(svc: Pick<IpvsService, 'dests'>): Scheduler {
  const mark = markAfterAdds(svc.dests);
  // natsim's destination set is fixed for the run, so the kernel's list order is fixed too.
  const list = [...svc.dests].reverse();
  return { schedule: () => wrrSchedule(list, mark) };
}

/** lib/math/gcd.c. */
export function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** ip_vs_wrr_gcd_weight: gcd of the positive weights, 1 when there are none. */
function gcdWeight(dests: readonly IpvsDest[]): number {
  let g = 0;
  for (const d of dests) if (d.weight > 0) g = g > 0 ? gcd(d.weight, g) : d.weight;
  return g || 1;
}

/** ip_vs_wrr_max_weight. */
function maxWeight(dests: readonly IpvsDest[]): number {
  let w = 0;
  for (const d of dests) if (d.weight > w) w = d.weight;
  return w;
}

/** init_svc on the empty service, then dest_changed once per destination in -a order. */
function markAfterAdds(added: readonly IpvsDest[]): WrrMark {
  const mark: WrrMark = { cl: HEAD, di: 1, mw: 0, cw: 0 };
  for (let n = 1; n <= added.length; n++) destChanged(mark, added.slice(0, n));
  return mark;
}

/** ip_vs_wrr_dest_changed; gcd and maximum do not depend on list order. */
function destChanged(mark: WrrMark, dests: readonly IpvsDest[]): void {
  mark.cl = HEAD;
  mark.di = gcdWeight(dests);
  // Lowered by di - 1 so that the last pass is at cw = 1 and catches weights below di.
  mark.mw = maxWeight(dests) - (mark.di - 1);
  if (mark.cw > mark.mw || mark.cw === 0) mark.cw = mark.mw;
  else if (mark.di > 1) mark.cw = Math.floor(mark.cw / mark.di) * mark.di + 1;
}

/**
 * ip_vs_wrr_schedule: continue after cl looking for weight >= cw; at the end of the list lower
 * cw by di and start again from the head. When cw wraps past 0 the scan has tried every
 * weight, so a second wrap (or a first one when the scan began at the head) means every
 * server is overloaded; after a wrap the last pass stops at where this call began.
 */
function wrrSchedule(list: readonly IpvsDest[], mark: WrrMark): IpvsDest | null {
  if (mark.mw === 0) return null; // no weight > 0: cl stays
  const last = mark.cl;
  let stop: number | null = null;
  let lastPass = false;
  let restarted = false;
  let i = mark.cl;
  for (;;) {
    for (i++; i < list.length; i++) {
      const dest = list[i]!;
      if (!dest.overloaded && dest.weight >= mark.cw) {
        mark.cl = i;
        return dest;
      }
      if (i === stop) {
        mark.cl = i;
        return null;
      }
    }
    i = HEAD; // list_for_each_entry_continue_rcu leaves the cursor on the head
    mark.cw -= mark.di;
    if (mark.cw <= 0) {
      mark.cw = mark.mw;
      if (lastPass || last === HEAD) {
        mark.cl = HEAD;
        return null;
      }
      restarted = true;
    }
    lastPass = mark.cw <= mark.di;
    if (lastPass && restarted && last !== HEAD) stop = last;
  }
}
