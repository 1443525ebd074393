/**
 * What ip_route_input_slow (net/ipv4/route.c) refuses before it routes a received packet, and
 * fib_validate_source's check of the source (net/ipv4/fib_frontend.c):
 * - a martian source: multicast or limited broadcast, 0.0.0.0/8 (except the DHCP client's
 *   0.0.0.0 → broadcast), 127.0.0.0/8 while route_localnet is 0; a martian destination:
 *   0.0.0.0/8, or 127.0.0.0/8 from outside. The kernel keeps these counts in
 *   /proc/net/stat/rt_cache (in_martian_src, in_martian_dst), not in nstat.
 * - fib_validate_source on a packet routed locally or forwarded: the host's own address as the
 *   source is refused unless accept_local is 1; with rp_filter (the larger of conf.all and the
 *   device's), the reverse route must be unicast, and with strict rp_filter (1) leave by the
 *   device the packet came in on — else -EXDEV, counted as TcpExtIPReversePathFilter.
 * Each conf value is the input device's combined with conf.all (ipv4/devconf.ts).
 */
import type { NetDevice } from '../host/device.js';
import type { Host } from '../host/host.js';
import type { Ipv4Skb } from '../netfilter/skb.js';
import { formatIpv4, INADDR_BROADCAST, ipv4IsMulticast } from '../packet/ipv4-addr.js';
import { inDevAcceptLocal, inDevRouteLocalnet, inDevRpFilter } from './devconf.js';

const isZeronet = (a: number): boolean => a >>> 24 === 0;
const isLoopback = (a: number): boolean => a >>> 24 === 127;

/** The reason ip_route_input_slow refuses the addresses of a packet `dev` received before routing, or null. */
export function martianReason(host: Host, skb: Ipv4Skb, dev: NetDevice): string | null {
  const { saddr, daddr } = skb.pkt;
  if (ipv4IsMulticast(saddr) || saddr === INADDR_BROADCAST) return martian('source', saddr, 'a multicast or broadcast source');
  if (daddr === INADDR_BROADCAST || (saddr === 0 && daddr === 0)) return null;
  if (isZeronet(saddr)) return martian('source', saddr, '0.0.0.0/8');
  if (isZeronet(daddr)) return martian('destination', daddr, '0.0.0.0/8');
  if (isLoopback(daddr)) return inDevRouteLocalnet(host.sysctl, dev.name) ? null : martian('destination', daddr, 'loopback from outside, route_localnet=0');
  if (isLoopback(saddr) && !inDevRouteLocalnet(host.sysctl, dev.name)) return martian('source', saddr, '127.0.0.0/8 from outside, route_localnet=0');
  return null;
}

/** A refusal's reason, written only for the rare packet refused (martianReason runs for every one received). */
function martian(which: 'source' | 'destination', addr: number, why: string): string {
  return `martian ${which} ${formatIpv4(addr)}: ${why} (ip_route_input_slow)`;
}

/** inet_lookup_ifaddr_rcu: is `addr` one of the host's IPv4 addresses? Loops, as every packet routed asks (no closure a call). */
function isOwnAddress(host: Host, addr: number): boolean {
  for (const d of host.devices) for (const a of d.addrs) if (a.local === addr) return true;
  return false;
}

/**
 * fib_validate_source for a packet about to be delivered or forwarded: null when the source
 * passes, else the drop reason (having counted an rp_filter drop).
 */
export function validateSource(host: Host, skb: Ipv4Skb, dev: NetDevice): string | null {
  const saddr = skb.pkt.saddr;
  const acceptLocal = inDevAcceptLocal(host.sysctl, dev.name);
  if (!acceptLocal && isOwnAddress(host, saddr)) return `martian source ${formatIpv4(saddr)}: the host's own address (fib_validate_source, accept_local=0)`;
  const rpf = inDevRpFilter(host.sysctl, dev.name);
  if (rpf === 0) return null;
  const back = host.fib.lookup(saddr);
  if (back && back.type !== 'unicast') return `martian source ${formatIpv4(saddr)}: its reverse route is ${back.type} (fib_validate_source)`;
  if (back && (rpf !== 1 || back.dev === dev)) return null;
  host.nf.mib.inc('TcpExtIPReversePathFilter');
  return `rp_filter=${rpf}: ${back ? `the route back to ${formatIpv4(saddr)} leaves by ${back.dev?.name ?? 'no device'}, not ${dev.name}` : `no route back to ${formatIpv4(saddr)}`} (fib_validate_source -EXDEV, TcpExtIPReversePathFilter)`;
}

/**
 * rt_flags & (RTCF_BROADCAST | RTCF_MULTICAST) of the route a packet from `saddr` to `daddr`
 * takes: a group, the limited broadcast (or 0.0.0.0 from 0.0.0.0), or a broadcast address of
 * the host's own subnets. Such a packet gets no ICMP error (icmp_send), and no echo reply while
 * icmp_echo_ignore_broadcasts is 1 (icmp_rcv).
 */
export function routeIsBroadcast(host: Host, saddr: number, daddr: number): boolean {
  if (ipv4IsMulticast(daddr) || daddr === INADDR_BROADCAST || (saddr === 0 && daddr === 0)) return true;
  return host.fib.lookup(daddr)?.type === 'broadcast';
}
