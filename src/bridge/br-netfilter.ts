/**
 * br_netfilter (net/bridge/br_netfilter_hooks.c): with net.bridge.bridge-nf-call-iptables=1 a
 * bridged IPv4 frame goes through the IPv4 hooks — PRE_ROUTING as it enters the bridge, FORWARD
 * and POST_ROUTING as it leaves by a port — with the bridge device as in/out and the ports as
 * physin/physout (-m physdev, LOG's PHYSIN=/PHYSOUT=). Conntrack and NAT so see both directions
 * of a connection between two ports; a frame DNATed away from the bridge is routed instead.
 */
import { Hook } from '../netfilter/constants.js';
import type { Host } from '../host/host.js';
import type { NetDevice } from '../host/device.js';
import type { Skb } from '../netfilter/skb.js';
import { routeNexthop } from '../host/fib.js';
import type { BridgePort } from './bridge.js';
import { brHandleFrameFinish } from './br-input.js';
import { brDevQueuePushXmit } from './br-forward.js';

/** struct nf_bridge_info: what br_netfilter keeps on a frame between the bridge's hooks. */
export interface NfBridgeInfo {
  /** The port the frame came in by. */
  readonly physindev: NetDevice;
  /** The port it leaves by, once br_nf_forward_ip knows it (null: delivered locally, then routed). */
  physoutdev: NetDevice | null;
  /** Inside br_nf_pre_routing's PRE_ROUTING: ip_sabotage_in lets the same frame through once. */
  inPrerouting: boolean;
  /** ipv4_daddr: the destination before PRE_ROUTING, to tell a DNAT (br_nf_ipv4_daddr_was_changed). */
  readonly ipv4Daddr: number;
}

/** brnf_call_iptables: does br_netfilter hand IPv4 frames to the IPv4 hooks. */
export function brnfCallIptables(host: Host): boolean {
  return host.sysctl.n['net.bridge.bridge-nf-call-iptables'] === 1;
}

/**
 * ip_sabotage_in (IPv4 PRE_ROUTING at NF_IP_PRI_FIRST): a frame br_netfilter already ran
 * through PRE_ROUTING, now passed up the stack on the bridge, skips the hook a second time.
 */
export function ipSabotageIn(skb: Skb): boolean {
  return skb.nfBridge !== null && !skb.nfBridge.inPrerouting;
}

/**
 * br_nf_pre_routing (NF_BR_PRE_ROUTING): setup_pre_routing makes the bridge the frame's device
 * and remembers the port, then NF_HOOK(PRE_ROUTING, in = bridge) → br_nf_pre_routing_finish.
 */
export function brNfPreRouting(host: Host, port: BridgePort, skb: Skb): void {
  const br = port.br;
  skb.nfBridge = { physindev: port.dev, physoutdev: null, inPrerouting: true, ipv4Daddr: skb.pkt.daddr };
  skb.indev = br.dev;
  host.sink?.emit({ kind: 'bridge', time: skb.time, host: host.name, skb: skb.id, bridge: br.dev.name, step: { step: 'brnf', fn: 'br_nf_pre_routing', physin: port.dev.name, physout: null } });
  if (!host.nfHook(Hook.PreRouting, skb, br.dev, null)) return;
  brNfPreRoutingFinish(host, port, skb);
}

/**
 * br_nf_pre_routing_finish: a frame whose destination PRE_ROUTING changed (DNAT) is routed
 * (ip_route_input on the bridge): a route back out the same bridge bridges it to the new
 * destination's neighbour (bridged_dnat, br_nf_pre_routing_finish_bridge); any other route
 * (another device, or local) sends it up the stack to the bridge's own address, to be routed.
 * An unchanged destination bridges on (br_handle_frame_finish with the frame as it came).
 */
