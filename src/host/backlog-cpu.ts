/**
 * Which CPU processes a packet: the `cpu` of enqueue_to_backlog in netif_rx_internal
 * (net/core/dev.c). With RPS off — rps_cpus 0, as on every node natsim has a recording of
 * (net.core.rps_default_mask = 0) — that is smp_processor_id(), the CPU that called netif_rx:
 * on a veth, the CPU the sender ran on (veth_xmit → veth_forward_skb → __netif_rx), be it the
 * sending task or the timer softirq of a TCP retransmission. The recordings show it is not a
 * flow hash: snat-fixed-port-clash's six SYNs of one flow counted 3 on cpu=0 and 3 on cpu=1.
 * The scheduler's choice is not in a capture, so natsim draws it for every packet from a
 * stream of its own (seeded by the run's seed and the host's name, apart from the kernel's
 * random draws), and says the split is its own (`ownDraw`).
 */
import { Prng, streamSeed } from '../sim/prng.js';

export class BacklogCpu {
  private readonly draws: Prng;

  constructor(
    /** The CPUs conntrack -S has a line for. */
    readonly count: number,
    seed: number,
    host: string,
  ) {
    this.draws = new Prng(streamSeed(seed, `cpu ${host}`));
  }

  /** The CPU a packet arriving from outside the host (or made by one of its tasks) runs on. */
  next(): number {
    return this.count <= 1 ? 0 : this.draws.below(this.count);
  }

  /** With more than one CPU the per-CPU split is natsim's draw, not the kernel's. */
  get ownDraw(): boolean {
    return this.count > 1;
  }
}
