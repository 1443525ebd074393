/**
 * Is a NAT tuple free? The nf_nat_used_tuple family (net/netfilter/nf_nat_core.c): the plain
 * check, the one for a connection's own original tuple (_new), and the one the port search
 * uses near the end of its attempts, which may evict a closing TCP connection (_harder).
 */
import { IPPROTO } from '../constants.js';
import { isExpired } from '../conntrack/core.js';
import { IPS_NAT_MASK, Status, type Conn } from '../conntrack/conn.js';
import { allowClash } from '../conntrack/l4proto.js';
import { TcpState } from '../conntrack/tcp-state.js';
import { Dir, invertTuple, type Tuple } from '../conntrack/tuple.js';
import { NO_NODE, nodeDir, type CtNode } from '../conntrack/tuplehash.js';
import type { NatSearch } from './unique-tuple.js';

/** NF_NAT_MAX_ATTEMPTS: how many tuples one round of the port search tries at most. */
export const MAX_ATTEMPTS = 128;

/** NF_NAT_HARDER_THRESH: the last quarter of the attempts may evict. */
const HARDER_THRESH = MAX_ATTEMPTS / 4;

/**
 * nf_conntrack_tuple_taken on the reply of `t` without its count: the confirmed, live entry
 * (not `ct`) with that reply tuple, or null. Since 5.x an entry with the same original tuple
 * does not count: that is the same flow, and the confirm step merges it (4.15 counts it as
 * taken). Expired entries met on the way are reaped (nf_ct_gc_expired).
 */
export function tupleHolder(s: NatSearch, t: Tuple): Conn | null {
  const reply = invertTuple(t);
  if (!reply) return null;
  let expired: Conn[] | null = null;
  let holder: Conn | null = null;
  const table = s.net.table;
  // the bucket is walked in place: nothing leaves the table until the walk is over
  for (let n = table.head(table.bucketIndex(reply)); n !== NO_NODE; n = table.next(n)) {
    const other = table.conn(n);
    if (other === s.ct || !other.matches(nodeDir(n), reply)) continue;
    if (isExpired(other, s.now)) {
      (expired ??= []).push(other);
      continue;
    }
    if (s.net.kernel.nat.takenSkipsSameFlow && other.sameTuple(Dir.Original, s.ct, Dir.Original)) continue;
    holder = other;
    break;
  }
  for (const ct of expired ?? []) s.net.destroy(ct, s.now);
  return holder;
}

/** nf_conntrack_tuple_taken: is `t` taken? Each hit bumps `found` (NF_CT_STAT_INC_ATOMIC). */
export function usedTuple(s: NatSearch, t: Tuple): boolean {
  if (tupleHolder(s, t) === null) return false;
  s.net.stats.inc(s.cpu, 'found');
  return true;
}

/**
 * nf_nat_used_tuple_new, for the original tuple only: as usedTuple, but a clash with the same
 * flow seen from the other side (both directions' first packets NEW at once on two CPUs) is
 * waived for protocols that allow clashes when neither entry uses NAT — confirm then merges
 * them — instead of rewriting the "reply" packet's port.
 */
export function usedTupleNew(s: NatSearch, t: Tuple): boolean {
  if (!usedTuple(s, t)) return false;
  const usesNat = IPS_NAT_MASK | Status.SeqAdjust;
  if (!allowClash(s.net.kernel, t.proto) || (s.ct.status & usesNat) !== 0) return true;
  const reply = invertTuple(t);
  const other = s.net.table.lookup(t) ?? (reply ? s.net.table.lookup(reply) : null);
  if (!other) return false; // the clashing entry went away
  if ((other.status & usesNat) !== 0) return true;
  return !other.sameTuple(Dir.Original, s.ct, Dir.Reply);
}

/**
 * nf_nat_used_tuple_harder: in the last NF_NAT_HARDER_THRESH attempts for a new TCP connection
 * (SYN_SENT), an entry holding the tuple in its reply direction that is closing (TIME_WAIT,
 * CLOSE, SYN_SENT2), source-NATed, not fixed-timeout, and behind our SYN's sequence is killed
 * and the tuple reused — looked up without counting `found`.
 */
export function usedTupleHarder(s: NatSearch, t: Tuple, attemptsLeft: number): boolean {
  if (attemptsLeft > HARDER_THRESH || t.proto !== IPPROTO.TCP || s.ct.tcp?.state !== TcpState.SynSent) return usedTuple(s, t);
  const found = s.net.table.find(invertTuple(t)!);
  if (!found || isExpired(s.net.table.conn(found), s.now)) return false;
  const victim = evictable(s, found);
  if (victim === null) return true;
  s.net.destroy(victim, s.now);
  s.notes?.push(`port ${t.srcU}: closing connection ${victim.id} (${victim.tcp!.state === TcpState.TimeWait ? 'TIME_WAIT' : 'closing'}) evicted to reuse it (nf_nat_used_tuple_harder)`);
  return false;
}

/** The connection nf_nat_used_tuple_harder would kill to free the tuple `found` holds, if any. */
export function evictable(s: NatSearch, found: CtNode): Conn | null {
  const other = s.net.table.conn(found);
  if (nodeDir(found) === Dir.Original || other === s.ct || !mayKill(other) || !seqHasAdvanced(other, s.ct)) return null;
  return other;
}

/** nf_nat_may_kill */
function mayKill(ct: Conn): boolean {
  if (!ct.tcp || ct.tcp.state < TcpState.TimeWait) return false;
  if (ct.has(Status.FixedTimeout) || ct.has(Status.Dying)) return false;
  return ct.has(Status.SrcNat);
}

/** nf_seq_has_advanced: the new SYN's sequence is after what the old connection sent. */
function seqHasAdvanced(old: Conn, fresh: Conn): boolean {
  return ((fresh.tcp!.seen(Dir.Original).tdEnd - old.tcp!.seen(Dir.Original).tdEnd) | 0) > 0;
}
