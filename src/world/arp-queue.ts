/**
 * The packets a capture replay's host holds for neighbours that do not answer (struct
 * neighbour's arp_queue, net/core/neighbour.c): __neigh_event_send queues a packet while the
 * entry is INCOMPLETE, pushing the oldest out while the queue's truesize would pass
 * unres_qlen_bytes (NEIGH_QUEUEFULL); when the entry fails, neigh_invalidate answers each packet
 * still queued, in order, with host unreachable (ipv4_link_failure, ip6_link_failure) and frees
 * it; an answer after all (neigh_update) sends them on. fixtures/kernel/neigh-failure: of 200
 * datagrams of 1,228 bytes the last 92 were queued (92 × 2,304 = 211,968 of 212,992 bytes), of
 * 300 of 128 bytes the last 256 (256 × 832). When a round ends is read from the capture
 * (neighbours.ts): known CHECK_AFTER_NS after its first request, when the queue learns it.
 */
import type { NetDevice } from '../host/device.js';
import type { Host } from '../host/host.js';
import { ipv4Path, isIpv6Skb, type Skb } from '../netfilter/skb.js';
import { icmpSend } from '../ipv4/icmp.js';
import { icmpv6Send } from '../ipv6/icmp.js';
import { ICMP_DEST_UNREACH, ICMP_HOST_UNREACH } from '../packet/icmp.js';
import { ICMPV6 } from '../packet/ipv6.js';
import { formatInetAddr } from '../packet/inet-addr.js';
import { isIpv6 } from '../packet/ipv6-addr.js';
import { CHECK_AFTER_NS, type NeighbourWatch } from './neighbours.js';

/** unres_qlen_bytes' default, SK_WMEM_MAX (natsim reads no neigh sysctls: a node's own value is not known). */
export const UNRES_QLEN_BYTES = 212_992;
/** ICMPV6_ADDR_UNREACH, the code ip6_link_failure sends. */
const ICMPV6_ADDR_UNREACH = 3;

/** SKB_DATA_ALIGN: SMP_CACHE_BYTES (64) on x86_64. */
const align = (n: number): number => (n + 63) & ~63;
/** sizeof(struct sk_buff) and of struct skb_shared_info, each SKB_DATA_ALIGNed (x86_64, MAX_SKB_FRAGS 17). */
const SK_BUFF = 256;
const SHARED_INFO = 320;
/** skb_small_head_cache's object (SKB_SMALL_HEAD_CACHE_SIZE): the head of every skb whose buffer fits it. */
const SMALL_HEAD = 576;

/**
 * The truesize of a packet of `length` bytes as the kernel holds it, estimated as the skb a
 * local UDP socket sends it in over an Ethernet device (ip_make_skb: sock_alloc_send_skb of the
 * datagram, hh_len 16 and 15 more): its buffer and skb_shared_info in skb_small_head_cache or
 * the kmalloc size class that holds them, and the sk_buff (SKB_TRUESIZE). Exact for the
 * recording's veth peers (832 and 2,304 bytes); a NIC's driver gives its own packets its own.
 */
export function skbTruesize(length: number): number {
  const object = align(length + 16 + 15) + SHARED_INFO;
  const size = object <= SMALL_HEAD ? SMALL_HEAD : 2 ** Math.ceil(Math.log2(object));
  return size - SHARED_INFO + SK_BUFF + SHARED_INFO;
}

interface Waiting {
  readonly skb: Skb;
  readonly truesize: number;
}

/** One neighbour's queue for one round of requests (by its first request's time). */
interface Queue {
  readonly round: number;
  readonly waiting: Waiting[];
  bytes: number;
}

export class ArpQueues {
  private readonly queues = new Map<string, Queue>();

  /** `later(at, run)`: a kernel timer of the replay (the neighbour's). */
  constructor(
    private readonly host: Host,
    private readonly neighbours: NeighbourWatch,
    private readonly later: (at: number, run: () => void) => void,
  ) {}

  /** `skb` waits on `nexthop` on `dev`, for the round of requests that began at `round` (ns): held until it ends, unless pushed out. */
  add(dev: NetDevice, nexthop: number, round: number, skb: Skb): void {
    const key = `${dev.index} ${nexthop}`;
    let queue = this.queues.get(key);
    if (queue === undefined || queue.round !== round) {
      const q: Queue = (queue = { round, waiting: [], bytes: 0 });
      this.queues.set(key, q);
      const check = Math.max(round + CHECK_AFTER_NS, skb.time);
      this.later(check, () => this.roundKnown(key, q, dev, nexthop, check));
    }
    const truesize = skbTruesize(skb.pkt.length);
    while (queue.waiting.length > 0 && queue.bytes + truesize > UNRES_QLEN_BYTES) {
      const oldest = queue.waiting.shift()!;
      queue.bytes -= oldest.truesize;
      this.host.neighbourDropped(oldest.skb, `neighbour ${formatInetAddr(nexthop)} on ${dev.name}: arp_queue full (unres_qlen_bytes ${UNRES_QLEN_BYTES}), the oldest waiting packet dropped (NEIGH_QUEUEFULL)`, skb.time);
    }
    queue.waiting.push({ skb, truesize });
    queue.bytes += truesize;
  }

  /**
   * The capture has been read past the round's requests (at `now`): the queue goes when the
   * round ends — or now, for an answer read only after its packets began to wait (more than the
   * replay's lookahead after the request: on a LAN answers take microseconds).
   */
  private roundKnown(key: string, queue: Queue, dev: NetDevice, nexthop: number, now: number): void {
    const end = this.neighbours.roundEnd(nexthop, queue.round);
    const at = Math.max(end.at, now);
    this.later(at, () => {
      if (this.queues.get(key) === queue) this.queues.delete(key);
      if (end.answered) this.send(queue, dev, nexthop, at);
      else this.fail(queue, dev, nexthop, at);
    });
  }

  /** neigh_update → neigh_connect: the queue goes out now that the neighbour answered. */
  private send(queue: Queue, dev: NetDevice, nexthop: number, now: number): void {
    for (const { skb } of queue.waiting) {
      skb.time = now;
      this.host.devTap(skb, dev, nexthop);
    }
  }

  /** neigh_invalidate: host unreachable for each packet still queued, which is then freed. */
  private fail(queue: Queue, dev: NetDevice, nexthop: number, now: number): void {
    const reason = `neighbour ${formatInetAddr(nexthop)} on ${dev.name} failed: no answer to ${isIpv6(nexthop) ? 'neighbour solicitation' : 'ARP'} (NEIGH_FAILED)`;
    for (const { skb } of queue.waiting) {
      if (isIpv6Skb(skb)) icmpv6Send(this.host, skb, ICMPV6.DEST_UNREACH, ICMPV6_ADDR_UNREACH, now);
      else icmpSend(this.host, ipv4Path(skb), ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, now);
      this.host.neighbourDropped(skb, reason, now);
    }
  }
}
