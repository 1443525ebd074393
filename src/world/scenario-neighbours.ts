/**
 * A scenario host's neighbour entries for next hops no host of the scenario owns: nothing
 * answers their ARP (neighbour solicitation), so each round of requests fails as the kernel's
 * timer makes it fail. __neigh_event_send sends the first request at once (neigh_probe) and sets
 * the entry's timer retrans_time (250 jiffies at HZ 250) ahead; the timer wheel fires it on its
 * 8-jiffy grain (calc_index: the grain after the expiry), 1.004–1.032 s later; neigh_timer_handler
 * asks again each 256 jiffies (from a jiffy on the grain, the expiry plus 250 falls 6 before the
 * next) and, after mcast_solicit (3) requests, fails the entry (neigh_invalidate) 512 jiffies
 * after its first firing. fixtures/kernel/neigh-failure: requests 1.004–1.013 s then 1.024 s
 * apart, the errors 1.024 s after the third. A packet after the failure starts the next round
 * (an entry NUD_FAILED is not in NUD_STALE | NUD_INCOMPLETE: resolution begins again).
 * Scenario time 0 is taken to be on the timer wheel's grain (the phase of a real node's jiffies
 * is not known). An entry some host answered stays valid (a scenario's entries do not expire):
 * when that host is gone, packets are still sent to the address it gave, and no host takes them.
 */
import type { NetDevice } from '../host/device.js';
import type { NeighbourRounds, RoundEnd } from './arp-queue.js';

const JIFFY_NS = 4e6;
/** retrans_time in jiffies (1 s at HZ 250). */
const RETRANS_JIFFIES = 250;
/** The timer wheel's granularity at level 1 (timers 63–503 jiffies ahead): 8 jiffies. */
const GRAIN_SHIFT = 3;
/** mcast_solicit: the requests of a round; the timer fires once more after the last to fail it. */
const REQUESTS = 3;

/** The jiffy a timer due at `expires` fires in: calc_index's bucket, the grain after the expiry. */
const firing = (expires: number): number => ((expires >> GRAIN_SHIFT) + 1) << GRAIN_SHIFT;

/** When a round whose first request went at `first` (ns) fails: the entry's timer re-armed retrans_time ahead at each firing, the third failing it. */
export function roundFailure(first: number): number {
  let jiffy = Math.floor(first / JIFFY_NS);
  for (let i = 0; i < REQUESTS; i++) jiffy = firing(jiffy + RETRANS_JIFFIES);
  return jiffy * JIFFY_NS;
}

export class UnansweredNeighbours implements NeighbourRounds {
  /** The neighbours some host answered for, by device and address. */
  private readonly valid = new Set<string>();
  /** Never called: a scenario's neighbours never answer late (an owned one resolves at once). */
  onAnswer: ((addr: number) => void) | null = null;

  /** `resolves(dev, addr)`: whether the entry resolves at once — a host of the scenario owns `addr` on `dev`'s segment, or it needs no resolution (a group, a broadcast). */
  constructor(private readonly resolves: (dev: NetDevice, addr: number) => boolean) {}

  /** Asked only while no packet waits on the neighbour (ArpQueues.roundFor): one no host owns begins a round now. */
  waitsOn(dev: NetDevice, addr: number, time: number): number | null {
    const key = neighbourKey(dev, addr);
    if (this.valid.has(key)) return null;
    if (this.resolves(dev, addr)) {
      this.valid.add(key);
      return null;
    }
    return time;
  }

  roundEnd(_dev: NetDevice, _addr: number, first: number): RoundEnd {
    return { answered: false, at: roundFailure(first) };
  }

  /** Whether a host answered for `addr` on `dev` once: its entry still holds that host's address, there or not. */
  answeredOnce(dev: NetDevice, addr: number): boolean {
    return this.valid.has(neighbourKey(dev, addr));
  }
}

function neighbourKey(dev: NetDevice, addr: number): string {
  return `${dev.index} ${addr}`;
}
