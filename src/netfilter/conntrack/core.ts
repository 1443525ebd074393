/**
 * The conntrack hook op at PRE_ROUTING and LOCAL_OUT (nf_conntrack_in, net/netfilter/
 * nf_conntrack_core.c): find the entry of a packet in either direction or create an unconfirmed
 * one, run the protocol tracker, and attach (ct, ctinfo) to the packet.
 */
import { Hook, Verdict, IPPROTO } from '../constants.js';
import type { NetfilterNet } from '../net.js';
import type { Skb } from '../skb.js';
import type { HookState } from '../hooks.js';
import { Conn, CtInfo, Status } from './conn.js';
import { trackPacket } from './l4proto.js';
import { tcpError } from './tcp.js';
import { Dir, invertTuple, tupleFromPacket } from './tuple.js';
import { nodeDir } from './tuplehash.js';
import { icmpErrorMessage, relateError } from './icmp-error.js';
import { ipv6Conntrack } from './icmpv6.js';
import { makeRoom } from './early-drop.js';
import { gcIfDue } from './gc.js';
import type { StatName } from './stats.js';

type Resolved = 'tracked' | 'untrackable' | 'table-full';

/**
 * resolve_normal_ct: look the packet's tuple up (both directions share one index; unconfirmed
 * entries are never found) and derive ctinfo from the direction and the status bits, or
 * allocate a new entry (init_conntrack), which a full table may refuse.
 */
function resolveNormalCt(net: NetfilterNet, skb: Skb): Resolved {
  const found = net.table.findPacket(skb.pkt);
  const ct = found ? net.table.conn(found) : null;
  if (ct && !isExpired(ct, skb.time)) {
    skb.ct = ct;
    if (nodeDir(found) === Dir.Reply) skb.ctinfo = CtInfo.EstablishedReply;
    else if (ct.has(Status.SeenReply)) skb.ctinfo = CtInfo.Established;
    else if (ct.has(Status.Expected)) skb.ctinfo = CtInfo.Related;
    else skb.ctinfo = CtInfo.New;
    return 'tracked';
  }
  if (ct) net.destroy(ct, skb.time);
  const tuple = tupleFromPacket(skb.pkt);
  const reply = invertTuple(tuple);
  if (!reply) return 'untrackable';
  if (!makeRoom(net, tuple, skb.cpu, skb.time)) return 'table-full';
  skb.ct = net.newConn(tuple, reply);
  skb.ctinfo = CtInfo.New;
  return 'tracked';
}

/** resolve_normal_ct's failures as nf_conntrack_in handles them; null when the skb has an entry. */
function attachEntry(net: NetfilterNet, skb: Skb, state: HookState): Verdict | null {
  const resolved = resolveNormalCt(net, skb);
  if (resolved === 'tracked') return null;
  if (resolved === 'table-full') {
    net.stats.inc(skb.cpu, 'drop');
    skb.drop = { reason: 'nf_conntrack: table full, dropping packet (no entry could be early-dropped)', counter: 'drop' };
    return Verdict.Drop;
  }
  net.stats.inc(skb.cpu, 'invalid');
  state.notes?.push('tuple not invertible: no conntrack entry (invalid)');
  return Verdict.Accept;
}

export function isExpired(ct: Conn, now: number): boolean {
  return ct.confirmed && now >= ct.timeout;
}

/**
 * nf_checksum at PRE_ROUTING with nf_conntrack_checksum on: natsim takes a packet whose L4
 * checksum does not verify as CHECKSUM_NONE (a raw socket's on a veth, or one a NIC found bad)
 * and checks it; one holding only the pseudo-header sum as CHECKSUM_PARTIAL (a veth peer's
 * socket left it to offload), which nf_checksum does not check.
 */
function badChecksum(net: NetfilterNet, skb: Skb, state: HookState): boolean {
  return state.hook === Hook.PreRouting && net.sysctl.n['net.netfilter.nf_conntrack_checksum'] === 1 && skb.pkt.l4ChecksumBad();
}

/** tcp_error's first test: a data offset under 5 words or past the packet's end. */
function tcpTruncated(skb: Skb): boolean {
  const p = skb.pkt;
  const doff = (p.data[p.l4off + 12]! >> 4) * 4;
  return doff < 20 || p.data.length - p.l4off < doff;
}

const BAD_CHECKSUM = 'bad checksum (nf_checksum with nf_conntrack_checksum=1: natsim takes a checksum that does not verify as CHECKSUM_NONE, checked, and a pseudo-header-only one as CHECKSUM_PARTIAL from a veth peer, not checked)';

/**
 * What nf_conntrack_in finds before the lookup: an ICMP error that belongs to a connection
 * ('related'), a broken packet (why), or nothing. ICMP errors are checked by every kernel;
 * 4.15 checks TCP headers here too (tcp_error as l4proto->error), later kernels in the tracker.
 */
