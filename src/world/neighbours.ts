/**
 * Neighbour resolution as a capture shows it: the addresses the host asked for with ARP (Out
 * who-has) and never got an answer for (no In is-at). A packet the host routes to such a next
 * hop never leaves: after the kernel's probes run out (mcast_solicit 3 × retrans_time 1 s) the
 * neighbour fails and each queued packet is answered with host unreachable (ipv4_link_failure).
 */
import { readCapture } from '../capture/index.js';
import { PacketDirection, type CaptureRecord } from '../capture/record.js';
import { readU16, readU32 } from '../packet/ipv4.js';

const ETH_P_ARP = 0x0806;
const ARPOP_REQUEST = 1;
const ARPOP_REPLY = 2;

/** How long after the first probe the neighbour entry fails (NUD_FAILED). */
export const NEIGH_FAIL_NS = 3e9;

/** The next hops the capture shows ARP failing for. */
export async function unansweredNeighbours(file: string): Promise<Set<number>> {
  const asked = new Set<number>();
  const answered = new Set<number>();
  await readCapture(file, (r: CaptureRecord) => {
    if (r.protocol !== ETH_P_ARP || r.payload.length < 28) return;
    const op = readU16(r.payload, 6);
    if (op === ARPOP_REQUEST && r.direction === PacketDirection.Outgoing) asked.add(readU32(r.payload, 24));
    if (op === ARPOP_REPLY && r.direction !== PacketDirection.Outgoing) answered.add(readU32(r.payload, 14));
  });
  for (const addr of answered) asked.delete(addr);
  return asked;
}
