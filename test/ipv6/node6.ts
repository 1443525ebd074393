/** A node snapshot's devices and IPv6 FIB, as buildHost makes them (for the IPv6 tests). */
import { loadNode } from '../../src/node/snapshot.js';
import { buildDevices } from '../../src/world/build-host.js';
import { Fib6, isRoute6, parseRoute6 } from '../../src/ipv6/route.js';

export function node6(dir: string) {
  const spec = loadNode(dir).host;
  const devices = buildDevices(spec, false);
  const fib = new Fib6();
  for (const dev of devices) for (const ifa of dev.addrs6) fib.addAddressRoutes(dev, ifa);
  for (const r of spec.routes) if (isRoute6(r.value)) fib.add(parseRoute6(r.value, devices));
  return { fib, devices };
}
