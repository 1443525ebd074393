/**
 * IPv6 reassembly for conntrack (net/ipv6/netfilter/nf_conntrack_reasm.c nf_ct_frag6_gather,
 * nf_ct_frag6_queue, nf_ct_frag6_reasm), which nf_defrag_ipv6 calls at PRE_ROUTING and
 * LOCAL_OUT −400: a fragment waits in the queue of its datagram — keyed as fq_find keys it, by
 * source, destination, fragment id, the defrag user and the input device's index — until the
 * whole datagram is there, and then goes on as that datagram, the fragment header taken out.
 * Queue order, duplicates and overlaps are inet_frag_queue_insert's (netfilter/inet-fragment.ts,
 * shared with IPv4): an overlap drops the whole datagram (RFC 5722). A queue lives
 * nf_conntrack_frag6_timeout seconds (armTimer tells the host when each new queue's timer is to
 * run); at its expiry (ip6frag_expire_frag_queue) Ip6ReasmFails
 * and Ip6ReasmTimeout are counted and, when the first fragment had come, the host owes the
 * source an ICMPv6 "fragment reassembly time exceeded" (returned to the caller, which sends it).
 *
 * What nf_ct_frag6_gather does not queue passes as it is (it returns 0): a packet without a
 * fragment header, a jumbogram, a first fragment that does not hold the upper-layer header
 * (RFC 8200 4.5), and a non-last fragment whose end is not a multiple of 8 (-EPROTO, turned into
 * 0 there, after the queue is killed). Not modelled: the ECN combination check
 * (ip_frag_ecn_table), like IPv4's.
 */
import { emptyQueue, Fqdir, fragQueueComplete, SKB_OVERHEAD, type FragRange, type InetFragQueue, type Reassembled } from '../netfilter/inet-fragment.js';
import type { Sysctl } from '../host/sysctl.js';
import type { Mib } from '../sockets/mib.js';
import { writeU16 } from '../packet/l3-packet.js';
import { Ipv6Packet, IPV6_HDR_LEN } from '../packet/ipv6.js';
import { ipv6SkipExthdr, NEXTHDR } from './exthdrs-core.js';

/** enum ip6_defrag_users for conntrack (IP6_DEFRAG_CONNTRACK_IN, _OUT; zone 0): queues of different users never mix. */
export const enum Frag6User {
  ConntrackIn = 1,
  ConntrackOut = 2,
}

/** IPV6_MAXPLEN: the largest payload length (no jumbograms). */
const IPV6_MAXPLEN = 65535;
const FRAG_HDR_LEN = 8;
const IP6_MF = 0x0001;

interface Fragment extends FragRange {
  readonly pkt: Ipv6Packet;
  /** Where its fragment header is (the data follows it). */
  readonly fhoff: number;
}

/**
 * struct frag_queue: one datagram being reassembled, with the input device's index and
 * fq->nhoffset, the first fragment's next-header byte that pointed at its fragment header.
 */
type FragQueue = InetFragQueue<Fragment, { nhoff: number; readonly iif: number }>;

/** What nf_ct_frag6_gather made of a packet (ipv6_defrag: 0 → NF_ACCEPT, -EINPROGRESS → NF_STOLEN, else NF_DROP). */
export type Frag6Result =
  /** Returned 0 without queueing it: not a fragment to reassemble (why). */
  | { readonly kind: 'pass'; readonly why: string }
  /** The datagram is whole (frag_max_size: 40 + the largest payload length). */
  | Reassembled<Ipv6Packet>
  /** Held in its queue, or a duplicate (dropped, but "pretend they got queued"): -EINPROGRESS. */
  | { readonly kind: 'queued'; readonly duplicate: boolean }
  /** -EINVAL or -ENOMEM: dropped, with why. */
  | { readonly kind: 'dropped'; readonly reason: string };

/** A queue ip6frag_expire_frag_queue took out: its first fragment, when it had come, is what icmpv6_send quotes. */
export interface Frag6Expired {
  readonly head: Ipv6Packet | null;
  readonly iif: number;
  /** When its timer ran (ns). */
  readonly time: number;
}

/** What nearly every packet gets from gather(), made once. */
const NO_FRAGMENT_HEADER: Frag6Result = { kind: 'pass', why: 'no fragment header' };

export class NfCtFrag6 {
  /** net->nf_frag.fqdir */
  private readonly fqdir = new Fqdir<FragQueue>();
  /** Arms the timer of a new queue (inet_frag_create's mod_timer): expire() is to run at that time. */
  armTimer: ((at: number) => void) | null = null;