function checkBeforeLookup(net: NetfilterNet, skb: Skb, state: HookState, notes: string[] | null): 'related' | 'untracked' | { readonly invalid: string } | string | null {
  if (skb.pkt.family === 6) {
    const v6 = ipv6Conntrack(skb.pkt);
    if (v6.kind === 'untracked') return 'untracked';
    if (v6.kind === 'invalid') return { invalid: v6.reason };
    // nf_conntrack_icmpv6_error checks the checksum of every ICMPv6 message first
    if (skb.pkt.proto === IPPROTO.ICMPV6 && badChecksum(net, skb, state)) return `ICMPv6: ${BAD_CHECKSUM}`;
    if (v6.kind === 'error') return typeof v6.related === 'string' ? `ICMPv6: ${v6.related}` : prefixed('ICMPv6', relateError(net, skb, v6.related));
    return null;
  }
  if (skb.pkt.proto === IPPROTO.ICMP) {
    // nf_conntrack_icmpv4_error checks the checksum of every ICMP message first
    if (badChecksum(net, skb, state)) return `ICMP: ${BAD_CHECKSUM}`;
    const icmp = icmpErrorMessage(net, skb);
    return icmp === 'related' || icmp === null ? icmp : `ICMP: ${icmp}`;
  }
  if (skb.pkt.proto === IPPROTO.TCP && net.kernel.conntrack.tcpErrorBeforeLookup && tcpError(skb.pkt, notes)) return 'TCP: bad header (tcp_error)';
  return null;
}

function prefixed(proto: string, outcome: string): string {
  return outcome === 'related' ? outcome : `${proto}: ${outcome}`;
}

/**
 * nf_conntrack_in. Counters by kernel (KernelProfile): up to 5.9 a packet that already has an
 * entry or is untracked counts `ignore`, and one broken before the lookup counts `invalid`
 * beside `error`; 4.15 counts `invalid` for a TCP reopen too.
 */
export function conntrackIn(net: NetfilterNet, skb: Skb, state: HookState): Verdict {
  // already tracked (looped back, an answer with its entry attached) or NOTRACK'ed in raw
  if (skb.ct || skb.untracked) {
    if (net.stats.fields.includes('ignore')) net.stats.inc(skb.cpu, 'ignore');
    return Verdict.Accept;
  }
  gcIfDue(net, skb.time);
  // without a trace, a probe still hears the tracker's reasons (the only reader of these notes)
  const notes = state.notes ?? net.probe?.scratchNotes() ?? null;
  const broken = checkBeforeLookup(net, skb, state, notes);
  if (typeof broken === 'object' && broken !== null) {
    // nf_conntrack_in: get_l4proto found no protocol (a truncated extension header chain):
    // `invalid`++ and NF_ACCEPT, untracked
    net.probe?.invalid(skb, null, [broken.invalid]);
    net.stats.inc(skb.cpu, 'invalid');
    state.notes?.push(`${broken.invalid}; passed untracked (conntrack counter invalid)`);
    return Verdict.Accept;
  }
  if (broken === 'untracked') {
    // nf_conntrack_icmpv6_error: neighbour discovery and MLD get the untracked template
    skb.untracked = true;
    state.notes?.push('ICMPv6 neighbour discovery / MLD: untracked (noct_valid_new)');
    return Verdict.Accept;
  }
  if (broken === 'related') {
    net.probe?.icmpError(skb, state.hook);
    return Verdict.Accept;
  }
  if (broken !== null) {
    net.probe?.invalid(skb, null, notes === null || notes.length === 0 ? [broken] : [...notes, broken]);
    const counters: StatName[] = net.kernel.conntrack.errorCountsInvalid ? ['error', 'invalid'] : ['error'];
    for (const c of counters) net.stats.inc(skb.cpu, c);
    state.notes?.push(`${broken}; passed untracked (conntrack counter ${counters.join(', ')})`);
    return Verdict.Accept;
  }
  // tcp_error looks at the header's length before the checksum
  if ((skb.pkt.proto === IPPROTO.UDP || (skb.pkt.proto === IPPROTO.TCP && !tcpTruncated(skb))) && badChecksum(net, skb, state)) {
    // tcp_error / udp_error in the tracker: -NF_ACCEPT, the new entry freed, the packet invalid
    const why = `${skb.pkt.proto === IPPROTO.TCP ? 'TCP' : 'UDP'}: ${BAD_CHECKSUM}`;
    net.probe?.invalid(skb, null, [why]);
    net.stats.inc(skb.cpu, 'invalid');
    state.notes?.push(`${why}; passed untracked (conntrack counter invalid)`);
    return Verdict.Accept;
  }
  const failed = attachEntry(net, skb, state);
  if (failed !== null) return failed;
  let ct = skb.ct!;
  let tracked = trackPacket(net, ct, skb, notes);
  // -NF_REPEAT: the TCP tracker killed the entry to reopen the connection (a SYN in TIME_WAIT
  // or CLOSE); `goto repeat` looks the packet up again, which creates a fresh entry.
  while (tracked === 'repeat') {
    if (net.kernel.conntrack.repeatCountsInvalid) net.stats.inc(skb.cpu, 'invalid');
    const again = attachEntry(net, skb, state);
    if (again !== null) return again;
    state.notes?.push(`TCP reopen: old entry ${ct.id} killed, new entry ${skb.ct!.id}`);
    ct = skb.ct!;
    tracked = trackPacket(net, ct, skb, notes);
  }
  if (tracked !== 'valid') {
    net.probe?.invalid(skb, ct, notes ?? []);
    // nf_ct_put: a new entry the tracker refused dies with this reference
    if (!ct.confirmed) net.putUnconfirmed(ct);
    skb.ct = null;
    skb.ctinfo = CtInfo.Untracked;
    net.stats.inc(skb.cpu, 'invalid');
    state.notes?.push('protocol tracker: invalid, conntrack detached');
    return Verdict.Accept;
  }
  if (skb.ctinfo === CtInfo.EstablishedReply) ct.status |= Status.SeenReply;
  return Verdict.Accept;
}
