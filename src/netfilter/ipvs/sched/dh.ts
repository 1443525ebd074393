/**
 * Destination hashing (net/netfilter/ipvs/ip_vs_dh.c: ip_vs_dh_hashkey, ip_vs_dh_reassign,
 * ip_vs_dh_schedule) with hash_32 from include/linux/hash.h.
 *
 * Byte order: the kernel hashes ntohl(daddr), the host-order value natsim already holds.
 * The table is dealt from svc->destinations, newest first (ip_vs_add_dest uses list_add_rcu),
 * i.e. the reverse of natsim's -a ordered svc.dests; one bucket per turn whatever the weight
 * (unlike sh). Each add rebuilds it whole, so the final set alone determines it.
 */
import type { IpvsDest, IpvsService, SchedPacket, Scheduler } from '../service.js';
import { hash32 } from './sh.js';

/** IP_VS_DH_TAB_BITS: no Kconfig entry, so the #ifndef default of 8. */
const DH_TAB_BITS = 8;
const DH_TAB_SIZE = 1 << DH_TAB_BITS;

export function dhScheduler(svc: Pick<IpvsService, 'dests'>): Scheduler {
  const buckets = dhReassign([...svc.dests].reverse());
  return {
    schedule: (_service: IpvsService, pkt: SchedPacket) => dhGet(buckets, pkt.daddr),
  };
}

/** ip_vs_dh_reassign: bucket i holds list[i mod n], weight 0 servers included. */
function dhReassign(list: readonly IpvsDest[]): (IpvsDest | null)[] {
  const buckets: (IpvsDest | null)[] = [];
  for (let i = 0; i < DH_TAB_SIZE; i++) buckets.push(list.length === 0 ? null : list[i % list.length]!);
  return buckets;
}

/**
 * ip_vs_dh_schedule: the hashed server or nothing; there is no fallback. A listed destination
 * always has IP_VS_DEST_F_AVAILABLE, so only weight and overload are left to test.
 */
function dhGet(buckets: readonly (IpvsDest | null)[], daddr: number): IpvsDest | null {
  const dest = buckets[hash32(daddr, DH_TAB_BITS)]!;
  if (dest === null || dest.weight <= 0 || dest.overloaded) return null;
  return dest;
}
