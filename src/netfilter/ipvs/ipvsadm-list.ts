/**
 * `ipvsadm -Ln` and `ipvsadm -Lnc` as ipvsadm 1.31 prints them (ipvsadm.c list_all(),
 * print_title(), print_service_entry(), list_conn(), print_conn()), numeric format only.
 */
import { formatIpv4 } from '../../packet/ipv4-addr.js';
import type { ForwardMethod, IpvsDest, IpvsService } from './service.js';

/** IP_VS_VERSION_CODE 0x010201 (include/uapi/linux/ip_vs.h). */
const IPVS_VERSION = '1.2.1';
/** ip_vs_conn_tab_size: 1 << CONFIG_IP_VS_TAB_BITS (12 by default, and in distribution kernels). */
const CONN_TAB_SIZE = 4096;

/** One line of /proc/net/ip_vs_conn, the input of print_conn(). */
export interface IpvsConnView {
  /** ip_vs_proto_name(): "IP" for a fwmark service's persistence template. */
  readonly protocol: 'TCP' | 'UDP' | 'IP';
  /** Seconds left on the timer, as ip_vs_conn_seq_show() prints them (whole seconds). */
  readonly expiresIn: number;
  readonly state: string;
  readonly caddr: number;
  readonly cport: number;
  /** For a fwmark service, the address and port the packet was sent to. */
  readonly vaddr: number;
  readonly vport: number;
  readonly daddr: number;
  readonly dport: number;
}

/** ipvsadm.c fwd_name(). */
const FORWARD_NAMES: Readonly<Record<ForwardMethod, string>> = { masq: 'Masq', route: 'Route', tunnel: 'Tunnel' };

/**
 * list_all(FMT_NUMERIC). ipvsadm sorts what the kernel returns (ipvs_sort_services(), and
 * ipvs_sort_dests() per service) unless --nosort, so the input order only shows where the
 * comparators are not a total order (addresses 2^31 or more apart, see cmpAddr). The kernel
 * returns services in its hash table order; natsim passes them in creation order, and
 * destinations in the order of `IpvsService.dests`.
 */
export function formatIpvsList(services: readonly IpvsService[]): string[] {
  return [
    `IP Virtual Server version ${IPVS_VERSION} (size=${CONN_TAB_SIZE})`,
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
    ...glibcQsort(services, cmpServices).flatMap(serviceLines),
  ];
}

/** print_service_entry() without FMT_RULE, FMT_STATS, FMT_RATE: the service line, then its servers. */
function serviceLines(svc: IpvsService): string[] {
  const spec = svc.spec;
  const key = spec.key;
  // "%-4s %s", cut at 33 characters for IPv4.
  const name = key.kind === 'fwmark' ? `FWM  ${key.mark}` : `${key.protocol === 6 ? 'TCP ' : 'UDP '} ${formatIpv4(key.addr)}:${key.port}`.slice(0, 33);
  let line = `${name} ${spec.scheduler}`;
  const flags = schedFlagNames(svc);
  if (flags.length > 0) line += ` (${flags.join(',')})`;
  if (spec.persistent !== null) {
    line += ` persistent ${spec.persistent}`;
    if (spec.netmask !== 0xffffffff) line += ` mask ${formatIpv4(spec.netmask)}`;
  }
  if (spec.onePacket) line += ' ops';
  return [line, ...glibcQsort(svc.dests, cmpDests).map(destLine)];
}

/** print_sched_flags(): IP_VS_SVC_F_SCHED1/2 are named after the scheduler that reads them. */
function schedFlagNames(svc: IpvsService): string[] {
  const { scheduler, flags } = svc.spec;
  const prefix = scheduler === 'sh' || scheduler === 'mh' ? scheduler : null;
  const names: string[] = [];
  if (flags.fallback) names.push(prefix ? `${prefix}-fallback` : 'flag-1');
  if (flags.port) names.push(prefix ? `${prefix}-port` : 'flag-2');
  return names;
}

/** "  -> %-28s %-7s %-6d %-10u %-10u" (the trailing padding is part of the output). */
function destLine(d: IpvsDest): string {
  const name = `${formatIpv4(d.addr)}:${d.port}`.slice(0, 28);
  return `  -> ${name.padEnd(28)} ${FORWARD_NAMES[d.method].padEnd(7)} ${String(d.weight).padEnd(6)} ${String(d.activeConns).padEnd(10)} ${String(d.inactConns).padEnd(10)}`;
}

/** ipvsadm -Lnc: list_conn() and print_conn(), one row per /proc/net/ip_vs_conn line, in its order. */
export function formatIpvsConnections(conns: readonly IpvsConnView[]): string[] {
  return ['IPVS connection entries', `pro expire ${'state'.padEnd(11)} ${'source'.padEnd(18)} ${'virtual'.padEnd(18)} destination`, ...conns.map(connLine)];
}

/** "%-3s %-6s %-11s %-18s %-18s %s" with the expiry as "%02d:%02d" minutes and seconds. */
function connLine(c: IpvsConnView): string {
  const secs = Math.floor(c.expiresIn);
  const expire = `${String(Math.floor(secs / 60)).padStart(2, '0')}:${String(secs % 60).padStart(2, '0')}`;
  const addr = (a: number, p: number): string => `${formatIpv4(a)}:${p}`;
  return `${c.protocol.padEnd(3)} ${expire.padEnd(6)} ${c.state.padEnd(11)} ${addr(c.caddr, c.cport).padEnd(18)} ${addr(c.vaddr, c.vport).padEnd(18)} ${addr(c.daddr, c.dport)}`;
}

/**
 * The C `int r = ntohl(a) - ntohl(b)` of libipvs' comparators: the unsigned difference read
 * as a signed int, so addresses 2^31 or more apart compare the wrong way round.
 */
function cmpAddr(a: number, b: number): number {
  return (a - b) | 0;
}

/** libipvs.c ipvs_cmp_services(): fwmark, family (all IPv4 here), protocol, address, port. */
function cmpServices(s1: IpvsService, s2: IpvsService): number {
  const k1 = s1.spec.key;
  const k2 = s2.spec.key;
  const mark1 = k1.kind === 'fwmark' ? k1.mark : 0;
  const mark2 = k2.kind === 'fwmark' ? k2.mark : 0;
  if (mark1 !== mark2) return cmpAddr(mark1, mark2);
  if (k1.kind === 'fwmark' || k2.kind === 'fwmark') return 0;
  return k1.protocol - k2.protocol || cmpAddr(k1.addr, k2.addr) || k1.port - k2.port;
}

/** libipvs.c ipvs_cmp_dests(): address, then port. */
function cmpDests(d1: IpvsDest, d2: IpvsDest): number {
  return cmpAddr(d1.addr, d2.addr) || d1.port - d2.port;
}

/**
 * glibc qsort(), which is msort_with_tmp(): a top-down merge sort (first half n/2) whose merge
 * takes from the left run while cmp <= 0. Mirrored rather than Array.prototype.sort so that
 * the comparators' wrap-around above gives the order ipvsadm prints.
 */
function glibcQsort<T>(items: readonly T[], cmp: (a: T, b: T) => number): T[] {
  if (items.length <= 1) return [...items];
  const n1 = Math.floor(items.length / 2);
  const left = glibcQsort(items.slice(0, n1), cmp);
  const right = glibcQsort(items.slice(n1), cmp);
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) out.push(cmp(left[i]!, right[j]!) <= 0 ? left[i++]! : right[j++]!);
  return out.concat(left.slice(i), right.slice(j));
}
