/**
 * Fate probes: the points where the kernel decides what becomes of a packet or a connection —
 * the places its tracepoints and drop reasons sit (kfree_skb's SKB_DROP_REASON_*, the
 * nf_conntrack events, nf_ct_resolve_clash, early_drop, nf_nat_setup_info). `natsim explain`
 * and `natsim diff` listen here instead of to the trace: every call is on a decision, never on
 * the path an ordinary packet of an established flow takes, so a replay with a probe runs at
 * the speed of one without a trace.
 */
import type { Hook } from './constants.js';
import type { Conn } from './conntrack/conn.js';
import type { Dir } from './conntrack/tuple.js';
import type { NatRange, Rule } from './rules/model.js';
import type { Skb } from './skb.js';
import type { NetDevice } from '../host/device.js';

/** The NAT rule that bound a new connection (a rule's SNAT/DNAT/MASQUERADE/REDIRECT target), the same for every connection it binds. */
export interface NatRuleBinding {
  readonly kind: 'snat' | 'dnat' | 'masquerade' | 'redirect';
  readonly rule: Rule;
  readonly range: NatRange;
  readonly hook: Hook;
}

/**
 * What MASQUERADE chose: the device and the source address. IPv4 (nf_nat_masquerade_ipv4):
 * inet_select_addr's address toward the route's next hop. IPv6 (nf_nat_masquerade_ipv6):
 * ipv6_dev_get_saddr's address for the destination itself (RFC 6724).
 */
export type MasqueradeChoice =
  | {
      readonly family: 'ipv4';
      readonly out: NetDevice;
      /** The next hop: the route's gateway, or the destination when on-link. */
      readonly toward: number;
      /** The route's gateway (0 when the destination is on-link). */
      readonly gateway: number;
      readonly source: number;
    }
  | { readonly family: 'ipv6'; readonly out: NetDevice; /** The destination. */ readonly toward: number; readonly source: number };

/**
 * How a packet toward a next hop that does not answer is lost: freed when the entry failed,
 * after the host unreachable it was answered with (neigh_invalidate); pushed out of the full
 * queue before that (__neigh_event_send, NEIGH_QUEUEFULL); or, in a scenario, sent to the
 * address an entry still valid holds, of a host gone since (no host takes the frame).
 */
export type NeighbourLoss = 'failed' | 'queue-full' | 'gone';

/**
 * An skb handed to a probe is valid for the call only: a capture replay remakes the same Skb
 * for its next received packet (Host.rxSkb), so a probe keeps what it needs of it, or its id.
 */
export interface FateProbe {
  /** The capture record being fed (0 in a scenario), for evidence. */
  record: number;
  /** A scratch list for the tracker's reasons while no trace is taken (reset per packet). */
  scratchNotes(): string[];
  /** A NAT rule bound `ct` at `time` (ns). */
  natBound(ct: Conn, binding: NatRuleBinding, time: number): void;
  masqueraded(ct: Conn, choice: MasqueradeChoice): void;
  /** __nf_conntrack_confirm inserted the packet's new entry at `hook`. */
  confirmed(skb: Skb, hook: Hook): void;
  /** nf_ct_resolve_clash could not resolve: the packet's entry lost to `winner`'s tuple of `dir`. */
  clashDropped(skb: Skb, winner: Conn, dir: Dir): void;
  /** early_drop killed `victim` to make room for a new entry. */
  evicted(victim: Conn, now: number): void;
  /** The packet was found broken or INVALID (tcp_error, tcp_in_window, an unrelated ICMP error); `why` the tracker's words. */
  invalid(skb: Skb, ct: Conn | null, why: readonly string[]): void;
  /** An ICMP error attached to its connection as RELATED at `hook` (nf_conntrack_icmpv4_error). */
  icmpError(skb: Skb, hook: Hook): void;
  /** The TCP tracker moved the entry to CLOSE on a RST sent in direction `dir`. */
  reset(ct: Conn, dir: Dir): void;
  /** nf_ct_delete: the entry left the table (expired if `now` is at or past its timeout). */
  destroyed(ct: Conn, now: number): void;
  /** kfree_skb: at `hook` (skb.verdictOp decided), or off the hooks by the kernel function `fn`. */
  dropped(skb: Skb, hook: Hook | null, reason: string, counter: string | null, fn: string | null): void;
  /**
   * The next hop does not answer ARP (or neighbour solicitation): the packet sent toward it at
   * skb.time is lost at `at` (ns), `how` — in the record `atRecord` (0: none, a timer's), while
   * the probe's record is the one the packet came in.
   */
  unresolved(skb: Skb, dev: NetDevice, nexthop: number, how: NeighbourLoss, at: number, atRecord: number): void;
}
