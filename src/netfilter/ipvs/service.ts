/**
 * The IPVS table of one host (struct ip_vs_service, struct ip_vs_dest, include/net/ip_vs.h):
 * virtual services by protocol, address and port or by firewall mark, each with a scheduler
 * and its real servers. Counters on a destination are the ones ipvsadm -Ln prints and the
 * least-connection schedulers read.
 */
import type { SourcePlace } from '../../errors.js';

/** How packets reach a real server: ipvsadm -m (NAT), -g (direct routing), -i (IPIP tunnel). */
export type ForwardMethod = 'masq' | 'route' | 'tunnel';

export const SCHEDULER_NAMES = ['rr', 'wrr', 'lc', 'wlc', 'sh', 'dh', 'mh'] as const;
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

/** A virtual service is found by protocol, address and port (-t/-u) or by fwmark (-f). */
export type ServiceKey =
  | { readonly kind: 'addr'; readonly protocol: 6 | 17; readonly addr: number; readonly port: number }
  | { readonly kind: 'fwmark'; readonly mark: number };

/** Scheduler flags (ipvsadm -b): sh-fallback, sh-port, mh-fallback, mh-port. */
export interface SchedFlags {
  readonly fallback: boolean;
  readonly port: boolean;
}

/** A real server as ipvsadm -a gives it. */
export interface IpvsDestSpec {
  readonly addr: number;
  readonly port: number;
  readonly method: ForwardMethod;
  readonly weight: number;
  /** -x / -y: connection thresholds; 0 = none. */
  readonly upperThreshold: number;
  readonly lowerThreshold: number;
}

/** One real server at run time (struct ip_vs_dest): its spec and the counters its connections keep. */
export interface IpvsDest extends IpvsDestSpec {
  /** Connections in an active state (TCP ESTABLISHED, SYN_*; see ipvs/conn-state.ts). */
  activeConns: number;
  /** Connections in any other state. */
  inactConns: number;
  /** Persistence templates pointing here. */
  persistConns: number;
  /** IP_VS_DEST_F_OVERLOAD: upper threshold reached (ip_vs_dest_totalconns >= u_threshold). */
  overloaded: boolean;
}

/** The packet fields a scheduler may read. Addresses and ports as unsigned host-order numbers. */
export interface SchedPacket {
  readonly saddr: number;
  readonly daddr: number;
  readonly sport: number;
  readonly dport: number;
  readonly proto: number;
}

/** struct ip_vs_scheduler: picks a destination for a new connection, or null when none is usable. */
export interface Scheduler {
  schedule(svc: IpvsService, pkt: SchedPacket): IpvsDest | null;
}

/** A virtual service as ipvsadm describes it (struct ip_vs_service minus the runtime parts). */
export interface IpvsServiceSpec {
  readonly key: ServiceKey;
  readonly scheduler: SchedulerName;
  readonly flags: SchedFlags;
  /** -p TIMEOUT in seconds (persistent service), null when not persistent. */
  readonly persistent: number | null;
  /** -M netmask for persistence granularity, as a prefix mask (0xffffffff by default). */
  readonly netmask: number;
  /** -o: one-packet scheduling (UDP). */
  readonly onePacket: boolean;
  readonly dests: readonly IpvsDestSpec[];
  /** The -A line that created it. */
  readonly place: SourcePlace;
}


/** A service at run time: its spec, live destinations and the scheduler bound to it. */
export interface IpvsService {
  readonly spec: IpvsServiceSpec;
  /** In -a order; the kernel's list is the reverse (list_add_rcu), which the schedulers walk. */
  readonly dests: IpvsDest[];
  readonly scheduler: Scheduler;
}

export function newDest(spec: IpvsDestSpec): IpvsDest {
  return { ...spec, activeConns: 0, inactConns: 0, persistConns: 0, overloaded: false };
}
