/**
 * The scenario file (design.md §4) as data: hosts with interfaces, routes, sysctls and a
 * ruleset; which hosts to trace; and timed actions. Every item keeps its place in the file.
 */
import type { NodeSocket } from '../node/sockets.js';
import type { SourcePlace } from '../errors.js';
import type { KernelVersion } from '../kernel/profile.js';
import type { PortFlags } from '../bridge/bridge.js';

export interface Located<T> {
  readonly value: T;
  readonly place: SourcePlace;
}

export interface InterfaceSpec {
  readonly name: string;
  readonly index: number | null;
  readonly addrs: Located<string>[];
  readonly link: string | null;
  /** The device's link-layer address (6 bytes), when the file gives it. */
  readonly mac: Uint8Array | null;
  /** dev->mtu; null: Ethernet's 1500. */
  readonly mtu: number | null;
  /**
   * IPv4 groups the device is in besides 224.0.0.1 (a socket's IP_ADD_MEMBERSHIP; a snapshot's
   * igmp.txt, a scenario's `groups:`): a packet to one is delivered locally, to any other dropped.
   */
  readonly groups?: readonly number[];
  /** `kind: bridge` (ip link add NAME type bridge): the device is a bridge. */
  readonly bridge?: BridgeSpec | null;
  /** `master: BRIDGE` (ip link set NAME master BRIDGE): the device is a port of that bridge. */
  readonly port?: PortSpec | null;
  readonly place: SourcePlace;
}

export interface BridgeSpec {
  /** br->ageing_time in ns (`ageing-time:`, ip -d link's ageing_time). */
  readonly ageingTime: number;
  /** FDB entries learned before the run (a node snapshot's bridge-fdb.json). */
  readonly learned?: readonly LearnedFdbEntry[];
}

/** A learned FDB entry: the address, its port, and how long before the run it was last refreshed (ns). */
export interface LearnedFdbEntry {
  readonly mac: Uint8Array;
  readonly port: string;
  readonly ago: number;
}

export interface PortSpec {
  readonly master: string;
  readonly flags: PortFlags;
  /** Where `master:` is written (a node snapshot: its file). */
  readonly place: SourcePlace;
}

export interface RulesetSpec {
  readonly text: string;
  /** Where the text comes from: its file, and the line/column its first line has there. */
  readonly file: string;
  readonly lineOffset: number;
  readonly colOffset: number;
}

export interface HostSpec {
  readonly name: string;
  readonly interfaces: InterfaceSpec[];
  readonly routes: Located<string>[];
  readonly sysctl: Located<[string, string | number]>[];
  readonly ruleset: RulesetSpec | null;
  /**
   * `ip6tables-save` text: the IPv6 family's iptables rules (a snapshot's ip6tables-save.txt, a
   * scenario's ip6tables: / ip6tables-file:), read as ip6 tables next to the ruleset's; absent: none.
   */
  readonly ip6tables?: RulesetSpec | null;
  /** `ipset save` text for the ruleset's -m set matches (absent: no sets). */
  readonly ipsets?: RulesetSpec | null;
  /** `ipvsadm -Sn` text: the host's IPVS virtual services (absent: no IPVS). */
  readonly ipvs?: RulesetSpec | null;
  /**
   * The key of the host's conntrack hash (nf_conntrack_hash_rnd, random per boot), which decides
   * the order conntrack -L lists in; absent: drawn from the run's seed.
   */
  readonly conntrackHashSeed?: number | null;
  /** A node snapshot's sockets (sockets.txt): where its own packets in a capture were addressed. */
  readonly sockets?: readonly NodeSocket[];
  readonly place: SourcePlace;
}

export interface RunStep {
  /** Virtual time in nanoseconds. */
  readonly at: number;
  readonly on: string;
  readonly action: string;
  readonly place: SourcePlace;
}

export interface ScenarioSpec {
  readonly file: string;
  readonly name: string;
  readonly about: string;
  readonly seed: number;
  readonly cpus: number;
  /** The Linux version every host behaves as (kernel/profile.ts; `kernel:`, default 6.18). */
  readonly kernel: KernelVersion;
  readonly hosts: HostSpec[];
  readonly trace: string[];
  readonly run: RunStep[];
  /** The run stops at this virtual time (ns) even if events remain; null runs until none is left. */
  readonly until: number | null;
}