function brNfPreRoutingFinish(host: Host, port: BridgePort, skb: Skb): void {
  const br = port.br;
  const info = skb.nfBridge!;
  info.inPrerouting = false;
  skb.indev = port.dev;
  if (skb.pkt.daddr === info.ipv4Daddr) return brHandleFrameFinish(host, port, skb);
  const route = host.fib.lookup(skb.pkt.daddr);
  const forwarding = host.sysctl.n['net.ipv4.ip_forward'] === 1;
  // ip_route_input fails with forwarding off; ip_route_output's route out the bridge still
  // bridges it ("Bridged-and-DNAT'ed traffic doesn't require ip_forwarding")
  if (route === null || (route.type === 'unicast' && route.dev === null)) return host.dropped(skb, Hook.PreRouting, 'no route for the DNATed destination (br_nf_pre_routing_finish)', null, 'br_nf_pre_routing_finish');
  if (route.type === 'unicast' && route.dev === br.dev) {
    skb.route = route;
    return brNfPreRoutingFinishBridge(host, port, skb, routeNexthop(route, skb.pkt.daddr));
  }
  if (!forwarding && route.type === 'unicast') return host.dropped(skb, Hook.PreRouting, 'DNATed to a routed destination with forwarding disabled (br_nf_pre_routing_finish)', null, 'br_nf_pre_routing_finish');
  host.sink?.emit({ kind: 'bridge', time: skb.time, host: host.name, skb: skb.id, bridge: br.dev.name, step: { step: 'dnat-routed' } });
  skb.mac = { dest: br.dev.mac, source: skb.mac?.source ?? null, proto: skb.mac?.proto ?? 0x0800 };
  brHandleFrameFinish(host, port, skb);
}

/**
 * br_nf_pre_routing_finish_bridge: the DNATed frame goes to its new destination's link address.
 * With the neighbour known (NUD_CONNECTED) the header is rewritten and the frame bridged at once;
 * otherwise neigh->output resolves it — the frame waits in the neighbour's queue until it
 * answers, and is answered with host unreachable if it fails — and sends it out of the bridge
 * device (tcpdump shows it there), where br_dev_xmit sees bridged_dnat and bridges it on from
 * the port it came in by (br_nf_pre_routing_finish_bridge_slow, which puts the frame's own
 * source address back).
 */
function brNfPreRoutingFinishBridge(host: Host, port: BridgePort, skb: Skb, nexthop: number): void {
  const br = port.br;
  const neigh = host.neighbour(br.dev, nexthop, skb.time);
  const source = skb.mac?.source ?? null;
  host.sink?.emit({ kind: 'bridge', time: skb.time, host: host.name, skb: skb.id, bridge: br.dev.name, step: { step: 'bridged-dnat', neighbour: neigh.connected ? 'connected' : 'resolving' } });
  if (neigh.connected) return bridgeDnatted(host, port, skb, neigh.mac, source);
  const resolved = (): void => {
    const mac = host.neighbour(br.dev, nexthop, skb.time).mac;
    skb.mac = { dest: mac, source: br.dev.mac, proto: 0x0800 };
    host.devTap(skb, br.dev, nexthop);
    bridgeDnatted(host, port, skb, mac, source);
  };
  if (!host.waitsOnNeighbour(skb, br.dev, nexthop, resolved)) resolved();
}

/** br_handle_frame_finish of a bridged DNATed frame, to the neighbour's link address, from its own source. */
function bridgeDnatted(host: Host, port: BridgePort, skb: Skb, dest: Uint8Array | null, source: Uint8Array | null): void {
  skb.mac = { dest, source, proto: 0x0800 };
  brHandleFrameFinish(host, port, skb);
}

/**
 * br_nf_forward_ip (NF_BR_FORWARD): a frame br_nf_pre_routing took goes through IPv4 FORWARD
 * with in and out the bridge, the port it leaves by kept as physoutdev; then br_forward_finish.
 */
export function brNfForwardIp(host: Host, to: BridgePort, skb: Skb): boolean {
  const info = skb.nfBridge;
  if (info === null) return true;
  info.physoutdev = to.dev;
  host.sink?.emit({ kind: 'bridge', time: skb.time, host: host.name, skb: skb.id, bridge: to.br.dev.name, step: { step: 'brnf', fn: 'br_nf_forward_ip', physin: info.physindev.name, physout: to.dev.name } });
  return host.nfHook(Hook.Forward, skb, to.br.dev, to.br.dev);
}

/**
 * br_nf_post_routing (NF_BR_POST_ROUTING): a bridged frame (physoutdev set) goes through IPv4
 * POST_ROUTING with out = the bridge, then br_nf_dev_queue_xmit puts it on the port. A frame
 * the host routed has been through POST_ROUTING already (the IP stack's), and goes straight out.
 */
export function brNfPostRouting(host: Host, to: BridgePort, skb: Skb): void {
  const info = skb.nfBridge;
  if (info !== null && info.physoutdev !== null) {
    host.sink?.emit({ kind: 'bridge', time: skb.time, host: host.name, skb: skb.id, bridge: to.br.dev.name, step: { step: 'brnf', fn: 'br_nf_post_routing', physin: info.physindev.name, physout: info.physoutdev.name } });
    if (!host.nfHook(Hook.PostRouting, skb, null, to.br.dev)) return;
  }
  brDevQueuePushXmit(host, to, skb);
}