  constructor(
    private readonly sysctl: Sysctl,
    private readonly mib: Mib,
  ) {}

  /** Fragments held (fqdir->mem, by truesize): what nf_conntrack_frag6_high_thresh is compared with. */
  get memory(): number {
    return this.fqdir.memory;
  }

  /**
   * nf_ct_frag6_gather for `pkt` arriving at `now` on the device of index `iif` (0 for none).
   * The queues whose timer ran out before `now` must have been expired first (expire()).
   */
  gather(pkt: Ipv6Packet, user: Frag6User, iif: number, now: number): Frag6Result {
    const d = pkt.data;
    if (pkt.payloadLength === 0) return { kind: 'pass', why: 'payload length 0 (a jumbogram has no fragment header)' };
    const where = findPrevFhdr(d);
    if (where === null) return NO_FRAGMENT_HEADER;
    if (thdrTruncated(d, where.fhoff)) return { kind: 'pass', why: 'a first fragment without the whole upper-layer header (ipv6frag_thdr_truncated, RFC 8200 4.5)' };
    if (where.fhoff + FRAG_HDR_LEN > d.length) return { kind: 'dropped', reason: 'fragment header cut short (pskb_may_pull)' };
    const id = ((d[where.fhoff + 4]! << 24) | (d[where.fhoff + 5]! << 16) | (d[where.fhoff + 6]! << 8) | d[where.fhoff + 7]!) >>> 0;
    // struct frag_v6_compare_key: saddr, daddr, user, id, iif
    const key = `${user} ${pkt.saddr} ${pkt.daddr} ${id} ${iif}`;
    const q = this.fqdir.find(key, this.sysctl.num('net.netfilter.nf_conntrack_frag6_high_thresh'), () => {
      const expires = now + this.sysctl.num('net.netfilter.nf_conntrack_frag6_timeout') * 1e9;
      this.armTimer?.(expires);
      return { ...emptyQueue(key, expires), nhoff: 0, iif };
    });
    if (!q) return { kind: 'dropped', reason: 'reassembly memory over net.netfilter.nf_conntrack_frag6_high_thresh (fq_find: -ENOMEM)' };
    return this.queue(q, pkt, where.fhoff, where.nhoff);
  }

  /** nf_ct_frag6_queue. */
  private queue(q: FragQueue, pkt: Ipv6Packet, fhoff: number, nhoff: number): Frag6Result {
    const d = pkt.data;
    const payloadLen = pkt.payloadLength;
    const fragOff = (d[fhoff + 2]! << 8) | d[fhoff + 3]!;
    const offset = fragOff & ~0x7;
    const end = offset + (payloadLen - (fhoff + FRAG_HDR_LEN - IPV6_HDR_LEN));
    if (end > IPV6_MAXPLEN) return { kind: 'dropped', reason: 'fragment offset too large (nf_ct_frag6_queue)' };
    if ((fragOff & IP6_MF) === 0) {
      // the last fragment: nothing may lie beyond it, and a second last one must agree
      if (end < q.len || (q.lastIn && end !== q.len)) return { kind: 'dropped', reason: 'already received the last fragment (nf_ct_frag6_queue)' };
      q.lastIn = true;
      q.len = end;
    } else {
      if (end & 0x7) {
        // -EPROTO: the queue is killed, and nf_ct_frag6_gather lets the packet pass as it is
        this.fqdir.kill(q);
        return { kind: 'pass', why: 'a fragment whose end is not a multiple of 8 (the queue is killed: -EPROTO)' };
      }
      if (end > q.len) {
        if (q.lastIn) return { kind: 'dropped', reason: 'data beyond the last fragment (nf_ct_frag6_queue)' };
        q.len = end;
      }
    }
    if (end === offset) return { kind: 'dropped', reason: 'an empty fragment (nf_ct_frag6_queue)' };
    const inserted = this.fqdir.insert(q, { offset, end, fhoff, pkt: pkt.copy() }, pkt.length + SKB_OVERHEAD);
    if (inserted === 'dup') return { kind: 'queued', duplicate: true };
    if (inserted === 'overlap') {
      this.fqdir.kill(q);
      return { kind: 'dropped', reason: 'fragments overlap (IPFRAG_OVERLAP: RFC 5722, the whole datagram is dropped)' };
    }
    if (payloadLen > q.maxSize) q.maxSize = payloadLen;
    if (offset === 0) q.nhoff = nhoff;
    if (fragQueueComplete(q)) return this.reasm(q);
    return { kind: 'queued', duplicate: false };
  }

