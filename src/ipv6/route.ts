/**
 * The IPv6 FIB (net/ipv6/ip6_fib.c, route.c): the local and main tables, filled from the
 * addresses as addrconf does (the address itself in local, its prefix route in main with metric
 * 256, fe80::/64 on every device with a link-local address) and from `ip -6 route` lines, and
 * looked up as fib6_lookup does with the default rules (local, then main): longest prefix, then
 * lowest metric, then the route added first. Multipath, source-specific (`from`) routes and
 * multicast routes are not modelled.
 *
 * Route lines: [unicast|local|blackhole|unreachable|prohibit] PREFIX|default [via GW] [dev NAME]
 * [src ADDR] [metric N] [table main|local|N] [pref low|medium|high] [proto X]
 */
import type { NetDevice } from '../host/device.js';
import { FibTables, TABLE_LOCAL, TABLE_MAIN } from '../host/fib-tables.js';
import { readRouteOptions } from '../host/route-syntax.js';
import { formatIpv6, ipv6Bytes, ipv6Handle, ipv6PrefixEqual, ipv6PrefixKey, parseIpv6, parseIpv6Prefix } from '../packet/ipv6-addr.js';
import { ipv6AddrType, type Inet6Ifaddr } from './addrconf.js';

export type Route6Type = 'unicast' | 'local' | 'blackhole' | 'unreachable' | 'prohibit';

export interface Route6 {
  readonly table: number;
  readonly type: Route6Type;
  readonly dst: number;
  readonly prefixLen: number;
  readonly dev: NetDevice | null;
  /** The next hop, null when the destination is on-link. */
  readonly gateway: number | null;
  /** RTA_PREFSRC, null when none. */
  readonly prefsrc: number | null;
  readonly metric: number;
}

/** IP6_RT_PRIO_ADDRCONF: the metric of the kernel's prefix routes; user routes default to IP6_RT_PRIO_USER. */
const PRIO_ADDRCONF = 256;
const PRIO_USER = 1024;
const TYPES = new Set<Route6Type>(['unicast', 'local', 'blackhole', 'unreachable', 'prohibit']);

export class Fib6 extends FibTables<Route6> {
  protected matches(daddr: number, route: Route6): boolean {
    return ipv6PrefixEqual(daddr, route.dst, route.prefixLen);
  }

  protected prefixKey(addr: number, len: number): string {
    return ipv6PrefixKey(addr, len);
  }

  /**
   * addrconf_add_ifaddr → ipv6_add_addr: the address as a local route, and (unless it is a /128)
   * its prefix route (addrconf_prefix_route); a link-local address also gives fe80::/64.
   */
  addAddressRoutes(dev: NetDevice, ifa: Inet6Ifaddr): void {
    const base = { dev, gateway: null, prefsrc: null };
    this.add({ ...base, table: TABLE_LOCAL, type: 'local', dst: ifa.addr, prefixLen: 128, metric: 0 });
    if (ifa.prefixLen === 128 || dev.type === 'loopback') return;
    const prefix = maskedPrefix(ifa.addr, ifa.prefixLen);
    if (this.routesOf(TABLE_MAIN).some((r) => r.dev === dev && r.dst === prefix && r.prefixLen === ifa.prefixLen)) return;
    this.add({ ...base, table: TABLE_MAIN, type: 'unicast', dst: prefix, prefixLen: ifa.prefixLen, metric: PRIO_ADDRCONF });
  }
}

/** The prefix of `addr` with its host bits cleared. */
function maskedPrefix(addr: number, len: number): number {
  const bytes = ipv6Bytes(addr);
  for (let i = 0, left = len; i < 16; i++, left -= 8) if (left < 8) bytes[i] = left <= 0 ? 0 : bytes[i]! & (0xff << (8 - left));
  return ipv6Handle(bytes);
}

/** Whether a route line is IPv6: an IPv6 address in it, or `pref`, which only IPv6 routes have. */
export function isRoute6(text: string): boolean {
  return text.includes(':') || /(^|\s)pref\s/.test(text);
}

/** Parses one IPv6 route; `devices` resolves `dev NAME` and finds the device of an on-link gateway. Throws Error(reason). */
export function parseRoute6(text: string, devices: readonly NetDevice[]): Route6 {
  const words = text.trim().split(/\s+/);
  let i = 0;
  let type: Route6Type = 'unicast';
  if (TYPES.has(words[0] as Route6Type)) type = words[i++] as Route6Type;
  const dstWord = words[i++];
  if (dstWord === undefined) throw new Error('route has no destination');
  const dst = dstWord === 'default' ? { addr: parseIpv6('::')!, len: 0 } : parseIpv6Prefix(dstWord);
  if (!dst) throw new Error(`bad destination '${dstWord}'`);
  const o = readRouteOptions(words.slice(i), devices, parseIpv6, 'ipv6');
  const gateway = o.gateway;
  let dev = o.dev;
  if (gateway !== null && ipv6AddrType(gateway).multicast) throw new Error(`gateway ${formatIpv6(gateway)} is a multicast address`);
  if (type === 'unicast' && !dev && gateway !== null) dev = onLinkDevice(devices, gateway);
  if (type === 'unicast' && !dev) throw new Error(gateway !== null ? `gateway ${formatIpv6(gateway)} is not on a connected prefix (Nexthop has invalid gateway)` : 'route needs dev or via');
  return { table: o.table ?? (type === 'local' ? TABLE_LOCAL : TABLE_MAIN), type, dst: maskedPrefix(dst.addr, dst.len), prefixLen: dst.len, dev, gateway, prefsrc: o.prefsrc, metric: o.metric ?? PRIO_USER };
}

/** The device whose address prefix holds an on-link gateway. */
function onLinkDevice(devices: readonly NetDevice[], gateway: number): NetDevice | null {
  return devices.find((d) => d.addrs6.some((a) => ipv6PrefixEqual(gateway, a.addr, a.prefixLen))) ?? null;
}
