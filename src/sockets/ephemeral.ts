/**
 * Local port choice for connect() (__inet_hash_connect, net/ipv4/inet_hashtables.c): a
 * starting point in net.ipv4.ip_local_port_range from a keyed hash — natsim draws it from the
 * seeded PRNG — then even ports first, then odd ones (connect() leaves odd ports to bind()),
 * the first whose 4-tuple is not in use.
 */
import type { Prng } from '../sim/prng.js';

export function ephemeralPort(range: string, prng: Prng, inUse: (port: number) => boolean): number | null {
  const [low, high] = range.split(/\s+/).map(Number) as [number, number];
  const count = high - low + 1;
  const offset = prng.below(count) & ~1;
  for (const parity of [0, 1]) {
    for (let i = 0; i < count; i += 2) {
      const port = low + ((offset + i + parity) % count);
      if (!inUse(port)) return port;
    }
  }
  return null;
}
