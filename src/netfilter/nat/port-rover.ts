/**
 * The port (and ICMP id) search of Linux 4.15, kept until 4.20: nf_nat_l4proto_unique_tuple
 * (net/netfilter/nf_nat_proto_common.c) and icmp_unique_tuple
 * (net/ipv4/netfilter/nf_nat_proto_icmp.c), as in linux-4.15.15.
 *
 * The walk starts at a rover — a kernel-wide u16 per protocol (`static u16 tcp_port_rover;` in
 * nf_nat_proto_tcp.c, one each for UDP, UDPLITE, DCCP and SCTP, `static u_int16_t id;` for
 * ICMP) — and the rover keeps the offset the walk stopped at. So a rule with `--to-ports
 * 55666-55680` gives every connection that needs a new port 55666, as long as that tuple is
 * free for its destination (the MASQUERADE seed's two connections, both 55666). There is no
 * attempt limit, and the range_size-th candidate is returned without asking whether it is
 * used: with a single port nothing is looked up at all, so no `found` is counted.
 */
import { isIcmp } from '../constants.js';
import { NAT_RANGE_PROTO_RANDOM_ALL } from '../rules/model.js';
import type { NetfilterNet } from '../net.js';

/** The candidate keys of one search: [min, min + size). */
export interface KeySpace {
  readonly min: number;
  readonly size: number;
}

/**
 * Whether the walk starts at a random offset: with `random` (secure_port, a keyed hash natsim
 * cannot reproduce, so a draw) or `random-fully` (prandom_u32) for ports; never for ICMP ids,
 * whose search knows no flags.
 */
export function roverStartsRandom(proto: number, rangeFlags: number): boolean {
  return !isIcmp(proto) && (rangeFlags & NAT_RANGE_PROTO_RANDOM_ALL) !== 0;
}

/**
 * `for (i = 0; ; ++off) { *portptr = htons(min + off % range_size); if (++i != range_size &&
 * nf_nat_used_tuple(tuple, ct)) continue; … *rover = off; return; }` — `place` writes a key into
 * the tuple, `used` asks nf_nat_used_tuple about it. The offset is a u16 and wraps as one.
 */
export function roverSearch(net: NetfilterNet, proto: number, rangeFlags: number, space: KeySpace, place: (key: number) => void, used: () => boolean): void {
  const random = roverStartsRandom(proto, rangeFlags);
  let off = random ? net.prng.u16() : (net.portRovers.get(proto) ?? 0);
  for (let i = 1; ; i++, off = (off + 1) & 0xffff) {
    place(space.min + (off % space.size));
    if (i === space.size || !used()) break;
  }
  if (!random) net.portRovers.set(proto, off);
}
