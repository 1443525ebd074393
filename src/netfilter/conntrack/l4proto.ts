/**
 * The per-protocol trackers (struct nf_conntrack_l4proto) natsim has so far: whether a packet
 * may create or continue a connection, which timeout it sets, and whether an insert clash may be
 * resolved (allow_clash). TCP's state machine and window tracking live in tcp.ts.
 */
import { IPPROTO } from '../constants.js';
import type { NetfilterNet } from '../net.js';
import { ctinfoDir, Status, type Conn } from './conn.js';
import { Dir } from './tuple.js';
import type { Skb } from '../skb.js';
import { tcpPacket } from './tcp.js';
import { refreshTimeout } from './expiry.js';
import type { KernelProfile } from '../../kernel/profile.js';
import { ICMP_ECHO } from '../../packet/icmp.js';
import { icmpv6ValidNew } from './icmpv6.js';

const SECOND = 1e9;

/**
 * The verdict of a tracker: the packet is valid for this entry, or invalid (detached, `invalid`++),
 * or — TCP only, -NF_REPEAT — the entry was killed to reopen the connection and the packet must
 * be looked up again.
 */
export type TrackResult = 'valid' | 'invalid' | 'repeat';

/** nf_conntrack_l4proto.allow_clash: UDP and UDPLITE, and on 6.18 GRE (KernelProfile.conntrack.allowClash). */
export function allowClash(kernel: KernelProfile, proto: number): boolean {
  return kernel.conntrack.allowClash.includes(proto);
}

/** The protocol's packet handler (nf_conntrack_{icmp,udp,tcp,generic}_packet). */
export function trackPacket(net: NetfilterNet, ct: Conn, skb: Skb, notes: string[] | null = null): TrackResult {
  const now = skb.time;
  switch (ct.proto) {
    case IPPROTO.ICMP:
      return icmpPacket(net, ct, now);
    case IPPROTO.ICMPV6:
      return icmpv6Packet(net, ct, now);
    case IPPROTO.UDP:
    case IPPROTO.UDPLITE:
      udpPacket(net, ct, now);
      return 'valid';
    case IPPROTO.TCP: {
      const verdict = tcpPacket(net, ct, skb.pkt, ctinfoDir(skb.ctinfo), now, notes);
      return verdict === 'accept' ? 'valid' : verdict;
    }
    default:
      refreshTimeout(net, ct, now, net.sysctl.n['net.netfilter.nf_conntrack_generic_timeout'] * SECOND);
      return 'valid';
  }
}

/**
 * nf_conntrack_icmp_packet: only a request type (echo, timestamp, info, address mask) may
 * create an entry; every packet refreshes the ICMP timeout.
 */
function icmpPacket(net: NetfilterNet, ct: Conn, now: number): TrackResult {
  if (!ct.confirmed) {
    const type = ct.dstU(Dir.Original) >>> 8;
    if (type !== ICMP_ECHO && type !== 13 && type !== 15 && type !== 17) return 'invalid';
  }
  refreshTimeout(net, ct, now, net.sysctl.n['net.netfilter.nf_conntrack_icmp_timeout'] * SECOND);
  return 'valid';
}

/** nf_conntrack_icmpv6_packet: only echo request and node information query may create an entry (valid_new); the ICMPv6 timeout. */
function icmpv6Packet(net: NetfilterNet, ct: Conn, now: number): TrackResult {
  if (!ct.confirmed && !icmpv6ValidNew(ct.dstU(Dir.Original) >>> 8)) return 'invalid';
  refreshTimeout(net, ct, now, net.sysctl.n['net.netfilter.nf_conntrack_icmpv6_timeout'] * SECOND);
  return 'valid';
}

/**
 * nf_conntrack_udp_packet: unreplied timeout until a reply was seen; a flow still active two
 * seconds after its first packet gets the stream timeout and ASSURED (never for clash losers).
 * 4.15's udp_packet gives them to any packet after a reply.
 */
function udpPacket(net: NetfilterNet, ct: Conn, now: number): void {
  if (!ct.has(Status.SeenReply)) {
    if (!ct.confirmed) ct.udpStreamTs = now + 2 * SECOND;
    refreshTimeout(net, ct, now, net.sysctl.n['net.netfilter.nf_conntrack_udp_timeout'] * SECOND);
    return;
  }
  const stream = !net.kernel.conntrack.udpStreamAfter2s || now > ct.udpStreamTs;
  refreshTimeout(net, ct, now, (stream ? net.sysctl.n['net.netfilter.nf_conntrack_udp_timeout_stream'] : net.sysctl.n['net.netfilter.nf_conntrack_udp_timeout']) * SECOND);
  if (ct.has(Status.NatClash)) return;
  if (stream) ct.status |= Status.Assured;
}
