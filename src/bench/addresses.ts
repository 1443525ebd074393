/**
 * The address plan of the benchmark's NAT router and the pools of hosts around it. Servers
 * and scanners come from disjoint first octets: an inbound scan then never holds a tuple a
 * masqueraded LAN flow needs, so MASQUERADE keeps every client port and the replies written
 * into the capture (addressed to the client's own port) are the right ones.
 */
import type { Prng } from '../sim/prng.js';

export const LAN_IFINDEX = 2;
export const WAN_IFINDEX = 3;
export const WAN_ADDR = ip(203, 0, 113, 1);

/** Public resolvers the DNS-like flows query. */
export const RESOLVERS = [ip(8, 8, 8, 8), ip(8, 8, 4, 4), ip(1, 1, 1, 1), ip(9, 9, 9, 9)];

/** First octets of public unicast space, none private, reserved, documentation or resolver. */
const SERVER_OCTETS = [13, 18, 23, 31, 34, 35, 52, 54, 64, 66, 69, 74, 93, 104, 142, 151, 157, 185];
const SCANNER_OCTETS = [45, 61, 80, 89, 91, 112, 118, 179, 193, 195, 212, 218];

export function ip(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

export class AddressPools {
  private readonly clients: number[];
  private readonly servers: number[];
  private readonly scanners: number[];

  constructor(private readonly prng: Prng) {
    // 10.0.0.0/16 without the router's 10.0.255.254 (the x.x.255.x rows are left out whole)
    this.clients = distinct(3000, () => ip(10, 0, prng.below(255), 1 + prng.below(254)));
    this.servers = distinct(6000, () => publicAddr(prng, SERVER_OCTETS));
    this.scanners = distinct(2000, () => publicAddr(prng, SCANNER_OCTETS));
  }

  client(): number {
    return this.clients[this.prng.below(this.clients.length)]!;
  }

  /** Popular servers get most flows: the square of a uniform draw skews towards index 0. */
  server(): number {
    const u = this.prng.u32() / 0x100000000;
    return this.servers[Math.floor(u * u * this.servers.length)]!;
  }

  scanner(): number {
    return this.scanners[this.prng.below(this.scanners.length)]!;
  }
}

/** A hop count that stays the same for one server, as a real path's would. */
export function serverTtl(addr: number): number {
  return 40 + (addr % 20);
}

function publicAddr(prng: Prng, octets: readonly number[]): number {
  return ip(octets[prng.below(octets.length)]!, prng.below(256), prng.below(256), 1 + prng.below(254));
}

function distinct(count: number, draw: () => number): number[] {
  const seen = new Set<number>();
  while (seen.size < count) seen.add(draw());
  return [...seen];
}
