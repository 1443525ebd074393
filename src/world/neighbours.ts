/**
 * Neighbour resolution as a capture shows it: the addresses the host asked for with ARP (Out
 * who-has) and got no answer for (no In is-at). A packet the host routes to such a next hop
 * never leaves: after the kernel's probes run out (mcast_solicit 3 × retrans_time 1 s) the
 * neighbour fails and each queued packet is answered with host unreachable (ipv4_link_failure).
 * The replay reads the capture a little ahead of the packet it feeds (capture-replay.ts
 * LOOKAHEAD_NS): the request for a next hop follows the packet within REQUEST_WINDOW_NS, and an
 * answer not read by then counts as none (on a LAN answers take microseconds).
 */
import { PacketDirection, type CaptureRecord } from '../capture/record.js';
import { readU16, readU32 } from '../packet/ipv4.js';
import { ipv6Handle } from '../packet/ipv6-addr.js';
import { ICMPV6 } from '../packet/ipv6.js';

const ARPOP_REQUEST = 1;
const ARPOP_REPLY = 2;

/** How long after the first probe the neighbour entry fails (NUD_FAILED). */
export const NEIGH_FAIL_NS = 3e9;

/** How soon after a packet its next hop's ARP request shows in the capture. */
const REQUEST_WINDOW_NS = 1e9;

export class NeighbourWatch {
  /** Per address: when the host asked (Out who-has) and when it was answered (In is-at), in time order. */
  private readonly asked = new Map<number, number[]>();
  private readonly answered = new Map<number, number[]>();

  /** An ARP frame of the capture, as it is read (`time`: ns since the first record). */
  observe(r: CaptureRecord, time: number): void {
    if (r.payload.length < 28) return;
    const op = readU16(r.payload, 6);
    if (op === ARPOP_REQUEST && r.direction === PacketDirection.Outgoing) push(this.asked, readU32(r.payload, 24), time);
    if (op === ARPOP_REPLY && r.direction !== PacketDirection.Outgoing) push(this.answered, readU32(r.payload, 14), time);
  }

  /** An NDP frame: the host's neighbour solicitation (Out) and an advertisement to it (In), by target address. */
  observeNdp(r: CaptureRecord, time: number): void {
    if (r.payload.length < 64) return;
    const type = r.payload[40];
    if (type === ICMPV6.NDISC_NEIGHBOUR_SOLICITATION && r.direction === PacketDirection.Outgoing) push(this.asked, ipv6Handle(r.payload, 48), time);
    if (type === ICMPV6.NDISC_NEIGHBOUR_ADVERTISEMENT && r.direction !== PacketDirection.Outgoing) push(this.answered, ipv6Handle(r.payload, 48), time);
  }

  /**
   * Whether a packet sent toward `addr` at `time` waits on a resolution that fails: the host
   * was asking for it then (a request from NEIGH_FAIL_NS before to shortly after), and no
   * answer came within NEIGH_FAIL_NS of that request.
   */
  fails(addr: number, time: number): boolean {
    const request = lastAtMost(this.asked.get(addr) ?? NONE, time + REQUEST_WINDOW_NS);
    if (request === null || request < time - NEIGH_FAIL_NS) return false;
    return !(this.answered.get(addr) ?? NONE).some((t) => t >= request && t <= request + NEIGH_FAIL_NS);
  }

  /**
   * Whether an answer for `addr` came by `time`: its entry is NUD_VALID then (REACHABLE, then
   * STALE until something needs it again; the capture does not show it fail without a request).
   */
  answeredBy(addr: number, time: number): boolean {
    return lastAtMost(this.answered.get(addr) ?? NONE, time) !== null;
  }

  /** Whether the host's entry for `addr` is NUD_CONNECTED at `time`: an answer came within REACHABLE_NS before. */
  connected(addr: number, time: number): boolean {
    const answer = lastAtMost(this.answered.get(addr) ?? NONE, time);
    return answer !== null && answer > time - REACHABLE_NS;
  }
}

/**
 * How long an answered neighbour stays NUD_REACHABLE: base_reachable_time (30 s; the kernel
 * draws reachable_time between half and one and a half times it).
 */
const REACHABLE_NS = 30e9;

/** The latest of the (ascending) times that is at most `limit`. */
function lastAtMost(times: readonly number[], limit: number): number | null {
  for (let i = times.length - 1; i >= 0; i--) if (times[i]! <= limit) return times[i]!;
  return null;
}

function push(map: Map<number, number[]>, addr: number, time: number): void {
  const list = map.get(addr);
  if (list) list.push(time);
  else map.set(addr, [time]);
}

/** No ARP traffic seen for an address (shared, so asking allocates nothing). */
const NONE: readonly number[] = [];
