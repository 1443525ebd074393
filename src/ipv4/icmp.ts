/**
 * icmp_send (net/ipv4/icmp.c): the kernel's ICMP errors — time exceeded when forwarding runs
 * out of TTL, port unreachable for a closed UDP port, a redirect. No error answers an ICMP error,
 * a fragment but the first, or a packet to a broadcast address or a group; errors to one peer
 * are rate-limited (the types net.ipv4.icmp_ratemask names); the source is the address the
 * packet was sent to when it was for this host, else the one the route back chooses. The error
 * carries the offending packet's conntrack entry (nf_ct_attach), as RELATED in the other
 * direction, so conntrack does not look it up again and NAT translates it like any RELATED error.
 */
import { CtInfo, ctinfoDir } from '../netfilter/conntrack/conn.js';
import { Dir } from '../netfilter/conntrack/tuple.js';
import { IPPROTO } from '../netfilter/constants.js';
import { Skb, type Ipv4Skb } from '../netfilter/skb.js';
import { buildIcmpEcho, buildIcmpError } from '../packet/build.js';
import { inetSelectAddr } from './devinet.js';
import { routeIsBroadcast } from './route-input.js';
import { ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_TIMESTAMP, ICMP_TIMESTAMPREPLY, ICMP_FRAG_NEEDED, ICMP_PARAMETERPROB, ICMP_REDIRECT, ICMP_SOURCE_QUENCH, ICMP_TIME_EXCEEDED } from '../packet/icmp.js';
import type { L3Packet } from '../packet/l3-packet.js';
import type { Host } from '../host/host.js';


/**
 * icmp_rcv's own answers for this host (no socket needed): icmp_echo, with the request's
 * identifier, sequence and data, and icmp_timestamp (see timestampBody). Each comes from the
 * address the request was sent to, unless that was a broadcast or a group: see below. `ipId`
 * is the reply's IP ID (ip_select_ident's hash, which natsim draws).
 */
export function icmpAnswer(host: Host, request: Ipv4Skb, ipId: number): void {
  const p = request.pkt;
  if (p.proto !== IPPROTO.ICMP || (p.icmpType !== ICMP_ECHO && p.icmpType !== ICMP_TIMESTAMP)) return;
  // icmp_rcv: an echo or timestamp request to a broadcast address or a group is dropped
  // (IcmpInErrors) while icmp_echo_ignore_broadcasts is 1, the default; else it is answered from
  // the address the route back picks (fib_compute_spec_dst), not from the one it was sent to
  const broadcast = routeIsBroadcast(host, p.saddr, p.daddr);
  if (broadcast && host.sysctl.n['net.ipv4.icmp_echo_ignore_broadcasts'] !== 0) return host.nf.mib.inc('IcmpInErrors');
  const echo = p.icmpType === ICMP_ECHO;
  const payload = echo ? p.data.subarray(p.l4off + 8) : timestampBody(host, p, request.time);
  if (payload === null) return host.nf.mib.inc('IcmpInErrors'); // "Too short."
  const seq = (p.data[p.l4off + 6]! << 8) | p.data[p.l4off + 7]!;
  host.output(buildIcmpEcho({ saddr: broadcast ? host.sourceFor(p.saddr) : p.daddr, daddr: p.saddr, ipId, ttl: 64, type: echo ? ICMP_ECHOREPLY : ICMP_TIMESTAMPREPLY, echoId: p.sport, seq, payload }), request.time, false);
}

/**
 * icmp_timestamp's reply body: the request's originate timestamp, then receive and transmit,
 * both the ms since midnight UT now (inet_current_timestamp, by the capture's wall clock; a
 * scenario's starts at midnight); anything after the request's first 4 bytes is not sent back.
 * Null for a request shorter than that.
 */
function timestampBody(host: Host, p: L3Packet, time: number): Uint8Array | null {
  const at = p.l4off + 8;
  if (p.length - at < 4) return null;
  const wall = host.clock?.wall(time) ?? { sec: Math.floor(time / 1e9), nsec: time % 1e9 };
  const ms = (wall.sec % 86400) * 1000 + Math.floor(wall.nsec / 1e6);
  const body = new Uint8Array(12);
  body.set(p.data.subarray(at, at + 4), 0);
  const view = new DataView(body.buffer);
  view.setUint32(4, ms);
  view.setUint32(8, ms);
  return body;
}

