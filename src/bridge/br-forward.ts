/**
 * Sending a frame out of bridge ports (net/bridge/br_forward.c): to the one port the FDB names,
 * or flooded to every port that may have it. should_deliver keeps a frame from going back out
 * the port it came in by unless the port is in hairpin mode (BR_HAIRPIN_MODE). A frame that came
 * in by a port passes NF_BR_FORWARD (br_nf_forward_ip); one the host sent through the bridge
 * device, NF_BR_LOCAL_OUT (nothing of br_netfilter's); both then NF_BR_POST_ROUTING.
 */
import type { Host } from '../host/host.js';
import type { Skb } from '../netfilter/skb.js';
import type { BridgeStep } from '../trace/events.js';
import type { Bridge, BridgePort } from './bridge.js';
import { brNfForwardIp, brNfPostRouting } from './br-netfilter.js';

/** should_deliver: the port forwards (natsim's ports all do), and is not the way in unless hairpin. */
function shouldDeliver(to: BridgePort, from: BridgePort | null): boolean {
  return to.flags.hairpin || to !== from;
}

/** br_forward: to the port the FDB gave (`from`: the port it came in by; null for br_dev_xmit). */
export function brForward(host: Host, to: BridgePort, skb: Skb, from: BridgePort | null): void {
  if (!shouldDeliver(to, from)) {
    emit(host, to.br, skb, { step: 'no-hairpin', port: to.dev.name });
    return host.dropped(skb, null, `bridged back out ${to.dev.name}, the port it came in by, without hairpin mode (should_deliver)`, null, 'br_forward');
  }
  emit(host, to.br, skb, { step: 'forward', port: to.dev.name, hairpin: to === from });
  brForwardOne(host, to, skb, from);
}

/** br_flood: a copy to every port that may have it (BR_FLOOD for unknown unicast). */
export function brFlood(host: Host, br: Bridge, skb: Skb, from: BridgePort | null, why: 'unknown destination' | 'broadcast' | 'multicast'): void {
  const ports = br.ports.filter((p) => shouldDeliver(p, from) && (why !== 'unknown destination' || p.flags.flood));
  emit(host, br, skb, { step: 'flood', ports: ports.map((p) => p.dev.name), why });
  if (ports.length === 0) return host.dropped(skb, null, 'flooded to no port (br_flood)', null, 'br_flood');
  ports.forEach((p, i) => brForwardOne(host, p, i === ports.length - 1 ? skb : skb.clone(host.nextSkbId()), from));
}

/** __br_forward: NF_BR_FORWARD for a frame that came in by a port, NF_BR_LOCAL_OUT for the host's own; then br_forward_finish. */
function brForwardOne(host: Host, to: BridgePort, skb: Skb, from: BridgePort | null): void {
  skb.outdev = to.dev;
  if (from !== null && !brNfForwardIp(host, to, skb)) return;
  brNfPostRouting(host, to, skb);
}

/** br_dev_queue_push_xmit: onto the port's device. */
export function brDevQueuePushXmit(host: Host, to: BridgePort, skb: Skb): void {
  host.devTap(skb, to.dev, 0);
  host.consumed(skb);
}

function emit(host: Host, br: Bridge, skb: Skb, step: BridgeStep): void {
  host.sink?.emit({ kind: 'bridge', time: skb.time, host: host.name, skb: skb.id, bridge: br.dev.name, step });
}
