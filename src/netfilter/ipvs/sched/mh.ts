/**
 * Maglev hashing (net/netfilter/ipvs/ip_vs_mh.c: generate_hash_secret, ip_vs_mh_hashkey,
 * ip_vs_mh_permutate, ip_vs_mh_populate, ip_vs_mh_get, ip_vs_mh_get_fallback,
 * ip_vs_mh_gcd_weight, ip_vs_mh_shift_weight, ip_vs_mh_schedule) over hsiphash (siphash.ts).
 *
 * Byte order: ip_vs_mh_hashkey sums offset + ntohs(port) + ntohl(addr) into an unsigned int,
 * i.e. natsim's host-order numbers, and hashes that int's four bytes as they sit in memory:
 * little-endian on x86-64, which natsim models.
 * The lookup table is filled from svc->destinations, newest first (ip_vs_add_dest uses
 * list_add_rcu), the reverse of natsim's -a ordered svc.dests; the order decides which server
 * claims a contested slot. Each add rebuilds the whole table (populate overwrites every slot),
 * so the final set alone determines it. last_weight equals weight here: natsim never edits a
 * destination, and last_weight only differs after an edit to weight 0.
 * The hash keys are fixed constants in the kernel, so nothing here is random.
 */
import type { IpvsDest, IpvsService, SchedPacket, Scheduler } from '../service.js';
import { hsiphash, type SipKey } from './siphash.js';
import { isUnavailable, shGetPort } from './sh.js';
import { gcd } from './wrr.js';

/** The primes a table size is picked from. */
const PRIMES = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071] as const;
/** CONFIG_IP_VS_MH_TAB_INDEX default (Kconfig: 12). */
const CONFIG_MH_TAB_INDEX = 12;
const MH_TAB_BITS = Math.trunc(CONFIG_MH_TAB_INDEX / 2);
/** primes[12 - 8] = 4093 slots. */
export const MH_TAB_SIZE = PRIMES[CONFIG_MH_TAB_INDEX - 8];

/** generate_hash_secret: unsigned long keys, so 64-bit words on x86-64. */
const HASH1: SipKey = { k0: 2654435761n, k1: 2654435761n };
const HASH2: SipKey = { k0: 2654446892n, k1: 2654446892n };

/** struct ip_vs_mh_dest_setup. */
interface DestSetup {
  readonly skip: number;
  perm: number;
  readonly turns: number;
}

export function mhScheduler(svc: Pick<IpvsService, 'dests'>): Scheduler {
  const lookup = mhLookup([...svc.dests].reverse());
  return {
    schedule: (service: IpvsService, pkt: SchedPacket) => {
      const port = service.spec.flags.port ? shGetPort(pkt) : 0;
      const get = service.spec.flags.fallback ? mhGetFallback : mhGet;
      return get(lookup, pkt.saddr, port);
    },
  };
}

/**
 * ip_vs_mh_reassign for a service whose destinations are `list` in kernel order: the lookup
 * table, every slot empty when no server has a positive weight.
 */
export function mhLookup(list: readonly IpvsDest[]): (IpvsDest | null)[] {
  const lookup = new Array<IpvsDest | null>(MH_TAB_SIZE).fill(null);
  const g = gcdWeight(list);
  if (g < 1) return lookup;
  const rshift = shiftWeight(list, g);
  const setups = list.map((dest) => permutate(dest, g, rshift));
  populate(list, setups, lookup);
  return lookup;
}

/** ip_vs_mh_hashkey: hsiphash of the u32 offset + port + addr, wrapped. */
function mhHashkey(addr: number, port: number, key: SipKey, offset: number): number {
  const v = new Uint8Array(4);
  new DataView(v.buffer).setUint32(0, (offset + port + addr) >>> 0, true);
  return hsiphash(v, key);
}

/** ip_vs_mh_gcd_weight: 0 when no weight is positive (unlike wrr's 1). */
function gcdWeight(list: readonly IpvsDest[]): number {
  let g = 0;
  for (const d of list) if (d.weight > 0) g = g > 0 ? gcd(d.weight, g) : d.weight;
  return g;
}

/** fls: the 1-based index of the highest set bit, 0 for 0. */
function fls(x: number): number {
  return 32 - Math.clz32(x);
}

/**
 * ip_vs_mh_shift_weight: weights divided by the gcd are shifted right until the largest fits
 * in MH_TAB_BITS bits, so huge weights cannot make one server's turn swallow the table.
 */
function shiftWeight(list: readonly IpvsDest[], g: number): number {
  let weight = 0;
  for (const d of list) if (d.weight > weight) weight = d.weight;
  const shift = fls(Math.floor(weight / g)) - MH_TAB_BITS;
  return shift >= 0 ? shift : 0;
}

/**
 * ip_vs_mh_permutate for one server: its preference list starts at `offset` and steps by
 * `skip` (never 0, and the table size is prime, so every slot is reached); `turns` slots per
 * round, at least one for any positive weight the shift rounded to 0.
 */
function permutate(dest: IpvsDest, g: number, rshift: number): DestSetup {
  const offset = mhHashkey(dest.addr, dest.port, HASH1, 0) % MH_TAB_SIZE;
  const skip = (mhHashkey(dest.addr, dest.port, HASH2, 0) % (MH_TAB_SIZE - 1)) + 1;
  const lw = dest.weight;
  const turns = Math.floor(lw / g) >> rshift || (lw !== 0 ? 1 : 0);
  return { skip, perm: offset, turns };
}

/**
 * ip_vs_mh_populate: rounds over the list, each server taking `turns` slots, each its next
 * preferred slot not yet taken, until the table is full.
 */
function populate(list: readonly IpvsDest[], setups: DestSetup[], lookup: (IpvsDest | null)[]): void {
  const taken = new Uint8Array(MH_TAB_SIZE);
  let n = 0;
  let dtCount = 0;
  for (;;) {
    for (let p = 0; p < list.length; ) {
      const ds = setups[p]!;
      if (ds.turns < 1) {
        p++; // a server of weight 0 takes no slot
        continue;
      }
      while (taken[ds.perm]) {
        ds.perm += ds.skip;
        if (ds.perm >= MH_TAB_SIZE) ds.perm -= MH_TAB_SIZE;
      }
      taken[ds.perm] = 1;
      lookup[ds.perm] = list[p]!;
      if (++n === MH_TAB_SIZE) return;
      if (++dtCount >= ds.turns) {
        dtCount = 0;
        p++;
      }
    }
  }
}

function mhGet(lookup: readonly (IpvsDest | null)[], addr: number, port: number): IpvsDest | null {
  const dest = lookup[mhHashkey(addr, port, HASH1, 0) % MH_TAB_SIZE]!;
  return dest === null || isUnavailable(dest) ? null : dest;
}

/**
 * ip_vs_mh_get_fallback: when the hashed server is unavailable, re-hash with offsets counted
 * from the original slot until an available server turns up.
 */
function mhGetFallback(lookup: readonly (IpvsDest | null)[], addr: number, port: number): IpvsDest | null {
  const ihash = mhHashkey(addr, port, HASH1, 0) % MH_TAB_SIZE;
  const first = lookup[ihash]!;
  if (first === null) return null;
  if (!isUnavailable(first)) return first;
  for (let offset = 0; offset < MH_TAB_SIZE; offset++) {
    const roffset = (offset + ihash) % MH_TAB_SIZE;
    const dest = lookup[mhHashkey(addr, port, HASH1, roffset) % MH_TAB_SIZE]!;
    if (dest === null) break;
    if (!isUnavailable(dest)) return dest;
  }
  return null;
}
