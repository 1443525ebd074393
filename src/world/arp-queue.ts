/**
 * The packets a capture replay's host holds for neighbours that do not answer (struct
 * neighbour's arp_queue, net/core/neighbour.c): __neigh_event_send queues a packet while the
 * entry is INCOMPLETE, pushing the oldest out while the queue's truesize would pass
 * unres_qlen_bytes (NEIGH_QUEUEFULL); when the entry fails, neigh_invalidate answers each packet
 * still queued, in order, with host unreachable (ipv4_link_failure, ip6_link_failure) and frees
 * it; an answer after all (neigh_update) sends them on, at the answer, before any later packet
 * (an answer to the first request, within microseconds, leaves the packet unqueued: neighbours.ts).
 * fixtures/kernel/neigh-failure: of 200 datagrams of 1,228 bytes the last 92 were queued (92 ×
 * 2,304 = 211,968 of 212,992 bytes), of 300 of 128 bytes the last 256 (256 × 832). When a round
 * fails comes from a NeighbourRounds: read from the capture in a replay (neighbours.ts), known
 * CHECK_AFTER_NS after its first request; in a scenario, the kernel's timer for a next hop no
 * host owns (scenario-neighbours.ts). The probe hears of a packet when it is freed, as of the
 * record it came in (FateProbe.record).
 */
import type { NetDevice } from '../host/device.js';
import type { Host, Resume } from '../host/host.js';
import { ipv4Path, isIpv6Skb, type Skb } from '../netfilter/skb.js';
import type { NeighbourLoss } from '../netfilter/probe.js';
import { icmpSend } from '../ipv4/icmp.js';
import { icmpv6Send } from '../ipv6/icmp.js';
import { ICMP_DEST_UNREACH, ICMP_HOST_UNREACH } from '../packet/icmp.js';
import { ICMPV6 } from '../packet/ipv6.js';
import { formatInetAddr } from '../packet/inet-addr.js';
import { isIpv6 } from '../packet/ipv6-addr.js';
import { CHECK_AFTER_NS } from './neighbours.js';

/** unres_qlen_bytes' default, SK_WMEM_MAX (natsim reads no neigh sysctls: a node's own value is not known). */
export const UNRES_QLEN_BYTES = 212_992;
/** ICMPV6_ADDR_UNREACH, the code ip6_link_failure sends. */
const ICMPV6_ADDR_UNREACH = 3;

/** SKB_DATA_ALIGN: SMP_CACHE_BYTES (64) on x86_64. */
const align = (n: number): number => (n + 63) & ~63;
/** sizeof(struct sk_buff) and of struct skb_shared_info, each SKB_DATA_ALIGNed (x86_64, MAX_SKB_FRAGS 17). */
const SK_BUFF = 256;
const SHARED_INFO = 320;
/**
 * skb_small_head_cache's object (SKB_SMALL_HEAD_CACHE_SIZE), the head of every skb whose buffer
 * fits it: SKB_HEAD_ALIGN(MAX_TCP_HEADER), which the kernel's configuration sets (LL_MAX_HEADER);
 * the recording kernel's, which 256 queued small datagrams show (640 elsewhere would hold 237).
 */
const SMALL_HEAD = 576;
/** What a local socket's datagram is allocated beyond its length: hh_len (16 on Ethernet) and 15 (__ip_append_data), or the fragment header's 8 (__ip6_append_data). */
const ALLOC_EXTRA = { 4: 16 + 15, 6: 16 + 8 } as const;

/**
 * The truesize of a packet of `length` bytes as the kernel holds it, estimated as the skb a
 * local socket sends it in over an Ethernet device (sock_alloc_send_skb of the datagram and
 * ALLOC_EXTRA): its buffer and skb_shared_info in skb_small_head_cache or the kmalloc size class
 * that holds them, and the sk_buff (SKB_TRUESIZE). Exact for the recording's veth peers (832 and
 * 2,304 bytes); a NIC's driver gives its own packets its own, and a datagram past SKB_MAX_ALLOC
 * (about 16 KB) is built in pages.
 */
