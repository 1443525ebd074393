/**
 * Neighbour resolution as a capture shows it: the addresses the host asked for with ARP (Out
 * who-has) or neighbour solicitation and got no answer for. The kernel asks in rounds: the
 * packet that finds no entry sends the first request (__neigh_event_send → neigh_probe) and
 * waits in the entry's arp_queue with the packets after it; the entry's timer asks again every
 * retrans_time (1 s) and, after mcast_solicit (3) requests with no answer, fails the entry
 * (neigh_invalidate): each packet still queued is answered with host unreachable
 * (ipv4_link_failure, ip6_link_failure) at that moment, whenever it came. A packet after that
 * starts the next round. fixtures/kernel/neigh-failure: requests 1.004–1.013 s, then 1.024 s
 * apart, and the errors 1.024 s after the third, in each of four rounds (a 250-jiffy timer
 * fires on the timer wheel's 8-jiffy grain at HZ 250); five packets of one round answered together.
 * A round that begins while the entry is valid (answered, and no round failed since) is a
 * reachability probe (NUD_DELAY, NUD_PROBE: unicast requests), and packets are sent meanwhile.
 * The replay reads the capture a little ahead of the packet it feeds (capture-replay.ts
 * LOOKAHEAD_NS): the request for a next hop follows the packet within REQUEST_WINDOW_NS, and an
 * answer read later than the packet sends the packets that wait on (world/arp-queue.ts).
 */
import { PacketDirection, type CaptureRecord } from '../capture/record.js';
import { readU16, readU32 } from '../packet/ipv4.js';
import { ipv6Handle } from '../packet/ipv6-addr.js';
import { ICMPV6 } from '../packet/ipv6.js';
import type { NetDevice } from '../host/device.js';
import type { NeighbourRounds, RoundEnd } from './arp-queue.js';

const ARPOP_REQUEST = 1;
const ARPOP_REPLY = 2;

/** The requests of one round (mcast_solicit). */
const ROUND_REQUESTS = 3;
/** How long after a request the entry's timer runs again: retrans_time (1 s) as the timer wheel fires it. */
const RETRANS_NS = 1.024e9;
/**
 * When after a round's last request the entry fails: the timer runs 256 jiffies after the jiffy
 * the request went out in, 1.0240 to 1.0246 s after it in the recording. natsim takes 1 ms
 * less, so that its errors are made no later than the capture shows the kernel's (the replay
 * tells a packet the node sent itself from one natsim made by natsim's coming first).
 */
const FAIL_AFTER_LAST_NS = RETRANS_NS - 1e6;
/** Requests further apart than this are of two rounds (retrans_time and the wheel's grain, with room). */
const ROUND_GAP_NS = 1.1e9;

/**
 * When after a round's first request its end is known: its third request (about 2.04 s on) has
 * been read, the replay reading LOOKAHEAD_NS (1.2 s) ahead, and its failure (about 3.05 s on)
 * is still to come.
 */
export const CHECK_AFTER_NS = 2 * RETRANS_NS;

/** An answer this soon after a round's first request answers that request (the next goes a second later). */
const ANSWERED_AT_ONCE_NS = 0.5e9;

/** How soon after a packet its next hop's ARP request shows in the capture. */
const REQUEST_WINDOW_NS = 1e9;

/** One address's rounds of requests, in time order: each round's first and last request and how many it had. */
class Rounds {
  readonly first: number[] = [];
  readonly last: number[] = [];
  readonly requests: number[] = [];

  /** A request at `time` (not before the last): it goes on the last round, or begins the next. */
  add(time: number): void {
    const n = this.first.length - 1;
    if (n >= 0 && this.requests[n]! < ROUND_REQUESTS && time - this.last[n]! <= ROUND_GAP_NS) {
      this.last[n] = time;
      this.requests[n]!++;
      return;
    }
    this.first.push(time);
    this.last.push(time);
    this.requests.push(1);
  }

  /** When round `i` fails if nothing answers: FAIL_AFTER_LAST_NS after its third request (when the capture shows fewer, after where its third would be). */
  failure(i: number): number {
    return this.last[i]! + (ROUND_REQUESTS - this.requests[i]!) * RETRANS_NS + FAIL_AFTER_LAST_NS;
  }

  /**
   * The first round that fails after `time` (at `time` it has failed: neigh_invalidate ran), or
   * the count when none does. A search by halves: the rounds' failures are in time order as the
   * kernel's timer spaces requests (a round's first request more than ROUND_GAP_NS after the
   * last round's last).
   */
  firstFailingFrom(time: number): number {
    let lo = 0;
    let hi = this.first.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.failure(mid) <= time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * The capture's rounds, by address alone: an SLL v1 capture has no interface index to tell two
 * links' neighbours of one address apart (the kernel's entries are per device).
 */
export class NeighbourWatch implements NeighbourRounds {
  /** Per address: the rounds in which the host asked (Out who-has), and when it was answered (In is-at), in time order. */
  private readonly asked = new Map<number, Rounds>();
  private readonly answered = new Map<number, number[]>();
  /** Told of each answer as it is read (the packets waiting on its address go at its time). */
  onAnswer: ((addr: number) => void) | null = null;

