/**
 * The confirm op at POST_ROUTING and LOCAL_IN, priority INT_MAX (nf_confirm →
 * __nf_conntrack_confirm, net/netfilter/nf_conntrack_core.c): insert a new entry into the table,
 * or, if an entry with the same tuple got there first, resolve the clash or drop the packet.
 */
import { Verdict } from '../constants.js';
import type { NetfilterNet } from '../net.js';
import type { Skb } from '../skb.js';
import type { HookState } from '../hooks.js';
import { ctinfoDir, Status, type Conn } from './conn.js';
import { allowClash } from './l4proto.js';
import { nodeDir } from './tuplehash.js';
import { Dir } from './tuple.js';
import { isExpired } from './core.js';
import { deliverCachedEvents, eventNew } from './ecache.js';
import type { ClashResolution } from '../../kernel/profile.js';

const SECOND = 1e9;

export function confirm(net: NetfilterNet, skb: Skb, state: HookState): Verdict {
  const ct = skb.ct;
  if (!ct) return Verdict.Accept;
  if (ct.confirmed || ctinfoDir(skb.ctinfo) === Dir.Reply) {
    deliverCachedEvents(net, ct, skb.time);
    return Verdict.Accept;
  }
  const clash = findConfirmed(net, ct, Dir.Original, skb.time) ?? findConfirmed(net, ct, Dir.Reply, skb.time);
  if (clash) return resolveClash(net, skb, clash, state);
  ct.timeout += skb.time; // relative → absolute
  ct.status |= Status.Confirmed;
  net.table.insert(ct);
  net.expiry.schedule(ct);
  eventNew(net, ct, skb.time);
  net.probe?.confirmed(skb, state.hook);
  return Verdict.Accept;
}

/** A confirmed, live entry holding `ct`'s tuple of direction `dir` (in either of its own directions). */
function findConfirmed(net: NetfilterNet, ct: Conn, dir: Dir, now: number): Holder | null {
  const found = net.table.find(ct.tuple(dir));
  if (!found) return null;
  const holder = net.table.conn(found);
  if (isExpired(holder, now)) {
    net.destroy(holder, now);
    return null;
  }
  return { conn: holder, dir: nodeDir(found) };
}

/** A confirmed entry and the direction of its tuple that a new entry's tuple equals. */
interface Holder {
  readonly conn: Conn;
  readonly dir: Dir;
}

/**
 * nf_ct_resolve_clash, by the kernel's rules (KernelProfile.conntrack.clash). Protocols
 * without allow_clash always drop the packet. Otherwise 6.x merges into the winner when that
 * is the same flow (__nf_ct_resolve_clash) or inserts the loser in the reply direction only
 * (nf_ct_resolve_clash_harder); 4.15 and 5.4 merge into a winner without NAT (5.4 also into
 * one with the loser's very tuples). 6.x counts `insert_failed` with `drop`; up to 5.9
 * __nf_conntrack_confirm counts it for every clash, resolved or not.
 */
function resolveClash(net: NetfilterNet, skb: Skb, winner: Holder, state: HookState): Verdict {
  const rules = net.kernel.conntrack.clash;
  const loser = skb.ct!;
  const resolved = allowClash(net.kernel, loser.proto) && (rules === 'merge-or-reply-only' ? mergeClash(net, skb, winner.conn, state) || resolveClashHarder(net, skb, state) : mergeIntoNatFree(net, skb, winner.conn, rules, state));
  if (!resolved || rules !== 'merge-or-reply-only') net.stats.inc(skb.cpu, 'insert_failed');
  if (resolved) return Verdict.Accept;
  net.stats.inc(skb.cpu, 'drop');
  net.probe?.clashDropped(skb, winner.conn, winner.dir);
  skb.drop = { reason: `insert clash with conntrack entry ${winner.conn.id} (${winner.dir === Dir.Original ? 'original' : 'reply'} tuple taken)`, counter: 'insert_failed' };
  return Verdict.Drop;
}

/** The packet continues with the entry that won the race; the loser dies with the packet's reference. */
function adoptWinner(net: NetfilterNet, skb: Skb, winner: Conn, state: HookState): void {
  net.putUnconfirmed(skb.ct!);
  skb.ct = winner;
  state.notes?.push(`clash resolved: packet continues with conntrack entry ${winner.id}`);
}

/**
 * __nf_ct_resolve_clash / nf_ct_can_merge (6.x): the packet continues with the winner when both
 * entries hold the same tuples (nf_ct_match) or the same ones swapped (nf_ct_match_reverse,
 * the two directions' first packets racing), whatever NAT did.
 */
function mergeClash(net: NetfilterNet, skb: Skb, winner: Conn, state: HookState): boolean {
  const loser = skb.ct!;
  const same = winner.sameTuple(Dir.Original, loser, Dir.Original) && winner.sameTuple(Dir.Reply, loser, Dir.Reply);
  const reversed = winner.sameTuple(Dir.Original, loser, Dir.Reply) && winner.sameTuple(Dir.Reply, loser, Dir.Original);
  if (!same && !reversed) return false;
  adoptWinner(net, skb, winner, state);
  net.stats.inc(skb.cpu, 'clash_resolve');
  return true;
}

/**
 * nf_ct_resolve_clash of 4.15 and 5.4: the winner takes the packet if it has no NAT decided —
 * `((ct->status & IPS_NAT_DONE_MASK) == 0)`, which a null binding sets too — or, on 5.4, if its
 * tuples equal the loser's (`|| nf_ct_match(ct, loser_ct)`). No counter of its own.
 */
function mergeIntoNatFree(net: NetfilterNet, skb: Skb, winner: Conn, rules: ClashResolution, state: HookState): boolean {
  const loser = skb.ct!;
  const natFree = (winner.status & (Status.SrcNatDone | Status.DstNatDone)) === 0;
  const identical = rules === 'nat-free-or-identical' && winner.sameTuple(Dir.Original, loser, Dir.Original) && winner.sameTuple(Dir.Reply, loser, Dir.Reply);
  if (!natFree && !identical) return false;
  adoptWinner(net, skb, winner, state);
  return true;
}

/**
 * nf_ct_resolve_clash_harder: if the loser's reply tuple is free, insert the loser in the reply
 * direction only, with a fixed one-second timeout and NAT_CLASH, so replies find it but new
 * packets keep finding the winner.
 */
function resolveClashHarder(net: NetfilterNet, skb: Skb, state: HookState): boolean {
  const loser = skb.ct!;
  const replyTaken = findConfirmed(net, loser, Dir.Reply, skb.time);
  if (replyTaken) return mergeClash(net, skb, replyTaken.conn, state);
  loser.timeout = skb.time + SECOND;
  loser.status |= Status.FixedTimeout | Status.NatClash | Status.Confirmed;
  net.table.insertReplyOnly(loser);
  net.expiry.schedule(loser);
  net.stats.inc(skb.cpu, 'clash_resolve');
  state.notes?.push('clash resolved: entry inserted in reply direction only, expires in 1 s');
  return true;
}
