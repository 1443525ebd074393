/**
 * The IPv4 receive path (net/ipv4/ip_input.c): ip_rcv → NF_HOOK(PRE_ROUTING) → ip_rcv_finish,
 * where the route decides → ip_local_deliver (reassembly, NF_HOOK(LOCAL_IN), the socket) or
 * ip_forward (ipv4/ip-forward.ts).
 */
import { Hook } from '../netfilter/constants.js';
import type { Ipv4Skb } from '../netfilter/skb.js';
import type { NetDevice } from '../host/device.js';
import type { Host } from '../host/host.js';
import { ipForward } from './ip-forward.js';
import { DefragUser } from './ip-fragment.js';
import { ipSabotageIn } from '../bridge/br-netfilter.js';
import { ipRcvCore, ipRcvOptions } from './ip-rcv-core.js';
import { martianReason, validateSource } from './route-input.js';
import { ipRouteInputMc } from './route-input-mc.js';
import { INADDR_BROADCAST, ipv4IsMulticast } from '../packet/ipv4-addr.js';
import { marksRedirect } from './rt-redirect.js';
import { icmpSend } from './icmp.js';
import { HZ } from '../netfilter/rules/jiffies.js';
import { ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, ICMP_NET_UNREACH, ICMP_PKT_FILTERED } from '../packet/icmp.js';
import type { Route } from '../host/fib.js';

/** ip_rcv: a packet that arrived on `dev` (the host has counted and shown it). */
export function ipRcv(host: Host, skb: Ipv4Skb, dev: NetDevice): void {
  if (!ipRcvCore(host, skb)) return;
  // ip_sabotage_in (NF_IP_PRI_FIRST): a frame br_netfilter ran through PRE_ROUTING on the bridge skips the hook
  if (!ipSabotageIn(skb) && !host.nfHook(Hook.PreRouting, skb, dev, null)) return;
  ipRcvFinish(host, skb, dev);
}

/**
 * ip_rcv_finish → ip_route_input_noref: local delivery, or forwarding when it is on; martian
 * addresses and a source fib_validate_source refuses are dropped there. The options are
 * checked once the route is known (ip_rcv_options).
 */
function ipRcvFinish(host: Host, skb: Ipv4Skb, dev: NetDevice): void {
  // a looped-back packet keeps the route it was sent by (loopback_xmit leaves skb_dst): no input route lookup
  const looped = dev.type === 'loopback';
  const { saddr, daddr } = skb.pkt;
  if (!looped && ipv4IsMulticast(daddr)) return ipRcvMulticast(host, skb, dev);
  const martian = looped ? null : martianReason(host, skb, dev);
  if (martian) return host.routeDrop(skb, martian, 'ip_route_input_slow');
  // ip_route_input_slow sends the limited broadcast (and 0.0.0.0 to 0.0.0.0) to brd_input before any lookup
  if (daddr === INADDR_BROADCAST || (saddr === 0 && daddr === 0)) return ipRcvLocal(host, skb, dev, 'broadcast', dev.name);
  const route = host.fib.lookup(daddr);
  if (route && (route.type === 'local' || route.type === 'broadcast')) return ipRcvLocal(host, skb, dev, route.type, route.dev?.name ?? null);
  if (host.sysctl.n['net.ipv4.ip_forward'] !== 1) {
    // ip_route_input_slow: -EHOSTUNREACH, and ip_error counts it (IN_DEV_FORWARD off)
    host.nf.mib.inc('IpInAddrErrors');
    return host.routeDrop(skb, 'forwarding disabled (net.ipv4.ip_forward=0; IpInAddrErrors)', 'ip_route_input_slow');
  }
  if (!route || route.type !== 'unicast' || !route.dev) return ipError(host, skb, route);
  const refused = looped ? null : validateSource(host, skb, dev);
  if (refused) return host.routeDrop(skb, refused, 'fib_validate_source');
  if (!ipRcvOptions(host, skb)) return;
  ipForward(host, skb, route, !looped && marksRedirect(host, skb, dev, route));
}

/**
 * local_input and brd_input of ip_route_input_slow: the source checked by fib_validate_source
 * (brd_input's only when it is not 0.0.0.0, a DHCP client's), then the options, then
 * ip_rcv_finish_core's count of a broadcast (IPSTATS_MIB_INBCAST) and ip_local_deliver.
 */
