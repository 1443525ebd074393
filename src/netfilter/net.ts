/**
 * Per-network-namespace netfilter state (the parts of struct net natsim models): the
 * conntrack table and counters, the NAT bysource index, the sysctls and the seeded randomness —
 * and the kernel it runs on, with that kernel's global NAT port rovers.
 */
import type { Sysctl } from '../host/sysctl.js';
import type { KernelProfile } from '../kernel/profile.js';
import type { Prng } from '../sim/prng.js';
import { Conn } from './conntrack/conn.js';
import type { Tuple } from './conntrack/tuple.js';
import { TcpSlab } from './conntrack/tcp-slab.js';
import { ConntrackStats } from './conntrack/stats.js';
import { Mib } from '../sockets/mib.js';
import { IpDefrag } from '../ipv4/ip-fragment.js';
import { NfCtFrag6 } from '../ipv6/nf-conntrack-reasm.js';
import { ConntrackTable } from './conntrack/table.js';
import { BySource } from './nat/bysource.js';
import { ExpiryWheel } from './conntrack/expiry.js';
import { eventDestroy, type ConntrackEventSink } from './conntrack/ecache.js';
import type { FateProbe } from './probe.js';

/** The addresses and ports of a packet as the real kernel sent it (from a capture's Out side). */
export interface WireTuple {
  readonly saddr: number;
  readonly sport: number;
  readonly daddr: number;
  readonly dport: number;
  /** When it left (virtual ns). */
  readonly time: number;
}

export class NetfilterNet {
  /** The kernel's behaviours where versions differ (the one its sysctls belong to). */
  readonly kernel: KernelProfile;
  readonly table: ConntrackTable;
  readonly stats: ConntrackStats;
  readonly bysource: BySource;
  /**
   * When replaying a capture: how the kernel sent the packet now being processed, so that where
   * the kernel drew a random port natsim can take the same one if the rule allows it (see
   * nat/unique-tuple.ts followRecording). Null in scenarios and for packets the kernel did not send.
   */
  recorded: WireTuple | null = null;
  /** Who hears conntrack events (`conntrack -E`), and what each entry last reported. */
  events: ConntrackEventSink | null = null;
  readonly reported = new Map<Conn, number>();
  /** Who hears the decisions on packets and entries (`natsim explain`, `natsim diff`). */
  probe: FateProbe | null = null;
  /** When each confirmed entry expires (conntrack/expiry.ts). */
  readonly expiry = new ExpiryWheel();
  /** When the periodic expiry scan last ran (conntrack/gc.ts). */
  lastGc = 0;
  /**
   * 4.15's port rovers (nat/port-rover.ts), by protocol. In the kernel each is a static u16 of
   * its nf_nat_proto_*.c, shared by every namespace; natsim runs one namespace per simulated
   * kernel (a host), so the host's namespace is where the kernel's rovers live.
   */
  readonly portRovers = new Map<number, number>();
  /** The namespace's SNMP counters (`nstat`): IP reassembly and fragmentation among them. */
  readonly mib = new Mib();
  /** net->ipv4.fqdir: the IPv4 reassembly queues nf_defrag_ipv4 fills. */
  readonly defrag: IpDefrag;
  /** net->nf_frag.fqdir: the IPv6 reassembly queues nf_defrag_ipv6 fills. */
  readonly frag6: NfCtFrag6;
  /** ct->proto.tcp of this namespace's TCP entries (conntrack/tcp-slab.ts). */
  readonly tcpRecords = new TcpSlab(1024);
  private lastConnId = 0;

  constructor(
    readonly sysctl: Sysctl,
    readonly prng: Prng,
    cpus: number,
    /** This boot's conntrack hash key (hashTuple). */
    hashKey: number,
  ) {
    this.kernel = sysctl.kernel;
    this.stats = new ConntrackStats(cpus, this.kernel.stats);
    this.table = new ConntrackTable(sysctl.num('net.netfilter.nf_conntrack_buckets'), hashKey);
    this.bysource = new BySource(this.table.size);
    this.defrag = new IpDefrag(sysctl, this.mib);
    this.frag6 = new NfCtFrag6(sysctl, this.mib);
  }

  /** nf_ct_delete: out of the table and the NAT bysource index, with a DESTROY event; its records leave the slabs. */
  destroy(conn: Conn, now: number): void {
    this.table.remove(conn);
    this.expiry.unschedule(conn);
    this.bysource.remove(conn);
    eventDestroy(this, conn, now);
    this.probe?.destroyed(conn, now);
    conn.release();
  }

  /**
   * A packet lets go of an unconfirmed entry (nf_ct_put). The last reference gone
   * (nf_conntrack_destroy), nf_nat_cleanup_conntrack takes it out of the NAT bysource index and
   * nf_conntrack_free frees its records; the clones of a flooded frame each hold one.
   */
  putUnconfirmed(conn: Conn): void {
    if (--conn.refs > 0) return;
    this.bysource.remove(conn);
    conn.release();
  }

  nextConnId(): number {
    return ++this.lastConnId;
  }

  /** A new entry with these tuples (__nf_conntrack_alloc), its record in this namespace's table's slab. */
  newConn(orig: Tuple, reply: Tuple): Conn {
    return new Conn(this.table.records, this.nextConnId(), orig, reply);
  }
}
