/**
 * inet_select_addr (net/ipv4/devinet.c): which local address a host uses as the source toward
 * `dst` out of `dev`. MASQUERADE calls it with the route's next hop and RT_SCOPE_UNIVERSE.
 */
import { ifaMatch, Scope, type NetDevice } from '../host/device.js';

/**
 * 1. On `dev`, the first primary address of acceptable scope whose subnet holds `dst`; failing
 *    that, the first primary of acceptable scope.
 * 2. Otherwise the first primary of acceptable scope on any device, in device order
 *    (loopback first, as in the kernel's dev_base list). Returns 0 when there is none.
 * route_localnet is not modelled (loopback addresses count as scope host).
 */
export function inetSelectAddr(devices: readonly NetDevice[], dev: NetDevice, dst: number, scope: number): number {
  let fallback = 0;
  for (const ifa of dev.addrs) {
    if (ifa.secondary || Math.min(ifa.scope, Scope.Host) > scope) continue;
    if (dst === 0 || ifaMatch(dst, ifa)) return ifa.local;
    if (fallback === 0) fallback = ifa.local;
  }
  if (fallback !== 0) return fallback;
  for (const other of devices) {
    for (const ifa of other.addrs) {
      if (!ifa.secondary && Math.min(ifa.scope, Scope.Host) <= scope) return ifa.local;
    }
  }
  return 0;
}
