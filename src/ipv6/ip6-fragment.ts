/**
 * ip6_fragment (net/ipv6/ip6_output.c), reached from __ip6_finish_output for a packet larger
 * than the device's MTU, or one conntrack reassembled (IP6CB(skb)->frag_max_size) that is
 * larger than the largest fragment it arrived in. The fragment size is the MTU, lowered to
 * frag_max_size (never under IPV6_MIN_MTU), so a reassembled datagram never leaves in pieces
 * larger than it came in; a reassembled one whose largest fragment does not fit the MTU is
 * refused with Packet Too Big (fail_toobig), as is a packet nobody allowed to fragment
 * (ignore_df clear). Each piece is the unfragmentable part (ip6_find_1stfragopt), a fragment
 * header under one new identification (ipv6_select_ident: a random non-zero number, not the id
 * the datagram arrived with) and its share of the rest: the pieces it arrived in when each fits
 * (the frag_list fast path), else (MTU − headers) & ~7 bytes each (the slow path).
 *
 * Not modelled: the socket's frag_size (IPV6_MTU) — a socket's own datagrams are fragmented by
 * ip6_append_data, which natsim does not model: a locally made packet over the MTU is refused by
 * name — and the home address option that keeps a destination options header unfragmentable
 * (CONFIG_IPV6_MIP6).
 */
import type { Ipv6Skb } from '../netfilter/skb.js';
import type { NetDevice } from '../host/device.js';
import type { Host } from '../host/host.js';
import { writeU16 } from '../packet/l3-packet.js';
import { ICMPV6, IPV6_HDR_LEN, IPV6_MIN_MTU, Ipv6Packet } from '../packet/ipv6.js';
import { NEXTHDR } from './exthdrs-core.js';
import { icmpv6Send } from './icmp.js';

const FRAG_HDR_LEN = 8;
const IP6_MF = 0x0001;

/** ip6_fragment for `skb` leaving `out` toward `nexthop`: its pieces sent in order, or the refusal. */
export function ip6Fragment(host: Host, skb: Ipv6Skb, out: NetDevice, nexthop: number): void {
  const pkt = skb.pkt;
  const first = ip6FindFirstFragOpt(pkt.data);
  if (first === null) return fragFail(host, skb, 'extension headers that cannot be walked (ip6_find_1stfragopt: -EINVAL)');
  if (!skb.ignoreDf && pkt.length > out.mtu) {
    // nobody reassembled it and no socket allowed it: the host's own datagrams are ip6_append_data's to cut
    if (!skb.indev) return host.dropped(skb, null, `locally made packet of ${pkt.length} bytes over the MTU ${out.mtu} of ${out.name}: a socket's own fragmentation (ip6_append_data) is not modelled`, null, 'ip6_fragment');
    return fragTooBig(host, skb, out.mtu);
  }
  let mtu = out.mtu;
  if (skb.fragMaxSize !== 0) {
    if (skb.fragMaxSize > mtu) return fragTooBig(host, skb, mtu);
    // don't send fragments larger than what we received
    mtu = Math.max(skb.fragMaxSize, IPV6_MIN_MTU);
  }
  if (mtu < first.hlen + FRAG_HDR_LEN + 8) return fragTooBig(host, skb, out.mtu);
  // ipv6_select_ident: get_random_u32_above(0)
  const id = 1 + Math.floor((host.nf.prng.u32() / 0x100000000) * 0xffffffff);
  const pieces = ip6FragmentPackets(pkt, first, mtu - first.hlen - FRAG_HDR_LEN, skb.fragPieces, id);
  for (const piece of pieces) {
    host.nf.mib.inc('Ip6FragCreates');
    host.neighOutput(host.fragmentOf(skb, piece), out, nexthop);
  }
  host.consumed(skb);
  host.nf.mib.inc('Ip6FragOKs');
}

/** fail_toobig: Packet Too Big with `mtu` to the source, IPSTATS_MIB_FRAGFAILS, the packet freed. */
function fragTooBig(host: Host, skb: Ipv6Skb, mtu: number): void {
  icmpv6Send(host, skb, ICMPV6.PKT_TOOBIG, 0, skb.time, mtu);
  fragFail(host, skb, `packet of ${skb.pkt.length} bytes (largest fragment it came in: ${skb.fragMaxSize || 'none'}) does not fit the MTU ${mtu} (ip6_fragment: fail_toobig)`);
}

function fragFail(host: Host, skb: Ipv6Skb, reason: string): void {
  host.nf.mib.inc('Ip6FragFails');
  host.dropped(skb, null, reason, null, 'ip6_fragment');
}

/** Where the fragmentable part starts (hlen), and the next-header byte that names it (prevhdr). */
export interface FirstFragOpt {
  readonly hlen: number;
  readonly prevhdr: number;
}

/**
 * ip6_find_1stfragopt: hop-by-hop and routing headers, and destination options before a routing
 * header, stay in every fragment; the first other header starts the fragmentable part. Null when
 * the chain runs past the packet.
 */
export function ip6FindFirstFragOpt(d: Uint8Array): FirstFragOpt | null {
  let offset = IPV6_HDR_LEN;
  let prevhdr = 6;
  let foundRhdr = false;
  while (offset <= d.length) {
    const nexthdr = d[prevhdr]!;
    if (nexthdr === NEXTHDR.ROUTING) foundRhdr = true;
    else if (nexthdr === NEXTHDR.DEST ? foundRhdr : nexthdr !== NEXTHDR.HOP) return { hlen: offset, prevhdr };
    if (offset + 2 > d.length) return null;
    prevhdr = offset;
    offset += (d[offset + 1]! + 1) << 3;
  }
  return null;
}

/**
 * The pieces of `pkt`, each carrying at most `room` bytes of the fragmentable part after its
 * fragment header of identification `id`: the sizes it arrived in (`arrived`) when each fits
 * and all but the last are multiples of 8 (ip6_fraglist_init / ip6_fraglist_prepare), else
 * ip6_frag_next's cut.
 */
export function ip6FragmentPackets(pkt: Ipv6Packet, first: FirstFragOpt, room: number, arrived: readonly number[] | null, id: number): Ipv6Packet[] {
  const { hlen, prevhdr } = first;
  const d = pkt.data;
  const fast = arrived !== null && arrived.every((len, i) => len <= room && (i === arrived.length - 1 || len % 8 === 0));
  const sizes: number[] = fast ? [...arrived] : [];
  if (!fast) {
    for (let left = d.length - hlen; left > 0; ) {
      const len = left > room ? room & ~7 : left;
      sizes.push(len);
      left -= len;
    }
  }
  const nexthdr = d[prevhdr]!;
  const out: Ipv6Packet[] = [];
  let at = 0;
  for (let i = 0; i < sizes.length; i++) {
    const len = sizes[i]!;
    const bytes = new Uint8Array(hlen + FRAG_HDR_LEN + len);
    bytes.set(d.subarray(0, hlen));
    bytes[prevhdr] = NEXTHDR.FRAGMENT;
    writeU16(bytes, 4, bytes.length - IPV6_HDR_LEN);
    bytes[hlen] = nexthdr;
    writeU16(bytes, hlen + 2, at | (i < sizes.length - 1 ? IP6_MF : 0));
    writeU16(bytes, hlen + 4, id >>> 16);
    writeU16(bytes, hlen + 6, id & 0xffff);
    bytes.set(d.subarray(hlen + at, hlen + at + len), hlen + FRAG_HDR_LEN);
    out.push(Ipv6Packet.adopt(bytes) as Ipv6Packet);
    at += len;
  }
  return out;
}
