/**
 * The IPv4 output path (net/ipv4/ip_output.c): ip_local_out → NF_HOOK(LOCAL_OUT) → dst_output
 * → ip_output → NF_HOOK(POST_ROUTING) → ip_finish_output → ip_finish_output2, and the
 * fragmentation on the way (__ip_finish_output, ip_fragment, ip_do_fragment).
 *
 * Fragmentation: a packet longer than the device's MTU, or one conntrack reassembled
 * (IPCB(skb)->frag_max_size set), leaves in fragments. The size is the MTU, cut down to the
 * largest fragment the packet arrived in, so a reassembled datagram never leaves in pieces
 * larger than it came in. A packet with DF set that does not fit is refused with "fragmentation
 * needed" instead (unless conntrack made it from DF-less fragments).
 *
 * ip_do_fragment's fast path sends a reassembled datagram in the very pieces it arrived in when
 * every one fits; its slow path cuts the data into (MTU − header) & ~7 byte pieces. Options
 * that are not copied into later fragments (ip_options_fragment) are not modelled: a packet
 * with IP options is fragmented with its header copied whole.
 */
import { checksum } from '../packet/checksum.js';
import { Ipv4Packet, IP_OFFSET, writeU16 } from '../packet/ipv4.js';
import { Hook } from '../netfilter/constants.js';
import type { Ipv4Skb } from '../netfilter/skb.js';
import { routeNexthop, type Route } from '../host/fib.js';
import type { Host } from '../host/host.js';
import { ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED } from '../packet/icmp.js';
import { icmpSend } from './icmp.js';

const IP_DF = 0x4000;
const IP_MF = 0x2000;

/** ip_local_out for a locally made skb (a socket's, or icmp_send's): routed by its destination. */
export function ipLocalOut(host: Host, skb: Ipv4Skb): void {
  const route = ipRouteOutput(host, skb.pkt.daddr);
  if (!route || !route.dev) return host.dropped(skb, null, 'no route to host (local output)', null, 'ip_route_output_key');
  ipLocalOutRouted(host, skb, route);
}

/**
 * ip_route_output_key_hash_rcu: the route a locally made packet takes. One to an address of
 * this host (RTN_LOCAL, found in the local table whatever device holds the address) leaves by
 * loopback: dev_out = net->loopback_dev.
 */
export function ipRouteOutput(host: Host, daddr: number): Route | null {
  const route = host.fib.lookup(daddr);
  if (route?.type !== 'local') return route;
  const lo = host.device('lo');
  return lo && route.dev !== lo ? { ...route, dev: lo } : route;
}

/** __ip_local_out: NF_HOOK(LOCAL_OUT, ..., dst_output) for an skb whose route is already chosen. */
export function ipLocalOutRouted(host: Host, skb: Ipv4Skb, route: Route): void {
  const pkt = skb.pkt;
  skb.route = route;
  skb.outdev = route.dev;
  const daddr = pkt.daddr;
  if (!host.nfHook(Hook.LocalOut, skb, null, route.dev!)) return;
  if (pkt.daddr !== daddr && !ipRouteMeHarder(host, skb)) return; // NAT OUTPUT changed the destination
  ipOutput(host, skb);
}

/** ip_route_me_harder (net/ipv4/netfilter.c) after a destination change in LOCAL_OUT. */
function ipRouteMeHarder(host: Host, skb: Ipv4Skb): boolean {
  const route = ipRouteOutput(host, skb.pkt.daddr);
  if (!route || !route.dev) {
    host.routeDrop(skb, 'no route after NAT OUTPUT', 'ip_route_me_harder');
    return false;
  }
  skb.route = route;
  skb.outdev = route.dev;
  return true;
}

/**
 * ip_output: POST_ROUTING's input device is skb->dev as it was — the device a forwarded
 * packet came in by (IPVS's too, sent on through LOCAL_OUT), none for one the host made —
 * then ip_finish_output: whole, in fragments, or refused.
 */
