/**
 * The forwarding information base: the local and main routing tables, filled from interface
 * addresses as fib_add_ifaddr does and from `ip route` lines, looked up as fib_lookup does with
 * the default rules (local table, then main: fib-tables.ts).
 */
import { inPrefix, ipv4IsMulticast, prefixMask } from '../packet/ipv4-addr.js';
import { Scope, type InAddr, type NetDevice } from './device.js';
import { FibTables, TABLE_LOCAL, TABLE_MAIN } from './fib-tables.js';

export { TABLE_LOCAL, TABLE_MAIN };

export type RouteType = 'unicast' | 'local' | 'broadcast' | 'blackhole' | 'unreachable' | 'prohibit';

export interface Route {
  readonly table: number;
  readonly type: RouteType;
  readonly dst: number;
  readonly prefixLen: number;
  readonly dev: NetDevice | null;
  /** Next-hop gateway, 0 when the destination is on-link. */
  readonly gateway: number;
  /** Preferred source address (RTA_PREFSRC), 0 when none. */
  readonly prefsrc: number;
  readonly metric: number;
  readonly scope: number;
}

export class Fib extends FibTables<Route> {
  protected matches(daddr: number, route: Route): boolean {
    return inPrefix(daddr, route.dst, route.prefixLen);
  }

  protected prefixKey(addr: number, len: number): number {
    return (addr & prefixMask(len)) >>> 0;
  }

  /**
   * fib_lookup with flowi4_oif set: the first route holding `addr`, in rule order, whose next hop
   * leaves by `dev` (fib_table_lookup skips the others and goes on to shorter prefixes).
   */
  lookupOif(addr: number, dev: NetDevice): Route | null {
    for (const table of [TABLE_LOCAL, TABLE_MAIN]) for (const r of this.routesOf(table)) if (r.dev === dev && this.matches(addr, r)) return r;
    return null;
  }

  /** fib_add_ifaddr: local /32, and for a primary its subnet route and subnet broadcast. */
  addInterfaceRoutes(dev: NetDevice, ifa: InAddr, loopback: boolean): void {
    const prim = ifa.secondary ? primaryFor(dev, ifa) : ifa;
    const base = { dev, gateway: 0, prefsrc: prim.local, metric: 0 };
    this.add({ ...base, table: TABLE_LOCAL, type: 'local', dst: ifa.local, prefixLen: 32, scope: Scope.Host });
    if (ifa.secondary) return;
    const mask = prefixMask(ifa.prefixLen);
    const prefix = (ifa.local & mask) >>> 0;
    if (prefix === 0 || (prefix === ifa.local && ifa.prefixLen === 32)) return;
    if (loopback) {
      this.add({ ...base, table: TABLE_LOCAL, type: 'local', dst: prefix, prefixLen: ifa.prefixLen, scope: Scope.Host });
    } else {
      this.add({ ...base, table: TABLE_MAIN, type: 'unicast', dst: prefix, prefixLen: ifa.prefixLen, scope: Scope.Link });
    }
    if (ifa.prefixLen < 31) {
      this.add({ ...base, table: TABLE_LOCAL, type: 'broadcast', dst: (prefix | ~mask) >>> 0, prefixLen: 32, scope: Scope.Link });
    }
  }

  /**
   * inet_addr_type: what an address is to this host, from the local table — local,
   * broadcast, multicast, else unicast (0.0.0.0 and 255.255.255.255 count as broadcast).
   */
  addrType(addr: number): 'local' | 'broadcast' | 'multicast' | 'unicast' {
    if (ipv4IsMulticast(addr)) return 'multicast';
    if (addr === 0 || addr === 0xffffffff) return 'broadcast';
    const local = this.lookupIn(TABLE_LOCAL, addr);
    if (local?.type === 'local') return 'local';
    if (local?.type === 'broadcast') return 'broadcast';
    return 'unicast';
  }
}

function primaryFor(dev: NetDevice, ifa: InAddr): InAddr {
  const mask = prefixMask(ifa.prefixLen);
  return dev.addrs.find((a) => !a.secondary && prefixMask(a.prefixLen) === mask && inPrefix(ifa.local, a.local, ifa.prefixLen)) ?? ifa;
}

/** rt_nexthop: the gateway if the route has one, else the destination itself. */
export function routeNexthop(route: Route, daddr: number): number {
  return route.gateway !== 0 ? route.gateway : daddr;
}