export function skbTruesize(length: number, family: 4 | 6): number {
  const object = align(length + ALLOC_EXTRA[family]) + SHARED_INFO;
  const size = object <= SMALL_HEAD ? SMALL_HEAD : 2 ** Math.ceil(Math.log2(object));
  return size - SHARED_INFO + SK_BUFF + SHARED_INFO;
}

/** How a round of requests ended, or will: answered (at the answer) or failed (at the failure). */
export interface RoundEnd {
  readonly answered: boolean;
  readonly at: number;
}

/** Where a host's rounds of neighbour requests come from, and how each ends (neigh_timer_handler's outcome). */
export interface NeighbourRounds {
  /** The round (its first request's time) a packet toward `addr` on `dev` at `time` waits on, or null if it is sent. */
  waitsOn(dev: NetDevice, addr: number, time: number): number | null;
  /** How the round that began at `first` ends; asked CHECK_AFTER_NS after `first`, not before. */
  roundEnd(dev: NetDevice, addr: number, first: number): RoundEnd;
  /** Told of each answer for `addr` as it becomes known (the queues waiting on it go at its time). */
  onAnswer: ((addr: number) => void) | null;
}

interface Waiting {
  readonly skb: Skb;
  /** How it goes on if the neighbour answers (null: dev_queue_xmit on the queue's device). */
  readonly resume: Resume | null;
  readonly truesize: number;
  /** The record the packet came in (FateProbe.record then), for the probe when it is freed. */
  readonly record: number;
}

/** One neighbour's queue for one round of requests (by its first request's time), until it is sent or fails. */
interface Queue {
  readonly dev: NetDevice;
  readonly nexthop: number;
  readonly round: number;
  readonly waiting: Waiting[];
  bytes: number;
  /** When an answer read ahead sends it (null: none read yet); till then later packets join it. */
  answeredAt: number | null;
}

export class ArpQueues {
  private readonly queues = new Map<string, Queue>();

  /** `later(at, run)`: a kernel timer of the replay (the neighbour's). */
  constructor(
    private readonly host: Host,
    private readonly neighbours: NeighbourRounds,
    private readonly later: (at: number, run: () => void) => void,
  ) {
    neighbours.onAnswer = (addr) => this.answered(addr);
  }

  /** The round a packet for `nexthop` on `dev` waits on: the queue's, while one waits (a later packet goes behind it), else the capture's. */
  roundFor(dev: NetDevice, nexthop: number, time: number): number | null {
    // every transmitted packet asks, most when no queue waits at all: no key made then. One at the
    // very instant the round fails joins it and fails with it (in the kernel the timer and the
    // packet race within the jiffy)
    const waiting = this.queues.size === 0 ? undefined : this.queues.get(queueKey(dev, nexthop));
    return waiting?.round ?? this.neighbours.waitsOn(dev, nexthop, time);
  }

  /** `skb` waits on `nexthop` on `dev`, for the round of requests that began at `round` (ns): held until it ends, unless pushed out. */
  add(dev: NetDevice, nexthop: number, round: number, skb: Skb, resume: Resume | null): void {
    const key = queueKey(dev, nexthop);
    let queue = this.queues.get(key);
    if (queue === undefined || queue.round !== round) {
      const q: Queue = (queue = { dev, nexthop, round, waiting: [], bytes: 0, answeredAt: null });
      this.queues.set(key, q);
      const check = Math.max(round + CHECK_AFTER_NS, skb.time);
      this.later(check, () => this.roundKnown(key, q, check));
      // its answer may be read already: it goes then
      this.answered(nexthop);
    }
    const truesize = skbTruesize(skb.pkt.length, skb.pkt.family);
    while (queue.waiting.length > 0 && queue.bytes + truesize > UNRES_QLEN_BYTES) {
      const oldest = queue.waiting.shift()!;
      queue.bytes -= oldest.truesize;
      this.free(queue, oldest, `neighbour ${formatInetAddr(nexthop)} on ${dev.name}: arp_queue full (unres_qlen_bytes ${UNRES_QLEN_BYTES}), the oldest waiting packet dropped (NEIGH_QUEUEFULL)`, skb.time, 'queue-full');
    }
    queue.waiting.push({ skb, resume, truesize, record: this.host.probe?.record ?? 0 });
    this.host.sink?.emit({ kind: 'neighbour', time: skb.time, host: this.host.name, skb: skb.id, dev: dev.name, nexthop });
    queue.bytes += truesize;
  }

