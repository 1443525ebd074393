/**
 * When confirmed entries expire. The kernel keeps an absolute `ct->timeout` per entry and
 * finds the expired ones by walking the whole table (gc_worker) or meeting them in a lookup;
 * natsim reaps at the same moments (conntrack/gc.ts) but finds them through a wheel of
 * one-second slots instead of a walk, so that a second of virtual time costs what expires in
 * it, not the size of the table.
 *
 * An entry sits in the slot of the second its timeout falls in — or an earlier one: a refresh
 * that pushes the timeout later leaves it where it is (it is moved on when its slot comes up),
 * one that brings it earlier (TCP closing, nf_tcp_handle_invalid) files it again. An entry is
 * in one slot's list at a time: filing it again, or its leaving the table, empties its place in
 * the list it was in (its record keeps the place, Conn.expiryIndex). A place left behind would
 * hold on to the entry until its slot came up, and an entry that left the table holds a private
 * copy of its records (Conn.release): a TCP entry reset in its first seconds would be kept for
 * the two minutes of its SYN_SENT slot.
 */
import { MinHeap } from '../../sim/min-heap.js';
import type { NetfilterNet } from '../net.js';
import { NO_SLOT, Status, type Conn } from './conn.js';

const SLOT_NS = 1e9;

export class ExpiryWheel {
  /** Each slot's entries by when they were filed; null where one was filed again or left the table. */
  private readonly slots = new Map<number, (Conn | null)[]>();
  private readonly due = new MinHeap<number>((a, b) => a < b);
  private entries = 0;

  /** The entries the wheel holds (each once). */
  get held(): number {
    return this.entries;
  }

  /** Files a confirmed entry under its timeout, unless it already sits in an earlier slot. */
  schedule(ct: Conn): void {
    const slot = Math.floor(ct.timeout / SLOT_NS);
    if (ct.expirySlot !== NO_SLOT && ct.expirySlot <= slot) return;
    this.unschedule(ct);
    const list = this.slots.get(slot);
    ct.expirySlot = slot;
    if (list) {
      ct.expiryIndex = list.length;
      list.push(ct);
    } else {
      ct.expiryIndex = 0;
      this.slots.set(slot, [ct]);
      this.due.push(slot);
    }
    this.entries++;
  }

  /** Takes an entry off the wheel (it left the table, or is filed again); a no-op for one it does not hold. */
  unschedule(ct: Conn): void {
    if (ct.expirySlot === NO_SLOT) return;
    this.slots.get(ct.expirySlot)![ct.expiryIndex] = null;
    ct.expirySlot = NO_SLOT;
    this.entries--;
  }

  /**
   * Every held entry whose timeout has passed at `now` (`now >= ct->timeout`, as
   * nf_ct_is_expired), taken off the wheel; the live ones met on the way are filed again.
   */
  takeExpired(now: number): Conn[] {
    const expired: Conn[] = [];
    const live: Conn[] = [];
    const current = Math.floor(now / SLOT_NS);
    while (this.due.size > 0 && this.due.peek()! <= current) {
      const slot = this.due.pop();
      const list = this.slots.get(slot)!;
      this.slots.delete(slot);
      for (const ct of list) {
        if (ct === null) continue;
        ct.expirySlot = NO_SLOT;
        this.entries--;
        if (now >= ct.timeout) expired.push(ct);
        else live.push(ct);
      }
    }
    // filed again only now: one expiring later in the current second goes back to its slot
    for (const ct of live) this.schedule(ct);
    return expired;
  }
}

/**
 * nf_ct_refresh / nf_ct_refresh_acct: a new timeout, relative while the entry is unconfirmed
 * (__nf_conntrack_confirm adds jiffies), absolute after; never for a FIXED_TIMEOUT entry.
 */
export function refreshTimeout(net: NetfilterNet, ct: Conn, now: number, timeout: number): void {
  if (ct.has(Status.FixedTimeout)) return;
  if (!ct.confirmed) {
    ct.timeout = timeout;
    return;
  }
  setExpiry(net, ct, now + timeout);
}

/** A confirmed entry's new absolute timeout (WRITE_ONCE(ct->timeout, …)). */
export function setExpiry(net: NetfilterNet, ct: Conn, when: number): void {
  ct.timeout = when;
  if (ct.expirySlot !== NO_SLOT) net.expiry.schedule(ct);
}
