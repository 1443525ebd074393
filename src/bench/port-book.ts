/**
 * Which client ports (ICMP ids) are in use towards which server, so that no two live flows
 * share a masqueraded tuple. MASQUERADE keeps a client's port only when the NATed tuple is
 * free; the generator writes replies to the client's port, so it must never make the router
 * pick another. A port is held from the flow's start until well after its conntrack entry
 * could have expired (TIME_WAIT is 120 s, UDP 30 s, ICMP 30 s).
 */

/** Longer than any timeout a finished flow's entry can be in (TIME_WAIT 120 s), in µs. */
const HOLD_AFTER_END_US = 150e6;
const SWEEP_EVERY = 50_000;

export class PortBook {
  /** "proto/port/server/dport" → time (µs) the port becomes free again. */
  private readonly until = new Map<string, number>();
  private claims = 0;

  /**
   * The first free port from `first`, walking up through [lo, hi]. The caller must call
   * hold() with the same key before the next pick().
   */
  pick(proto: number, server: number, dport: number, first: number, lo: number, hi: number, now: number): number {
    if (++this.claims % SWEEP_EVERY === 0) this.sweep(now);
    let port = first;
    for (let tries = 0; tries <= hi - lo; tries++) {
      const free = this.until.get(key(proto, port, server, dport));
      if (free === undefined || free <= now) return port;
      port = port === hi ? lo : port + 1;
    }
    throw new Error(`bench workload: no free port towards ${server}:${dport}/${proto}`);
  }

  hold(proto: number, port: number, server: number, dport: number, flowEnd: number): void {
    this.until.set(key(proto, port, server, dport), flowEnd + HOLD_AFTER_END_US);
  }

  /** Forgets ports free again, so the book stays as small as the set of live flows. */
  private sweep(now: number): void {
    for (const [k, t] of this.until) if (t <= now) this.until.delete(k);
  }
}

function key(proto: number, port: number, server: number, dport: number): string {
  return `${proto}/${port}/${server}/${dport}`;
}