  /**
   * nf_ct_frag6_reasm: the first fragment's headers up to its fragment header, the next-header
   * byte that pointed at it given the fragment header's, then every fragment's data in order;
   * the payload length set, frag_max_size the largest fragment (40 + its payload length).
   */
  private reasm(q: FragQueue): Frag6Result {
    this.fqdir.kill(q);
    const head = q.fragments[0]!;
    const payloadLen = head.fhoff - IPV6_HDR_LEN + q.len;
    if (payloadLen > IPV6_MAXPLEN) return { kind: 'dropped', reason: `reassembled payload length ${payloadLen} over 65535 (nf_ct_frag6_reasm)` };
    const bytes = new Uint8Array(IPV6_HDR_LEN + payloadLen);
    bytes.set(head.pkt.data.subarray(0, head.fhoff));
    bytes[q.nhoff] = head.pkt.data[head.fhoff]!;
    for (const f of q.fragments) {
      const from = f.fhoff + FRAG_HDR_LEN;
      bytes.set(f.pkt.data.subarray(from, from + (f.end - f.offset)), head.fhoff + f.offset);
    }
    writeU16(bytes, 4, payloadLen);
    const pkt = Ipv6Packet.adopt(bytes);
    if (typeof pkt === 'string') return { kind: 'dropped', reason: `the reassembled packet is not one natsim handles (${pkt})` };
    return { kind: 'whole', pkt, fragMaxSize: IPV6_HDR_LEN + q.maxSize, pieces: q.fragments.map((f) => f.end - f.offset) };
  }

  /**
   * nf_ct_frag6_expire → ip6frag_expire_frag_queue for every queue whose timer has run out by
   * `now`: Ip6ReasmFails and Ip6ReasmTimeout counted (against the input device, which natsim's
   * counters do not tell apart), and the first fragment, when it came, for the time exceeded.
   */
  expire(now: number): Frag6Expired[] {
    const out: Frag6Expired[] = [];
    for (const q of this.fqdir.expire(now)) {
      // dev_get_by_index_rcu(net, fq->iif): no device (a LOCAL_OUT queue), no counters nor error
      if (q.iif === 0) continue;
      this.mib.inc('Ip6ReasmFails');
      this.mib.inc('Ip6ReasmTimeout');
      out.push({ head: q.firstIn ? q.fragments[0]!.pkt : null, iif: q.iif, time: q.expires });
    }
    return out;
  }
}

/**
 * find_prev_fhdr: through hop-by-hop, routing and destination options (AH by its own length) to
 * the fragment header — its offset, and that of the next-header byte that names it; null when
 * the chain reaches anything else first or runs past the packet.
 */
function findPrevFhdr(d: Uint8Array): { readonly fhoff: number; readonly nhoff: number } | null {
  let nexthdr = d[6]!;
  let nhoff = 6;
  let start = IPV6_HDR_LEN;
  let len = d.length - start;
  while (nexthdr !== NEXTHDR.FRAGMENT) {
    if (nexthdr !== NEXTHDR.HOP && nexthdr !== NEXTHDR.ROUTING && nexthdr !== NEXTHDR.DEST && nexthdr !== NEXTHDR.AUTH) return null;
    if (len < 2) return null;
    const hdrlen = nexthdr === NEXTHDR.AUTH ? (d[start + 1]! + 2) << 2 : (d[start + 1]! + 1) << 3;
    nhoff = start;
    nexthdr = d[start]!;
    len -= hdrlen;
    start += hdrlen;
  }
  return len < 0 ? null : { fhoff: start, nhoff };
}

/** ipv6frag_thdr_truncated: a first fragment whose upper-layer header (TCP 20, UDP 8, ICMPv6 8, else 1 byte) is not all there. */
function thdrTruncated(d: Uint8Array, fhoff: number): boolean {
  const walk = ipv6SkipExthdr(d, fhoff, NEXTHDR.FRAGMENT);
  if (walk.offset < 0 || (walk.fragOff & ~0x7) !== 0) return false;
  const need = walk.nexthdr === NEXTHDR.TCP ? 20 : walk.nexthdr === NEXTHDR.UDP || walk.nexthdr === NEXTHDR.ICMP ? 8 : 1;
  return walk.offset + need > d.length;
}
