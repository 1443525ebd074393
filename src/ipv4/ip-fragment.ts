/**
 * IPv4 reassembly (net/ipv4/ip_fragment.c ip_defrag, ip_frag_queue, ip_frag_reasm; the queue
 * insertion of net/ipv4/inet_fragment.c inet_frag_queue_insert), as nf_defrag_ipv4 calls it
 * for conntrack at PRE_ROUTING and LOCAL_OUT: a fragment waits in the queue of its datagram —
 * keyed by source, destination, IP id, protocol and the defrag user — until the whole datagram
 * is there, and then goes on as that datagram.
 *
 * What natsim does not model: the per-boot hash of the queues (no effect but speed), the ECN
 * combination check of ip_frag_ecn_table, and the ICMP "fragment reassembly time exceeded" of
 * ip_expire for a datagram addressed to the host (natsim drops the queue and counts it).
 * Memory is accounted as the kernel does, by each fragment's skb->truesize, here its length
 * plus the sk_buff and skb_shared_info (SKB_TRUESIZE; kmalloc's rounding is left out).
 */
import { checksum } from '../packet/checksum.js';
import { Ipv4Packet, writeU16 } from '../packet/ipv4.js';
import type { Mib } from '../sockets/mib.js';
import type { Sysctl } from '../host/sysctl.js';
import { emptyQueue, Fqdir, fragQueueComplete, SKB_OVERHEAD, type FragRange, type InetFragQueue, type Reassembled } from '../netfilter/inet-fragment.js';

/** Which caller reassembles (enum ip_defrag_users): queues of different users never mix. */
export const enum DefragUser {
  LocalDeliver = 0,
  ConntrackIn = 1,
  ConntrackOut = 2,
}

const IP_DF = 0x4000;

interface Fragment extends FragRange {
  readonly pkt: Ipv4Packet;
}

/** struct ipq: one datagram being reassembled; max_df_size the largest of its fragments with DF. */
type Ipq = InetFragQueue<Fragment, { maxDfSize: number }>;

/** What ip_defrag made of a fragment. */
export type DefragResult =
  /** The datagram is whole. */
  | Reassembled<Ipv4Packet>
  /** Held in its queue (NF_STOLEN). */
  | { readonly kind: 'queued' }
  /** Dropped, with why. */
  | { readonly kind: 'dropped'; readonly reason: string };

export class IpDefrag {
  /** net->ipv4.fqdir */
  private readonly fqdir = new Fqdir<Ipq>();

  constructor(
    private readonly sysctl: Sysctl,
    private readonly mib: Mib,
  ) {}

  /** ip_defrag: `pkt` is a fragment (ip_is_fragment) arriving at `now`. */
  defrag(pkt: Ipv4Packet, user: DefragUser, now: number): DefragResult {
    this.mib.inc('IpReasmReqds');
    this.expire(now);
    const key = `${user} ${pkt.saddr} ${pkt.daddr} ${pkt.id} ${pkt.proto}`;
    const q = this.fqdir.find(key, this.sysctl.num('net.ipv4.ipfrag_high_thresh'), () => ({ ...emptyQueue(key, now + this.sysctl.num('net.ipv4.ipfrag_time') * 1e9), maxDfSize: 0 }));
    if (!q) return this.fail('reassembly memory over net.ipv4.ipfrag_high_thresh (inet_frag_find)');
    return this.queue(q, pkt);
  }

  /** ip_frag_queue. */
  private queue(q: Ipq, pkt: Ipv4Packet): DefragResult {
    const ihl = pkt.l4off;
    const offset = pkt.fragOffset;
    let end = offset + pkt.length - ihl;
    if (!pkt.moreFragments) {
      // the last fragment: nothing may lie beyond it, and a second last one must agree
      if (end < q.len || (q.lastIn && end !== q.len)) return this.kill(q, 'a last fragment that ends before data already held (ip_frag_queue)');
      q.lastIn = true;
      q.len = end;
    } else {
      end &= ~7; // a fragment that is not the last carries a multiple of 8 bytes
      if (end > q.len) {
        if (q.lastIn) return this.kill(q, 'a fragment beyond the datagram\'s end (ip_frag_queue)');
        q.len = end;
      }
    }
    if (end === offset) return this.kill(q, 'an empty fragment (ip_frag_queue)');
    const inserted = this.fqdir.insert(q, { offset, end, pkt: pkt.copy() }, pkt.length + SKB_OVERHEAD);
    if (inserted === 'dup') return { kind: 'dropped', reason: 'a duplicate fragment (IPFRAG_DUP)' };
    if (inserted === 'overlap') {
      this.mib.inc('IpReasmOverlaps');
      return this.kill(q, 'fragments overlap (IPFRAG_OVERLAP: the whole datagram is dropped)');
    }
    const fragsize = pkt.length;
    if (fragsize > q.maxSize) q.maxSize = fragsize;
    if (pkt.dontFragment && fragsize > q.maxDfSize) q.maxDfSize = fragsize;
    if (fragQueueComplete(q)) return this.reasm(q);
    return { kind: 'queued' };
  }

  /**
   * ip_frag_reasm: the first fragment's header over all the data, tot_len set, frag_off DF
   * only when every fragment had it (max_df_size == max_size), the header checksum redone.
   */
  private reasm(q: Ipq): DefragResult {
    this.fqdir.kill(q);
    const head = q.fragments[0]!.pkt;
    const ihl = head.l4off;
    const bytes = new Uint8Array(ihl + q.len);
    bytes.set(head.data.subarray(0, ihl));
    for (const f of q.fragments) bytes.set(f.pkt.data.subarray(f.pkt.l4off, f.pkt.l4off + (f.end - f.offset)), ihl + f.offset);
    writeU16(bytes, 2, bytes.length);
    writeU16(bytes, 6, q.maxDfSize === q.maxSize ? IP_DF : 0);
    writeU16(bytes, 10, 0);
    writeU16(bytes, 10, checksum(bytes, 0, ihl));
    const pkt = Ipv4Packet.adopt(bytes);
    if (typeof pkt === 'string') return this.fail(`the reassembled datagram is not one natsim handles (${pkt})`);
    this.mib.inc('IpReasmOKs');
    return { kind: 'whole', pkt, fragMaxSize: Math.max(q.maxDfSize, q.maxSize), pieces: q.fragments.map((f) => f.end - f.offset) };
  }

  /** ip_expire for every queue whose timer has run out by `now` (ipfrag_time after its first fragment). */
  private expire(now: number): void {
    for (let n = this.fqdir.expire(now).length; n > 0; n--) {
      this.mib.inc('IpReasmFails');
      this.mib.inc('IpReasmTimeout');
    }
  }

  /** inet_frag_kill and IPSTATS_MIB_REASMFAILS: the queue and what it held are gone. */
  private kill(q: Ipq, reason: string): DefragResult {
    this.fqdir.kill(q);
    return this.fail(reason);
  }

  private fail(reason: string): DefragResult {
    this.mib.inc('IpReasmFails');
    return { kind: 'dropped', reason };
  }
}