  /** An ARP frame of the capture, as it is read (`time`: ns since the first record). */
  observe(r: CaptureRecord, time: number): void {
    if (r.payload.length < 28) return;
    const op = readU16(r.payload, 6);
    if (op === ARPOP_REQUEST && r.direction === PacketDirection.Outgoing) this.ask(readU32(r.payload, 24), time);
    if (op === ARPOP_REPLY && r.direction !== PacketDirection.Outgoing) this.answer(readU32(r.payload, 14), time);
  }

  /** An NDP frame: the host's neighbour solicitation (Out) and an advertisement to it (In), by target address. */
  observeNdp(r: CaptureRecord, time: number): void {
    if (r.payload.length < 64) return;
    const type = r.payload[40];
    if (type === ICMPV6.NDISC_NEIGHBOUR_SOLICITATION && r.direction === PacketDirection.Outgoing) this.ask(ipv6Handle(r.payload, 48), time);
    if (type === ICMPV6.NDISC_NEIGHBOUR_ADVERTISEMENT && r.direction !== PacketDirection.Outgoing) this.answer(ipv6Handle(r.payload, 48), time);
  }

  /**
   * The round of requests a packet sent toward `addr` at `time` waits on, by its first request's
   * time, or null if it does not wait: the round is the first that began by shortly after the
   * packet and had not failed by then. Null when the host was not asking then, when the round is
   * a reachability probe of a valid entry, and when the round's first request was answered at
   * once (within ANSWERED_AT_ONCE_NS: on a LAN microseconds, by which the packet is sent at its
   * own time); a packet whose round is answered later than that waits for the answer.
   */
  waitsOn(dev: NetDevice, addr: number, time: number): number | null {
    const rounds = this.asked.get(addr);
    if (rounds === undefined) return null;
    const i = rounds.firstFailingFrom(time);
    if (i === rounds.first.length || rounds.first[i]! > time + REQUEST_WINDOW_NS) return null;
    const first = rounds.first[i]!;
    const end = this.roundEnd(dev, addr, first);
    if (end.answered && (end.at <= time || end.at - first < ANSWERED_AT_ONCE_NS)) return null;
    // answered before this round and no round since: the entry is valid, the round a probe
    const answers = this.answered.get(addr) ?? NONE;
    const before = firstAtLeast(answers, first) - 1;
    if (before >= 0 && (i === 0 || rounds.first[i - 1]! < answers[before]!)) return null;
    return first;
  }

  /**
   * How the round that began at `first` ends, as far as the capture has been read: answered (at
   * the answer), or failed (Rounds.failure). Its third request is read by the time the replay
   * feeds a record 2 × RETRANS_NS after its first (CHECK_AFTER_NS).
   */
  roundEnd(_dev: NetDevice, addr: number, first: number): RoundEnd {
    const rounds = this.asked.get(addr)!;
    const failure = rounds.failure(firstAtLeast(rounds.first, first));
    const answers = this.answered.get(addr) ?? NONE;
    const answer = firstAtLeast(answers, first);
    return answer < answers.length && answers[answer]! <= failure ? { answered: true, at: answers[answer]! } : { answered: false, at: failure };
  }

  private answer(addr: number, time: number): void {
    push(this.answered, addr, time);
    this.onAnswer?.(addr);
  }

  private ask(addr: number, time: number): void {
    let rounds = this.asked.get(addr);
    if (rounds === undefined) this.asked.set(addr, (rounds = new Rounds()));
    rounds.add(time);
  }

  /**
   * Whether an answer for `addr` came by `time` and no round of requests failed since: its entry
   * is NUD_VALID then (REACHABLE, then STALE until something needs it again; a probe round that
   * goes unanswered fails it, NUD_PROBE → NUD_FAILED).
   */
  answeredBy(addr: number, time: number): boolean {
    return this.validAnswer(addr, time) !== null;
  }

  /** Whether the host's entry for `addr` is NUD_CONNECTED at `time`: an answer came within REACHABLE_NS before, and no round failed since. */
  connected(addr: number, time: number): boolean {
    const answer = this.validAnswer(addr, time);
    return answer !== null && answer > time - REACHABLE_NS;
  }

  /** The last answer for `addr` by `time`, unless a round of requests after it had failed by then. */
  private validAnswer(addr: number, time: number): number | null {
    const answer = lastAtMost(this.answered.get(addr) ?? NONE, time);
    if (answer === null) return null;
    const rounds = this.asked.get(addr);
    if (rounds === undefined) return answer;
    // rounds fail in time order: the first after the answer says
    const next = firstAtLeast(rounds.first, answer + 1);
    return next < rounds.first.length && rounds.failure(next) <= time ? null : answer;
  }
}

/**
 * How long an answered neighbour stays NUD_REACHABLE: base_reachable_time (30 s; the kernel
 * draws reachable_time between half and one and a half times it).
 */
const REACHABLE_NS = 30e9;

/** The index of the first of the (ascending) times that is at least `limit` (their count when none is). */
function firstAtLeast(times: readonly number[], limit: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < limit) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The latest of the (ascending) times that is at most `limit`. */
function lastAtMost(times: readonly number[], limit: number): number | null {
  for (let i = times.length - 1; i >= 0; i--) if (times[i]! <= limit) return times[i]!;
  return null;
}

function push(map: Map<number, number[]>, addr: number, time: number): void {
  const list = map.get(addr);
  if (list) list.push(time);
  else map.set(addr, [time]);
}

/** No ARP traffic seen for an address (shared, so asking allocates nothing). */
const NONE: readonly number[] = [];
