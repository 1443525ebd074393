/**
 * The conntrack hook op at PRE_ROUTING and LOCAL_OUT (nf_conntrack_in, net/netfilter/
 * nf_conntrack_core.c): find the entry of a packet in either direction or create an unconfirmed
 * one, run the protocol tracker, and attach (ct, ctinfo) to the packet.
 */
import { Verdict, IPPROTO } from '../constants.js';
import type { NetfilterNet } from '../net.js';
import type { Skb } from '../skb.js';
import type { HookState } from '../hooks.js';
import { Conn, CtInfo, Status } from './conn.js';
import { trackPacket } from './l4proto.js';
import { Dir, invertTuple, tupleFromPacket } from './tuple.js';
import { isIcmpError } from './icmp-error.js';

/** init_conntrack: a new unconfirmed entry with the inverted tuple as its reply; null if not invertible. */
function initConntrack(net: NetfilterNet, skb: Skb): Conn | null {
  const orig = tupleFromPacket(skb.pkt);
  const reply = invertTuple(orig);
  if (!reply) return null;
  return new Conn(net.nextConnId(), orig, reply);
}

/**
 * resolve_normal_ct: look the packet's tuple up (both directions share one index; unconfirmed
 * entries are never found) and derive ctinfo from the direction and the status bits.
 */
function resolveNormalCt(net: NetfilterNet, skb: Skb): boolean {
  const found = net.table.find(tupleFromPacket(skb.pkt));
  if (found && !isExpired(found.conn, skb.time)) {
    const ct = found.conn;
    skb.ct = ct;
    if (found.dir === Dir.Reply) skb.ctinfo = CtInfo.EstablishedReply;
    else if (ct.has(Status.SeenReply)) skb.ctinfo = CtInfo.Established;
    else if (ct.has(Status.Expected)) skb.ctinfo = CtInfo.Related;
    else skb.ctinfo = CtInfo.New;
    return true;
  }
  if (found) net.destroy(found.conn);
  const ct = initConntrack(net, skb);
  if (!ct) return false;
  skb.ct = ct;
  skb.ctinfo = CtInfo.New;
  return true;
}

export function isExpired(ct: Conn, now: number): boolean {
  return ct.confirmed && now >= ct.timeout;
}

/** nf_conntrack_in */
export function conntrackIn(net: NetfilterNet, skb: Skb, state: HookState): Verdict {
  if (skb.ct) return Verdict.Accept; // already tracked: looped back, or the same skb again
  if (skb.pkt.proto === IPPROTO.ICMP && isIcmpError(skb.pkt.icmpType)) {
    // nf_conntrack_icmpv4_error would look the quoted packet up and mark this RELATED; natsim
    // does not model ICMP errors yet, so the packet passes untracked (and un-NATed).
    state.notes?.push('ICMP error: natsim does not track RELATED ICMP errors yet; passed untracked');
    return Verdict.Accept;
  }
  if (!resolveNormalCt(net, skb)) {
    net.stats.inc(skb.cpu, 'invalid');
    state.notes?.push('tuple not invertible: no conntrack entry (invalid)');
    return Verdict.Accept;
  }
  const ct = skb.ct!;
  if (trackPacket(net, ct, skb.ctinfo, skb.time) === 'invalid') {
    skb.ct = null;
    skb.ctinfo = CtInfo.Untracked;
    net.stats.inc(skb.cpu, 'invalid');
    state.notes?.push('protocol tracker: invalid, conntrack detached');
    return Verdict.Accept;
  }
  if (skb.ctinfo === CtInfo.EstablishedReply) ct.status |= Status.SeenReply;
  return Verdict.Accept;
}