function ipRcvLocal(host: Host, skb: Ipv4Skb, dev: NetDevice, type: 'local' | 'broadcast', routeDev: string | null): void {
  const unchecked = dev.type === 'loopback' || (type === 'broadcast' && skb.pkt.saddr === 0);
  const refused = unchecked ? null : validateSource(host, skb, dev);
  if (refused) return host.routeDrop(skb, refused, 'fib_validate_source');
  if (!ipRcvOptions(host, skb)) return;
  if (type === 'broadcast') host.nf.mib.inc('IpExtInBcastPkts');
  localRouteEvent(host, skb, routeDev);
  ipLocalDeliver(host, skb, dev);
}

/** The trace's record of a local route for `skb` (its next hop is its destination). */
function localRouteEvent(host: Host, skb: Ipv4Skb, routeDev: string | null): void {
  host.sink?.emit({ kind: 'route', time: skb.time, host: host.name, skb: skb.id, result: 'local', dev: routeDev, nexthop: skb.pkt.daddr, reason: null });
}

/**
 * A packet to a group (ip_route_input_rcu's multicast branch, ipv4/route-input-mc.ts): delivered
 * locally when the device is in the group, else dropped — never forwarded by a unicast route.
 */
function ipRcvMulticast(host: Host, skb: Ipv4Skb, dev: NetDevice): void {
  const refused = ipRouteInputMc(host, skb, dev);
  if (refused) return host.routeDrop(skb, refused.reason, refused.fn);
  if (!ipRcvOptions(host, skb)) return;
  // ip_rcv_finish_core: an RTN_MULTICAST route counts IPSTATS_MIB_INMCAST
  host.nf.mib.inc('IpExtInMcastPkts');
  localRouteEvent(host, skb, dev.name);
  ipLocalDeliver(host, skb, dev);
}

/** ip_rt_error_cost (HZ) and ip_rt_error_burst (5 × HZ) of net/ipv4/route.c. */
const RT_ERROR_COST = HZ;
const RT_ERROR_BURST = 5;

/**
 * ip_error, the input of the route ip_route_input_slow makes for a packet it cannot forward:
 * no route (-ENETUNREACH) is answered with ICMP net unreachable and counted in IpExtInNoRoutes,
 * an unreachable route (-EHOSTUNREACH) with host unreachable, a prohibit route (-EACCES) with
 * communication administratively prohibited; a blackhole route (-EINVAL) drops silently. An
 * error to a peer first costs ip_rt_error_cost from its tokens (InetPeers), then icmp_send
 * checks its own limit on the same tokens.
 */
function ipError(host: Host, skb: Ipv4Skb, route: Route | null): void {
  const code = route === null ? ICMP_NET_UNREACH : route.type === 'unreachable' ? ICMP_HOST_UNREACH : route.type === 'prohibit' ? ICMP_PKT_FILTERED : null;
  if (route === null) host.nf.mib.inc('IpExtInNoRoutes');
  host.routeDrop(skb, route ? `route type ${route.type}` : 'no route to host', 'ip_route_input_slow');
  if (code !== null && host.peers.xrlimAllow(skb.pkt.saddr, skb.time, false, RT_ERROR_COST, RT_ERROR_BURST)) icmpSend(host, skb, ICMP_DEST_UNREACH, code);
}

/** ip_local_deliver: a fragment for this host waits for its datagram, then LOCAL_IN and the socket. */
function ipLocalDeliver(host: Host, skb: Ipv4Skb, dev: NetDevice): void {
  if (skb.pkt.isFragment() && !localDefrag(host, skb)) return;
  if (!host.nfHook(Hook.LocalIn, skb, dev, null)) return;
  host.deliverLocal(skb);
}

/** ip_defrag with IP_DEFRAG_LOCAL_DELIVER: true once `skb` holds the whole datagram. */
function localDefrag(host: Host, skb: Ipv4Skb): boolean {
  const result = host.nf.defrag.defrag(skb.pkt, DefragUser.LocalDeliver, skb.time);
  if (result.kind === 'queued') return false;
  if (result.kind === 'dropped') {
    host.dropped(skb, null, `${result.reason} (ip_defrag)`, null, 'ip_defrag');
    return false;
  }
  skb.pkt = result.pkt;
  return true;
}
