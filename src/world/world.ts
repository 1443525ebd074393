/**
 * A scenario run: hosts joined by links, their sockets, timed actions, and the virtual clock.
 * A packet sent out of a device reaches, after the link delay, the host on the same link that
 * owns the next hop address (no ARP); a packet for a local address on loopback comes straight
 * back in.
 */
import { InputError } from '../errors.js';
import type { EthHeader, NetDevice } from '../host/device.js';
import { ETH_P_IP } from '../capture/link-layer.js';
import type { Host, HostPorts, PacketTap } from '../host/host.js';
import type { Skb } from '../netfilter/skb.js';
import { EventQueue } from '../sim/event-queue.js';
import { PacketDirection } from '../capture/record.js';
import { Prng } from '../sim/prng.js';
import type { ScenarioSpec } from '../scenario/spec.js';
import type { TraceSink } from '../trace/events.js';
import { buildHost } from './build-host.js';
import { HostSockets, type AppEvent } from '../sockets/host-sockets.js';
import { startAction } from './actions.js';
import { KERNEL_PROFILES, type KernelVersion } from '../kernel/profile.js';
import type { FateProbe } from '../netfilter/probe.js';

/** Link delay: small and fixed, so runs are deterministic. */
const LINK_DELAY_NS = 10_000;

export interface WorldOptions {
  readonly seed?: number;
  readonly cpus?: number;
  /** The kernel every host behaves as (default: the scenario's `kernel`). */
  readonly kernel?: KernelVersion;
  readonly sink?: TraceSink | null;
  /** Sees the traced hosts' packets on their interfaces (--write-pcap). */
  readonly tap?: PacketTap | null;
  /** Hosts to trace (default: the scenario's `trace`). */
  readonly trace?: readonly string[];
  /** A fate probe for each traced host (netfilter/probe.ts; explain and diff). */
  readonly probeFor?: ((host: Host) => FateProbe) | null;
}

export class World implements HostPorts {
  readonly hosts = new Map<string, Host>();
  readonly queue = new EventQueue();
  readonly prng: Prng;
  readonly sockets = new Map<string, HostSockets>();
  /** What the applications saw (connected, timed out, refused, ping replies), in time order. */
  readonly appEvents: AppEvent[] = [];

  constructor(readonly spec: ScenarioSpec, options: WorldOptions = {}) {
    this.prng = new Prng(options.seed ?? spec.seed);
    const cpus = options.cpus ?? spec.cpus;
    const kernel = KERNEL_PROFILES[options.kernel ?? spec.kernel];
    for (const h of spec.hosts) {
      const host = buildHost(h, this, this.prng, cpus, kernel, true);
      this.hosts.set(h.name, host);
      this.sockets.set(h.name, new HostSockets(host, this.queue, this.prng, this.appEvents));
    }
    for (const name of options.trace ?? spec.trace) {
      const host = this.hosts.get(name);
      if (!host) throw new InputError({ file: spec.file }, `no host '${name}' to trace`);
      host.sink = options.sink ?? null;
      host.tap = options.tap ?? null;
      if (options.probeFor) host.probe = options.probeFor(host);
    }
    for (const step of spec.run) startAction(this, step);
  }

  /** Runs the scenario until nothing is scheduled, `until` (ns) passes, or the hosts received `maxPackets`. */
  run(until = Number.MAX_SAFE_INTEGER, maxPackets = Number.MAX_SAFE_INTEGER): void {
    const received = (): number => [...this.hosts.values()].reduce((n, h) => n + h.packets.received, 0);
    this.queue.runUntil(until, () => received() >= maxPackets);
  }

  transmit(host: Host, dev: NetDevice, skb: Skb, nexthop: number): void {
    if (dev.name === 'lo') {
      host.tap?.(PacketDirection.Outgoing, dev, skb.pkt, skb.time);
      this.queue.at(skb.time, () => host.receiveLooped(skb, dev));
      return;
    }
    const peer = this.neighbour(host, dev, nexthop);
    if (!peer) {
      // no neighbour answers ARP for the next hop: the packet goes nowhere
      host.probe?.unresolved(skb, dev, nexthop);
      return;
    }
    host.tap?.(PacketDirection.Outgoing, dev, skb.pkt, skb.time);
    const pkt = skb.pkt;
    const cpu = skb.cpu; // veth_xmit: the peer processes it on the sender's CPU
    // the link header LOG's MAC= and -m mac read (Skb.mac): one per pair of devices, made once
    const mac = linkHeader(dev, peer.dev);
    this.queue.at(skb.time + LINK_DELAY_NS, () => peer.host.receive(pkt, peer.dev, this.queue.now, mac, cpu));
  }

  deliver(host: Host, skb: Skb): void {
    this.sockets.get(host.name)!.deliver(skb);
  }

  /** The host and device on `dev`'s link that own `addr`. */
  private neighbour(host: Host, dev: NetDevice, addr: number): { host: Host; dev: NetDevice } | null {
    if (dev.link === null) return null;
    for (const other of this.hosts.values()) {
      if (other === host) continue;
      for (const d of other.devices) {
        if (d.link === dev.link && d.addrs.some((a) => a.local === addr)) return { host: other, dev: d };
      }
    }
    return null;
  }
}

const LINK_HEADERS = new WeakMap<NetDevice, Map<NetDevice, EthHeader>>();

/** The Ethernet header of a frame from `from` to `to` (eth_header), shared by every such frame. */
function linkHeader(from: NetDevice, to: NetDevice): EthHeader {
  let byDest = LINK_HEADERS.get(from);
  if (byDest === undefined) LINK_HEADERS.set(from, (byDest = new Map()));
  let header = byDest.get(to);
  if (header === undefined) byDest.set(to, (header = { dest: to.mac, source: from.mac, proto: ETH_P_IP }));
  return header;
}
