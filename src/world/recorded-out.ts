/**
 * The packets a capture shows the kernel sending, indexed so that each received packet can be
 * paired with what became of it: same IP protocol and IP id (forwarding and NAT keep both),
 * sent within a second of arrival, with its source or its destination untouched — or, when NAT
 * changed both, the only such packet of the same length and TCP sequence number.
 */
import type { WireTuple } from '../netfilter/net.js';
import type { L3Packet } from '../packet/l3-packet.js';
import { IPPROTO } from '../netfilter/constants.js';

/** A TCP segment's sequence number, which forwarding and NAT keep (0 for other protocols). */
function tcpSeq(pkt: L3Packet): number {
  return pkt.proto === IPPROTO.TCP ? pkt.tcpSeq : 0;
}

/** How long after arrival a forwarded packet may leave and still be paired with it. */
const PAIRING_WINDOW_NS = 1e9;

export interface Sent extends WireTuple {
  readonly time: number;
  /** A received packet was paired with it: it is that packet forwarded (or answered). */
  claimed: boolean;
  /**
   * A received packet of the same protocol, IP id, length and TCP sequence number came just
   * before: it is that packet forwarded, even when NAT changed both of its addresses (claim
   * leaves such a pair alone, not knowing which of several it is), so not the node's own.
   */
  forwarded: boolean;
  readonly length: number;
  readonly seq: number;
}

export class RecordedOut {
  private readonly byKey = new Map<number, Sent[]>();
  /** When forget() last ran. */
  private forgotten = 0;

  add(time: number, pkt: L3Packet): Sent {
    const key = pkt.proto * 65536 + pkt.id;
    const list = this.byKey.get(key);
    const sent: Sent = { time, saddr: pkt.saddr, sport: pkt.sport, daddr: pkt.daddr, dport: pkt.dport, claimed: false, forwarded: false, length: pkt.length, seq: tcpSeq(pkt) };
    if (list) list.push(sent);
    else this.byKey.set(key, [sent]);
    return sent;
  }

  /** The first unclaimed packet the kernel sent for `pkt` received at `time`, or null. */
  claim(time: number, pkt: L3Packet): WireTuple | null {
    const list = this.byKey.get(pkt.proto * 65536 + pkt.id);
    if (!list) return null;
    let found: Sent | null = null;
    let alike: Sent | null = null;
    let alikeCount = 0;
    for (const sent of list) {
      if (sent.claimed || sent.time < time || sent.time - time > PAIRING_WINDOW_NS) continue;
      if (sent.length === pkt.length && sent.seq === tcpSeq(pkt)) {
        sent.forwarded = true;
        alike = sent;
        alikeCount++;
      }
      if (found) continue;
      const sameSource = sent.saddr === pkt.saddr && sent.sport === pkt.sport;
      const sameDest = sent.daddr === pkt.daddr && sent.dport === pkt.dport;
      if (!sameSource && !sameDest) continue;
      found = sent;
    }
    // NAT of both ends (DNAT and masquerade) leaves no address to pair by: then the one packet
    // of the same length and TCP sequence number is this one forwarded
    found ??= alikeCount === 1 ? alike : null;
    if (found) found.claimed = true;
    return found;
  }

  /**
   * Received packets come in time order and pair only with what was sent after them: once the
   * replay is at `now`, anything sent earlier can go. Runs once per pairing window of capture
   * time, so the index holds a few seconds of the capture, whatever its length.
   */
  forget(now: number): void {
    if (now - this.forgotten < PAIRING_WINDOW_NS) return;
    this.forgotten = now;
    for (const [key, list] of this.byKey) {
      const live = list.filter((s) => !s.claimed && s.time >= now);
      if (live.length === 0) this.byKey.delete(key);
      else if (live.length !== list.length) this.byKey.set(key, live);
    }
  }
}
