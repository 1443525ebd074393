/**
 * br_dev_xmit (net/bridge/br_device.c): what the host sends out of a bridge device goes to the
 * port the FDB names for the frame's destination (the next hop's link address), or floods.
 */
import type { Host } from '../host/host.js';
import type { Skb } from '../netfilter/skb.js';
import type { Bridge } from './bridge.js';
import { groupFlood, isMulticastEther } from './br-fdb.js';
import { brFlood, brForward } from './br-forward.js';

export function brDevXmit(host: Host, br: Bridge, skb: Skb, nexthop: number): void {
  const dest = host.neighbour(br.dev, nexthop, skb.time).mac;
  skb.mac = { dest, source: br.dev.mac, proto: 0x0800 };
  if (dest === null) return brFlood(host, br, skb, null, 'unknown destination');
  if (isMulticastEther(dest)) return brFlood(host, br, skb, null, groupFlood(dest));
  const entry = br.fdb.find(dest, skb.time);
  if (entry === null || entry.port === null) return brFlood(host, br, skb, null, 'unknown destination');
  brForward(host, entry.port, skb, null);
}