  /** An answer for `addr` read ahead of the replay: a queue whose round it answers (before the round failed) goes at the answer (neigh_update). */
  private answered(addr: number): void {
    for (const [key, queue] of this.queues) {
      if (queue.nexthop !== addr || queue.answeredAt !== null) continue;
      const end = this.neighbours.roundEnd(queue.dev, addr, queue.round);
      if (!end.answered) continue;
      const at = end.at;
      queue.answeredAt = at;
      this.later(at, () => {
        if (this.queues.get(key) !== queue) return;
        this.queues.delete(key);
        this.send(queue, at);
      });
    }
  }

  /** The capture has been read past the round's requests (at `now`): unless an answer sent the queue, it fails when the round ends. */
  private roundKnown(key: string, queue: Queue, now: number): void {
    if (this.queues.get(key) !== queue || queue.answeredAt !== null) return;
    const end = this.neighbours.roundEnd(queue.dev, queue.nexthop, queue.round);
    const at = Math.max(end.at, now);
    this.later(at, () => {
      if (this.queues.get(key) !== queue) return;
      this.queues.delete(key);
      if (end.answered) this.send(queue, at);
      else this.fail(queue, at);
    });
  }

  /** neigh_update → neigh_connect: the queue goes out now that the neighbour answered, each packet as of the record it came in (the hooks a resumed one passes tell the probe). */
  private send(queue: Queue, now: number): void {
    for (const w of queue.waiting) {
      w.skb.time = now;
      this.asOfItsRecord(w, () => (w.resume ? w.resume() : this.host.devQueueXmit(w.skb, queue.dev, queue.nexthop)));
    }
  }

  /** neigh_invalidate: host unreachable for each packet still queued (arp_error_report, ndisc_error_report), which is then freed. */
  private fail(queue: Queue, now: number): void {
    const v6 = isIpv6(queue.nexthop);
    // ndisc_error_report frees the packet with no reason of its own; arp_error_report says NEIGH_FAILED
    const reason = `neighbour ${formatInetAddr(queue.nexthop)} on ${queue.dev.name} failed: no answer to ${v6 ? 'neighbour solicitation' : 'ARP (NEIGH_FAILED)'}`;
    for (const w of queue.waiting) {
      if (isIpv6Skb(w.skb)) icmpv6Send(this.host, w.skb, ICMPV6.DEST_UNREACH, ICMPV6_ADDR_UNREACH, now);
      else icmpSend(this.host, ipv4Path(w.skb), ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, now);
      this.free(queue, w, reason, now, 'failed');
    }
  }

  /** kfree_skb of a waiting packet at `now`: the probe hears of it as of the record it came in, then it is counted and traced. */
  private free(queue: Queue, w: Waiting, reason: string, now: number, how: NeighbourLoss): void {
    // a push-out happens as a newer packet's record is fed; a failure is the entry's timer's
    const at = how === 'queue-full' ? (this.host.probe?.record ?? 0) : 0;
    this.asOfItsRecord(w, () => this.host.probe?.unresolved(w.skb, queue.dev, queue.nexthop, how, now, at));
    this.host.neighbourDropped(w.skb, reason, now);
  }

  /** Runs `run` with the probe's record the one the waiting packet came in. */
  private asOfItsRecord(w: Waiting, run: () => void): void {
    const probe = this.host.probe;
    if (!probe) return run();
    const record = probe.record;
    probe.record = w.record;
    try {
      run();
    } finally {
      probe.record = record;
    }
  }
}

function queueKey(dev: NetDevice, nexthop: number): string {
  return `${dev.index} ${nexthop}`;
}
