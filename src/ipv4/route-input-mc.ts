/**
 * The multicast branch of ip_route_input_rcu (net/ipv4/route.c): a packet to a group is routed by
 * the receiving device's membership, never by the routing tables. ip_check_mc_rcu asks whether
 * the device is in the group (in_dev->mc_list: 224.0.0.1 always, and what sockets joined); a
 * group it is not in is dropped at once — not forwarded by a unicast route, not answered with an
 * ICMP error, counted nowhere. A group it is in gets a local route (ip_route_input_mc, RTN_MULTICAST
 * with RTCF_LOCAL) once ip_mc_validate_source has accepted the source. Multicast routing (a
 * group not joined, forwarded because mrouted set mc_forwarding) is not modelled.
 */
import type { NetDevice } from '../host/device.js';
import type { Host } from '../host/host.js';
import type { Ipv4Skb } from '../netfilter/skb.js';
import { IPPROTO } from '../netfilter/constants.js';
import { formatIpv4, INADDR_BROADCAST, ipv4IsLocalMulticast, ipv4IsMulticast } from '../packet/ipv4-addr.js';
import { inDevRouteLocalnet } from './devconf.js';
import { validateSource } from './route-input.js';

/**
 * ip_route_input_rcu for `skb`, to a group, received on `dev`: null when it is delivered locally,
 * else why it is dropped and by which function. ip_check_mc_rcu, then ip_route_input_mc →
 * ip_mc_validate_source.
 */
export function ipRouteInputMc(host: Host, skb: Ipv4Skb, dev: NetDevice): { readonly reason: string; readonly fn: string } | null {
  const { saddr, daddr } = skb.pkt;
  // ip_check_mc_rcu: no source filters are modelled (a socket's join takes every source)
  if (!dev.mcList.has(daddr)) return { reason: `multicast group ${formatIpv4(daddr)} not joined on ${dev.name} (ip_route_input_rcu: no multicast routing)`, fn: 'ip_route_input_rcu' };
  const invalid = mcValidateSource(host, skb, dev, saddr, daddr);
  return invalid === null ? null : { reason: invalid, fn: 'ip_mc_validate_source' };
}

/** ip_mc_validate_source: the source checks of a packet to a group the device is in. */
function mcValidateSource(host: Host, skb: Ipv4Skb, dev: NetDevice, saddr: number, daddr: number): string | null {
  if (ipv4IsMulticast(saddr) || saddr === INADDR_BROADCAST) return invalid(saddr, daddr, 'a multicast or broadcast source');
  if (saddr >>> 24 === 127 && !inDevRouteLocalnet(host.sysctl, dev.name)) return invalid(saddr, daddr, '127.0.0.0/8 from outside, route_localnet=0');
  if (saddr >>> 24 === 0) {
    // 0.0.0.0/8 (a host that has no address yet): only to a link-local group, or IGMP
    return ipv4IsLocalMulticast(daddr) || skb.pkt.proto === IPPROTO.IGMP ? null : invalid(saddr, daddr, '0.0.0.0/8 to a group beyond the link, not IGMP');
  }
  return validateSource(host, skb, dev);
}

function invalid(saddr: number, daddr: number, why: string): string {
  return `source ${formatIpv4(saddr)} of a packet to ${formatIpv4(daddr)}: ${why} (ip_mc_validate_source)`;
}
