/**
 * A frame arriving on a bridge port (net/bridge/br_input.c): br_handle_frame takes it from the
 * port (the port's rx_handler), NF_BR_PRE_ROUTING runs br_netfilter when it is on, and
 * br_handle_frame_finish learns the source address and sends the frame where the FDB says:
 * up the stack for a local address, to one port, or flooded when the destination is unknown.
 */
import type { Host } from '../host/host.js';
import type { Skb } from '../netfilter/skb.js';
import type { BridgePort } from './bridge.js';
import { groupFlood, isMulticastEther, isValidEther } from './br-fdb.js';
import { brFlood, brForward } from './br-forward.js';
import { brnfCallIptables, brNfPreRouting } from './br-netfilter.js';
import { macText } from '../netfilter/log/nf-log-syslog.js';

/** br_handle_frame: the port's frame, its link header in skb.mac (null addresses: not told). */
export function brHandleFrame(host: Host, port: BridgePort, skb: Skb): void {
  const br = port.br;
  const mac = skb.mac;
  host.sink?.emit({ kind: 'bridge', time: skb.time, host: host.name, skb: skb.id, bridge: br.dev.name, step: { step: 'frame', port: port.dev.name, source: macText(mac?.source ?? null), dest: macText(mac?.dest ?? null) } });
  if (mac?.source && !isValidEther(mac.source)) return bridgeDrop(host, port, skb, 'invalid source address (br_handle_frame)');
  // NF_BR_PRE_ROUTING: br_nf_pre_routing takes IPv4 (every skb natsim bridges) when bridge-nf-call-iptables is set
  if (brnfCallIptables(host)) return brNfPreRouting(host, port, skb);
  brHandleFrameFinish(host, port, skb);
}

/**
 * br_handle_frame_finish: learn the source (br_fdb_update, BR_LEARNING), then deliver by
 * destination. A group address floods and goes up the stack too; a local entry goes up
 * (br_pass_frame_up); a learned one to its port; an unknown unicast floods and does not go up
 * (local_rcv is only for a promiscuous bridge).
 */
export function brHandleFrameFinish(host: Host, port: BridgePort, skb: Skb): void {
  const br = port.br;
  const mac = skb.mac;
  if (mac?.source && port.flags.learning) brFdbLearn(host, port, mac.source, skb.time, skb.id);
  const dest = mac?.dest ?? null;
  if (dest === null) return brFlood(host, br, skb, port, 'unknown destination');
  if (isMulticastEther(dest)) {
    brFlood(host, br, skb.clone(host.nextSkbId()), port, groupFlood(dest));
    return brPassFrameUp(host, port, skb);
  }
  const entry = br.fdb.find(dest, skb.time);
  if (entry === null) return brFlood(host, br, skb, port, 'unknown destination');
  if (entry.local) return brPassFrameUp(host, port, skb);
  brForward(host, entry.port!, skb, port);
}

/** br_fdb_update for a frame from `source` on `port` (BR_LEARNING), traced when the entry is new or moved. */
export function brFdbLearn(host: Host, port: BridgePort, source: Uint8Array, time: number, skb = 0): void {
  const learned = port.br.fdb.update(port, source, time);
  if (learned === 'learned' || learned === 'moved') host.sink?.emit({ kind: 'bridge', time, host: host.name, skb, bridge: port.br.dev.name, step: { step: 'learn', mac: macText(source), port: port.dev.name, moved: learned === 'moved' } });
}

/**
 * br_pass_frame_up: the frame is for the host; it arrives on the bridge device
 * (netif_receive_skb, where tcpdump sees it In) and goes to ip_rcv. br_nf_local_in drops the
 * fake route br_netfilter gave a frame that was not DNATed.
 */
function brPassFrameUp(host: Host, port: BridgePort, skb: Skb): void {
  const br = port.br;
  host.sink?.emit({ kind: 'bridge', time: skb.time, host: host.name, skb: skb.id, bridge: br.dev.name, step: { step: 'local' } });
  if (skb.nfBridge !== null && skb.pkt.daddr === skb.nfBridge.ipv4Daddr) skb.route = null;
  host.netifReceive(skb, br.dev);
}

function bridgeDrop(host: Host, port: BridgePort, skb: Skb, reason: string): void {
  host.sink?.emit({ kind: 'bridge', time: skb.time, host: host.name, skb: skb.id, bridge: port.br.dev.name, step: { step: 'drop', reason } });
  host.dropped(skb, null, reason, null, 'br_handle_frame');
}