/** NR_ICMP_TYPES: the highest type icmp_pointers knows (ICMP_ADDRESSREPLY). */
const NR_ICMP_TYPES = 18;

/** Types icmp_is_err counts as errors: never answered with another error. */
const ERROR_TYPES = new Set([ICMP_DEST_UNREACH, ICMP_SOURCE_QUENCH, ICMP_REDIRECT, ICMP_TIME_EXCEEDED, ICMP_PARAMETERPROB]);

/**
 * net.ipv4.icmp_ratemask's default (0x1818): the types icmpv4_xrlim_allow limits per peer —
 * destination unreachable, source quench, time exceeded, parameter problem.
 */
const RATEMASK = (1 << ICMP_DEST_UNREACH) | (1 << ICMP_SOURCE_QUENCH) | (1 << ICMP_TIME_EXCEEDED) | (1 << ICMP_PARAMETERPROB);

/** icmpv4_mask_allow: a type the mask leaves out, and fragmentation needed (path MTU discovery), are never limited. */
function rateLimited(type: number, code: number): boolean {
  if (type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) return false;
  return (RATEMASK & (1 << type)) !== 0;
}

/** skb_in->dev is loopback: the packet came in on lo (a host's own packet rejected in OUTPUT has no device yet: nf_send_unreach). */
function cameInOnLoopback(skb: Skb): boolean {
  return skb.indev?.type === 'loopback';
}

/**
 * True when an error was sent; `now` is when (by default, when the offending packet was);
 * `info` the header's second word (icmp_send's info: the next-hop MTU of fragmentation needed,
 * a redirect's gateway).
 */
export function icmpSend(host: Host, offending: Ipv4Skb, type: number, code: number, now = offending.time, info = 0): boolean {
  const p = offending.pkt;
  // __icmp_send answers no packet to a broadcast address or a group (RTCF_BROADCAST |
  // RTCF_MULTICAST), no fragment but the first, and no ICMP error — nor a type it does not know,
  // taken for one
  if (routeIsBroadcast(host, p.saddr, p.daddr) || p.fragOffset !== 0) return false;
  if (p.proto === IPPROTO.ICMP && (p.icmpType > NR_ICMP_TYPES || ERROR_TYPES.has(p.icmpType))) return false;
  // icmpv4_global_allow: the global limit first (none for a packet that came in on lo)
  const limited = rateLimited(type, code) && !cameInOnLoopback(offending);
  if (limited && !host.icmpGlobal.allow(now)) {
    host.nf.mib.inc('IcmpOutRateLimitGlobal');
    return false;
  }
  const back = host.fib.lookup(p.saddr);
  if (!back?.dev || back.type !== 'unicast' && back.type !== 'local') return false;
  const toUs = host.fib.lookup(p.daddr)?.type === 'local';
  const saddr = toUs ? p.daddr : back.prefsrc || inetSelectAddr(host.devices, back.dev, back.gateway, back.scope);
  // icmpv4_xrlim_allow: the peer's limit, then the global credit spent
  if (limited) {
    if (!host.peers.xrlimAllow(p.saddr, now, back.dev.name === 'lo')) {
      host.nf.mib.inc('IcmpOutRateLimitHost');
      return false;
    }
    host.icmpGlobal.consume();
  }
  host.localOut(answerTo(host, offending, buildIcmpError(type, code, saddr, p, host.nextIpId(), info), now));
  return true;
}

/**
 * The skb of the kernel's answer to `offending` (an ICMP or ICMPv6 error, a RST), with the
 * offending packet's conntrack entry attached as RELATED in the other direction (nf_ct_attach;
 * for ICMPv6 in icmpv6_getfrag, for error types only). nf_ct_attach takes a reference: an
 * answer dropped on its way out (a redirect nf_nat_icmp_reply_translation refuses) lets go of
 * the entry of a packet that is still being forwarded, and does not free it.
 */
export function answerTo<P extends L3Packet>(host: Host, offending: Skb, pkt: P, now = offending.time): Skb<P> {
  const answer = new Skb<P>(host.nextSkbId(), pkt, now, offending.cpu, null);
  if (offending.ct) {
    answer.ct = offending.ct;
    if (!answer.ct.confirmed) answer.ct.refs++;
    answer.ctinfo = ctinfoDir(offending.ctinfo) === Dir.Original ? CtInfo.RelatedReply : CtInfo.Related;
  }
  return answer;
}