export function ipOutput(host: Host, skb: Ipv4Skb): void {
  const out = skb.outdev!;
  if (!host.nfHook(Hook.PostRouting, skb, skb.indev, out)) return;
  const nexthop = skb.knownNexthop ?? routeNexthop(skb.route!, skb.pkt.daddr);
  const frag = ipFinishOutput(skb, out.mtu);
  if (frag.kind === 'frag-needed') {
    host.nf.mib.inc('IpFragFails');
    host.dropped(skb, null, `packet of ${skb.pkt.length} bytes with DF set does not fit the MTU ${out.mtu} of ${out.name} (ip_fragment)`, null, 'ip_fragment');
    icmpSend(host, skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, skb.time, frag.mtu);
    return;
  }
  if (frag.kind === 'whole') return host.neighOutput(skb, out, nexthop);
  // ip_do_fragment: each piece its own skb, sent in order
  host.nf.mib.inc('IpFragOKs');
  for (const pkt of frag.pkts) {
    host.nf.mib.inc('IpFragCreates');
    host.neighOutput(host.fragmentOf(skb, pkt), out, nexthop);
  }
  host.consumed(skb);
}

/** What __ip_finish_output does with `skb` on a device of MTU `mtu`. */
export type FragmentResult =
  | { readonly kind: 'whole' }
  | { readonly kind: 'fragments'; readonly pkts: readonly Ipv4Packet[] }
  /** ip_fragment's refusal: ICMP fragmentation needed with this MTU. */
  | { readonly kind: 'frag-needed'; readonly mtu: number };

/** The result for a packet that leaves whole, as nearly every one does: one object for all, not one per packet. */
const WHOLE: FragmentResult = { kind: 'whole' };

export function ipFinishOutput(skb: Ipv4Skb, mtu: number): FragmentResult {
  const pkt = skb.pkt;
  if (pkt.length <= mtu && skb.fragMaxSize === 0) return WHOLE;
  // ip_fragment: DF set and not made of DF-less fragments by conntrack (ignore_df), or one of
  // those fragments itself did not fit
  if (pkt.dontFragment && (!skb.ignoreDf || skb.fragMaxSize > mtu)) return { kind: 'frag-needed', mtu };
  const size = skb.fragMaxSize !== 0 && skb.fragMaxSize < mtu ? skb.fragMaxSize : mtu;
  if (pkt.length <= size) return WHOLE;
  // IPSKB_FRAG_PMTU: ip_frag_reasm set DF because its largest fragment had it; the pieces keep it
  return { kind: 'fragments', pkts: ipDoFragment(pkt, size, skb.fragPieces, pkt.dontFragment && skb.fragMaxSize !== 0) };
}

/**
 * ip_do_fragment at `mtu` (already lowered to frag_max_size): the pieces the datagram arrived
 * in when each fits (the frag_list fast path), else the slow path's.
 */
export function ipDoFragment(pkt: Ipv4Packet, mtu: number, arrived: readonly number[] | null, keepDf: boolean): Ipv4Packet[] {
  const hlen = pkt.l4off;
  const room = mtu - hlen;
  const data = pkt.length - hlen;
  const fast = arrived !== null && arrived.every((len, i) => len <= room && (i === arrived.length - 1 || len % 8 === 0));
  const sizes: number[] = fast ? [...arrived] : [];
  if (!fast) {
    // ip_frag_next: the room, to a multiple of 8 unless it is the rest
    for (let left = data; left > 0; ) {
      const len = left > room ? room & ~7 : left;
      sizes.push(len);
      left -= len;
    }
  }
  const base = pkt.fragOffset;
  const lastWasMore = pkt.moreFragments;
  const out: Ipv4Packet[] = [];
  let at = 0;
  for (let i = 0; i < sizes.length; i++) {
    const len = sizes[i]!;
    const bytes = new Uint8Array(hlen + len);
    bytes.set(pkt.data.subarray(0, hlen));
    bytes.set(pkt.data.subarray(hlen + at, hlen + at + len), hlen);
    const more = i < sizes.length - 1 || lastWasMore;
    writeU16(bytes, 2, bytes.length);
    // ip_frag_next / ip_fraglist_prepare: the offset, MF but on the last, DF with IPSKB_FRAG_PMTU
    writeU16(bytes, 6, (keepDf ? IP_DF : 0) | (more ? IP_MF : 0) | (((base + at) >> 3) & IP_OFFSET));
    writeU16(bytes, 10, 0);
    writeU16(bytes, 10, checksum(bytes, 0, hlen));
    out.push(Ipv4Packet.adopt(bytes) as Ipv4Packet);
    at += len;
  }
  return out;
}
