/**
 * When confirmed entries expire. The kernel keeps an absolute `ct->timeout` per entry and
 * finds the expired ones by walking the whole table (gc_worker) or meeting them in a lookup;
 * natsim reaps at the same moments (conntrack/gc.ts) but finds them through a wheel of
 * one-second slots instead of a walk, so that a second of virtual time costs what expires in
 * it, not the size of the table.
 *
 * An entry sits in the slot of the second its timeout falls in — or an earlier one: a refresh
 * that pushes the timeout later leaves it where it is (it is moved on when its slot comes up),
 * one that brings it earlier (TCP closing, nf_tcp_handle_invalid) files it again. A slot entry
 * whose `expirySlot` no longer names that slot is stale and skipped.
 */
import { MinHeap } from '../../sim/min-heap.js';
import type { NetfilterNet } from '../net.js';
import { NO_SLOT, Status, type Conn } from './conn.js';

const SLOT_NS = 1e9;

export class ExpiryWheel {
  private readonly slots = new Map<number, Conn[]>();
  private readonly due = new MinHeap<number>((a, b) => a < b);

  /** Files a confirmed entry under its timeout, unless it already sits in an earlier slot. */
  schedule(ct: Conn): void {
    const slot = Math.floor(ct.timeout / SLOT_NS);
    if (ct.expirySlot !== NO_SLOT && ct.expirySlot <= slot) return;
    ct.expirySlot = slot;
    const list = this.slots.get(slot);
    if (list) list.push(ct);
    else {
      this.slots.set(slot, [ct]);
      this.due.push(slot);
    }
  }

  /** Forgets an entry (it left the table). */
  unschedule(ct: Conn): void {
    ct.expirySlot = NO_SLOT;
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
        if (ct.expirySlot !== slot) continue;
        ct.expirySlot = NO_SLOT;
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
