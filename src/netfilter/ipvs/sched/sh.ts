/**
 * Source hashing (net/netfilter/ipvs/ip_vs_sh.c: ip_vs_sh_hashkey, ip_vs_sh_get,
 * ip_vs_sh_get_fallback, ip_vs_sh_reassign, ip_vs_sh_get_port, ip_vs_sh_schedule) with hash_32
 * from include/linux/hash.h.
 *
 * Byte order: the kernel hashes ntohl(saddr) + ntohs(sport), the host-order values, which are
 * exactly natsim's numbers (10.0.0.1 = 0x0a000001), so they are used as they are.
 * The table is tiled from svc->destinations, newest first (ip_vs_add_dest uses list_add_rcu),
 * i.e. the reverse of natsim's -a ordered svc.dests. Each add/edit rebuilds it whole, so the
 * final set alone determines it.
 */
import type { IpvsDest, IpvsService, SchedPacket, Scheduler } from '../service.js';

/** CONFIG_IP_VS_SH_TAB_BITS default (Kconfig: 8). */
const SH_TAB_BITS = 8;
const SH_TAB_SIZE = 1 << SH_TAB_BITS;
const SH_TAB_MASK = SH_TAB_SIZE - 1;

/** GOLDEN_RATIO_32. */
const GOLDEN_RATIO_32 = 0x61c88647;

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_SCTP = 132;

/** hash_32 (generic; x86 has no arch version): the top `bits` of val * GOLDEN_RATIO_32. */
export function hash32(val: number, bits: number): number {
  return Math.imul(val, GOLDEN_RATIO_32) >>> (32 - bits);
}

export function shScheduler(svc: Pick<IpvsService, 'dests'>): Scheduler {
  const buckets = shReassign([...svc.dests].reverse());
  return {
    schedule: (service: IpvsService, pkt: SchedPacket) => {
      // ip_vs_sh_get_port: only with the sh-port flag; the source port of TCP, UDP and SCTP.
      const port = service.spec.flags.port ? shGetPort(pkt) : 0;
      const get = service.spec.flags.fallback ? shGetFallback : shGet;
      return get(buckets, pkt.saddr, port);
    },
  };
}

/**
 * ip_vs_sh_reassign: buckets dealt round the list, each destination taking `weight`
 * consecutive buckets (one when its weight is 0) before the next.
 */
function shReassign(list: readonly IpvsDest[]): (IpvsDest | null)[] {
  const buckets: (IpvsDest | null)[] = [];
  let p = 0;
  let count = 0;
  for (let i = 0; i < SH_TAB_SIZE; i++) {
    if (list.length === 0) {
      buckets.push(null);
      continue;
    }
    const dest = list[p]!;
    buckets.push(dest);
    if (++count >= dest.weight) {
      p = (p + 1) % list.length;
      count = 0;
    }
  }
  return buckets;
}

/** ip_vs_sh_hashkey; the sum wraps as u32 before hashing. */
function shHashkey(addr: number, port: number, offset: number): number {
  return (offset + hash32((port + addr) >>> 0, SH_TAB_BITS)) & SH_TAB_MASK;
}

/** is_unavailable (ip_vs_mh.c has the same helper). */
export function isUnavailable(dest: IpvsDest): boolean {
  return dest.weight <= 0 || dest.overloaded;
}

function shGet(buckets: readonly (IpvsDest | null)[], addr: number, port: number): IpvsDest | null {
  const dest = buckets[shHashkey(addr, port, 0)]!;
  return dest === null || isUnavailable(dest) ? null : dest;
}

/**
 * ip_vs_sh_get_fallback: when the hashed server is unavailable, walk the table from the
 * original hash (deterministic rather than random) re-hashing with each offset.
 */
function shGetFallback(buckets: readonly (IpvsDest | null)[], addr: number, port: number): IpvsDest | null {
  const ihash = shHashkey(addr, port, 0);
  const first = buckets[ihash]!;
  if (first === null) return null;
  if (!isUnavailable(first)) return first;
  for (let offset = 0; offset < SH_TAB_SIZE; offset++) {
    const roffset = (offset + ihash) % SH_TAB_SIZE;
    const dest = buckets[shHashkey(addr, port, roffset)]!;
    if (dest === null) break;
    if (!isUnavailable(dest)) return dest;
  }
  return null;
}

/**
 * ip_vs_sh_get_port (ip_vs_mh_get_port is a copy): ports[0] of the transport header, the
 * source port; 0 for other protocols.
 */
export function shGetPort(pkt: SchedPacket): number {
  switch (pkt.proto) {
    case IPPROTO_TCP:
    case IPPROTO_UDP:
    case IPPROTO_SCTP:
      return pkt.sport;
    default:
      return 0;
  }
}
