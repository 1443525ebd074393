/**
 * What IPv4 and IPv6 reassembly share (net/ipv4/inet_fragment.c, include/net/inet_frag.h): the
 * queue of one datagram (struct inet_frag_queue), the namespace's set of them with the memory
 * they hold (struct fqdir: inet_frag_find, inet_frag_kill), the order fragments are kept in and
 * what counts as a duplicate or an overlap (inet_frag_queue_insert), and the memory a held
 * fragment is accounted for. ipv4/ip-fragment.ts (ip_frag_queue) and ipv6/nf-conntrack-reasm.ts
 * (nf_ct_frag6_queue) decide the rest for their family.
 */

import { Verdict } from './constants.js';
import type { HookState } from './hooks.js';
import type { Skb } from './skb.js';
import type { L3Packet } from '../packet/l3-packet.js';

/** SKB_DATA_ALIGN(sizeof(struct sk_buff)) + SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86_64: a fragment's truesize is its length plus this. */
export const SKB_OVERHEAD = 256 + 320;

/** A fragment's place in its datagram: the offset and end of its data (bytes). */
export interface FragRange {
  readonly offset: number;
  readonly end: number;
}

/**
 * struct inet_frag_queue: one datagram being reassembled, its fragments of type F. struct ipq
 * and struct frag_queue add their family's fields to it (E).
 */
export type InetFragQueue<F extends FragRange, E = object> = E & {
  readonly key: string;
  /** rb_fragments: in offset order, none overlapping. */
  readonly fragments: F[];
  /** q.len: the datagram's data length as known so far (the last fragment's end once it came). */
  len: number;
  /** INET_FRAG_FIRST_IN, INET_FRAG_LAST_IN. */
  firstIn: boolean;
  lastIn: boolean;
  /** q.meat: data bytes held. */
  meat: number;
  /** q.max_size: IPv4's largest fragment (header included), IPv6's largest payload length. */
  maxSize: number;
  /** The truesize of the fragments held, given back to the fqdir when the queue dies. */
  truesize: number;
  /** When the queue's timer runs (ns). */
  readonly expires: number;
};

/** The fields every new queue starts with (inet_frag_alloc): nothing held yet. */
export function emptyQueue(key: string, expires: number): InetFragQueue<never> {
  return { key, fragments: [], len: 0, firstIn: false, lastIn: false, meat: 0, maxSize: 0, truesize: 0, expires };
}

/** struct fqdir: a family's queues in one namespace, and fqdir->mem, the truesize of every fragment they hold. */
export class Fqdir<Q extends InetFragQueue<FragRange>> {
  private readonly queues = new Map<string, Q>();
  private mem = 0;

  /** frag_mem_limit: what the high threshold is compared with. */
  get memory(): number {
    return this.mem;
  }

  /**
   * inet_frag_find: the queue of `key`, else a new one from `create` — none while the
   * fragments held are over `highThresh` (null: the caller drops the fragment).
   */
  find(key: string, highThresh: number, create: () => Q): Q | null {
    const q = this.queues.get(key);
    if (q) return q;
    if (this.mem > highThresh) return null;
    const fresh = create();
    this.queues.set(key, fresh);
    return fresh;
  }

  /**
   * inet_frag_queue_insert of `f` into `q`, and what both families do when it went in: its data
   * counted (q.meat), its `truesize` accounted (add_frag_mem_limit), the first fragment noted.
   */
  insert(q: Q, f: Q['fragments'][number], truesize: number): 'ok' | 'dup' | 'overlap' {
    const inserted = fragQueueInsert(q.fragments, f);
    if (inserted !== 'ok') return inserted;
    q.meat += f.end - f.offset;
    q.truesize += truesize;
    this.mem += truesize;
    if (f.offset === 0) q.firstIn = true;
    return 'ok';
  }

  /** inet_frag_kill: the queue and what it held are gone. */
  kill(q: Q): void {
    this.queues.delete(q.key);
    this.mem -= q.truesize;
  }

  /** The queues whose timer has run out by `now`, taken out (their expire function decides the rest). */
  expire(now: number): Q[] {
    const out: Q[] = [];
    for (const q of this.queues.values()) {
      if (q.expires > now) continue;
      this.kill(q);
      out.push(q);
    }
    return out;
  }
}

/** Every fragment is there: the first, the last and all the data between (the reasm condition of ip_frag_queue and nf_ct_frag6_queue). */
export function fragQueueComplete(q: InetFragQueue<FragRange>): boolean {
  return q.firstIn && q.lastIn && q.meat === q.len;
}

/**
 * inet_frag_queue_insert: in offset order. Fragments that follow each other without a gap make
 * a run; a fragment that lies inside a run is a duplicate (IPFRAG_DUP), one that overlaps a run
 * in part makes the datagram unusable (IPFRAG_OVERLAP: RFC 5722 for IPv6; IPv4 too since 4.19).
 */
function fragQueueInsert<F extends FragRange>(list: F[], f: F): 'ok' | 'dup' | 'overlap' {
  for (let i = 0; i < list.length; ) {
    const runStart = list[i]!.offset;
    let j = i;
    while (j + 1 < list.length && list[j + 1]!.offset === list[j]!.end) j++;
    const runEnd = list[j]!.end;
    if (f.end <= runStart) {
      list.splice(i, 0, f);
      return 'ok';
    }
    if (f.offset < runEnd) return f.offset >= runStart && f.end <= runEnd ? 'dup' : 'overlap';
    i = j + 1;
  }
  list.push(f);
  return 'ok';
}

/** A datagram its last missing fragment completed: it, its largest fragment (IPCB / IP6CB frag_max_size) and the data sizes it came in. */
export interface Reassembled<P extends L3Packet> {
  readonly kind: 'whole';
  readonly pkt: P;
  readonly fragMaxSize: number;
  readonly pieces: readonly number[];
}

/**
 * The defrag hook's skb that completed a datagram goes on through the hook as that datagram
 * (the head ip_frag_reasm and nf_ct_frag6_reasm make of it), frag_max_size and its pieces
 * recorded, ignore_df set so that output may cut it again no larger than it came. `fn` names
 * the family's reassembly for the trace.
 */
export function continueReassembled<P extends L3Packet>(skb: Skb<P>, state: HookState, r: Reassembled<P>, fn: string): Verdict {
  state.notes?.push(`reassembled: ${r.pieces.length} fragments, ${r.pkt.length} bytes (${fn})`);
  skb.pkt = r.pkt;
  skb.fragMaxSize = r.fragMaxSize;
  skb.fragPieces = r.pieces;
  skb.ignoreDf = true;
  return Verdict.Accept;
}
