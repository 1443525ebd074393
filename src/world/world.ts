/**
 * A scenario run: hosts joined by links, their sockets, timed actions, and the virtual clock.
 * A packet sent out of a device reaches, after the link delay, the host on the same link that
 * owns the next hop address (no ARP); toward a next hop no host owns it waits in the neighbour
 * queue until the round of requests fails (scenario-neighbours.ts); a packet for a local address
 * on loopback comes straight back in.
 */
import { InputError } from '../errors.js';
import type { EthHeader, NetDevice } from '../host/device.js';
import { ETH_P_IP } from '../capture/link-layer.js';
import type { Host, HostPorts, Neighbour, PacketTap, Resume } from '../host/host.js';
import { isMulticastEther, macKey } from '../bridge/br-fdb.js';
import type { Bridge, BridgePort } from '../bridge/bridge.js';
import { brFdbLearn } from '../bridge/br-input.js';
import type { Skb } from '../netfilter/skb.js';
import { EventQueue } from '../sim/event-queue.js';
import { PacketDirection } from '../capture/record.js';
import { Prng } from '../sim/prng.js';
import type { ScenarioSpec } from '../scenario/spec.js';
import type { TraceSink } from '../trace/events.js';
import { buildHost } from './build-host.js';
import { HostSockets, type AppEvent } from '../sockets/host-sockets.js';
import { scheduleSteps } from './run-steps.js';
import { KERNEL_PROFILES, type KernelVersion } from '../kernel/profile.js';
import type { FateProbe } from '../netfilter/probe.js';
import { ArpQueues } from './arp-queue.js';
import { UnansweredNeighbours } from './scenario-neighbours.js';
import { isIpv6, ipv6Word } from '../packet/ipv6-addr.js';

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
    scheduleSteps(this, spec.run);
  }

  /** Runs the scenario until nothing is scheduled, `until` (ns) passes, or the hosts received `maxPackets`. */
  run(until = Number.MAX_SAFE_INTEGER, maxPackets = Number.MAX_SAFE_INTEGER): void {
    const received = (): number => [...this.hosts.values()].reduce((n, h) => n + h.packets.received, 0);
    this.queue.runUntil(until, () => received() >= maxPackets);
  }

  timer(_host: Host, at: number, run: () => void): void {
    this.queue.at(at, run);
  }

  /**
   * A scenario's hosts resolve a neighbour some host owns at once; a packet toward a next hop
   * no host owns waits in its arp_queue until the round of requests fails, and is answered with
   * host unreachable then (world/arp-queue.ts, scenario-neighbours.ts).
   */
  waitsOnNeighbour(host: Host, dev: NetDevice, skb: Skb, nexthop: number, resume: Resume | null): boolean {
    const queues = this.arpQueues.get(host) ?? this.newArpQueues(host);
    const round = queues.roundFor(dev, nexthop, skb.time);
    if (round === null) return false;
    queues.add(dev, nexthop, round, skb, resume);
    return true;
  }

  /** Whether `host`'s neighbour `addr` on `dev` answered once and no host owns the address now. */
  private gone(host: Host, dev: NetDevice, addr: number): boolean {
    return this.unanswered.get(host)?.answeredOnce(dev, addr) === true && this.neighbourOwner(host, dev, addr) === null;
  }

  /** Each host's neighbour queues and the rounds they wait on, made when it first sends toward a neighbour. */
  private readonly arpQueues = new Map<Host, ArpQueues>();
  private readonly unanswered = new Map<Host, UnansweredNeighbours>();

  private newArpQueues(host: Host): ArpQueues {
    const unanswered = new UnansweredNeighbours((dev, addr) => needsNoResolution(host, addr) || this.neighbourOwner(host, dev, addr) !== null);
    const queues = new ArpQueues(host, unanswered, (at, run) => this.queue.at(at, run));
    this.arpQueues.set(host, queues);
    this.unanswered.set(host, unanswered);
    return queues;
  }

  transmit(host: Host, dev: NetDevice, skb: Skb, nexthop: number): void {
    if (dev.name === 'lo') {
      host.tap?.(PacketDirection.Outgoing, dev, skb.pkt, skb.time);
      this.queue.at(skb.time, () => host.receiveLooped(skb, dev));
      return;
    }
    // br_dev_xmit sends a bridge device's packet on by its ports (src/bridge), each a transmit of its own
    if (dev.bridge) {
      host.tap?.(PacketDirection.Outgoing, dev, skb.pkt, skb.time);
      if (this.gone(host, dev, nexthop)) host.probe?.unresolved(skb, dev, nexthop, 'gone', skb.time, 0);
      return;
    }
    const frame = this.frameTo(host, dev, skb, nexthop);
    host.tap?.(PacketDirection.Outgoing, dev, skb.pkt, skb.time);
    if (!frame) {
      // the frame leaves and no host takes it (a next hop never owned waited in the neighbour
      // queue: waitsOnNeighbour); the flow's, when it went toward a host gone since it answered
      if (!dev.brPort && this.gone(host, dev, nexthop)) host.probe?.unresolved(skb, dev, nexthop, 'gone', skb.time, 0);
      return;
    }
    const { peer, mac } = frame;
    // ip_rcv drops a frame for another host's address (PACKET_OTHERHOST), as a flooded one is
    if (!peer.dev.brPort && mac.dest !== null && !isMulticastEther(mac.dest) && !sameMac(mac.dest, peer.dev.mac)) return;
    const pkt = skb.pkt;
    const cpu = skb.cpu; // veth_xmit: the peer processes it on the sender's CPU
    this.queue.at(skb.time + LINK_DELAY_NS, () => peer.host.receive(pkt, peer.dev, this.queue.now, mac, cpu));
  }

  /**
   * Who gets a frame `dev` sends, and its link header: out of a bridge port, the device at the
   * other end of the port's link, the frame as the bridge sends it; otherwise the next hop's
   * owner on the link, or — where the link ends in a bridge port — the port, the frame addressed
   * to the next hop's owner on the bridge's segment (the header LOG's MAC= and -m mac read).
   */
  private frameTo(host: Host, dev: NetDevice, skb: Skb, nexthop: number): { peer: Attached; mac: EthHeader } | null {
    if (dev.brPort) {
      const peer = this.linkPeer(host, dev);
      return peer && { peer, mac: skb.mac ?? linkHeader(dev, peer.dev) };
    }
    const direct = this.owner(host, dev.link, nexthop);
    if (direct && direct.dev.link === dev.link) return { peer: direct, mac: linkHeader(dev, direct.dev) };
    const port = this.linkPeer(host, dev);
    if (!port?.dev.brPort || !direct) return null;
    if (this.firstResolution(host, dev, nexthop)) this.arpThroughBridge(port.host, port.dev.brPort.br, port.dev.brPort, dev.mac, direct.dev, skb.time);
    return { peer: port, mac: { dest: direct.dev.mac, source: dev.mac, proto: ETH_P_IP } };
  }

  /** Whether `host` resolves `addr` on `dev` now for the first time (neighbour entries never expire in a scenario). */
  private firstResolution(host: Host, dev: NetDevice, addr: number): boolean {
    const key = resolutionKey(host, dev, addr);
    if (this.resolved.has(key)) return false;
    this.resolved.add(key);
    return true;
  }

  /**
   * The ARP exchange a first resolution makes, as far as the bridge sees it (the scenario sends
   * no ARP itself): the request teaches the FDB the asker's address on its port (null: the bridge
   * asked), the answer the owner's on the port its link reaches (none: the owner is the bridge).
   */
  private arpThroughBridge(brHost: Host, br: Bridge, askerPort: BridgePort | null, asker: Uint8Array | null, owner: NetDevice, time: number): void {
    if (askerPort && asker && askerPort.flags.learning) brFdbLearn(brHost, askerPort, asker, time);
    const ownerPort = br.ports.find((p) => p.dev.link !== null && p.dev.link === owner.link);
    if (ownerPort && owner.mac && ownerPort.flags.learning) brFdbLearn(brHost, ownerPort, owner.mac, time);
  }

  /**
   * The neighbour entry a host has for `addr` on `dev`: the owner's address; NUD_CONNECTED once
   * it has been resolved before (the first packet waits for ARP). One no host owns is not
   * resolved by asking (its packets wait: waitsOnNeighbour).
   */
  neighbour(host: Host, dev: NetDevice, addr: number, time: number): Neighbour {
    const owner = this.neighbourOwner(host, dev, addr);
    if (owner === null) return { mac: null, connected: this.resolved.has(resolutionKey(host, dev, addr)) };
    const connected = !this.firstResolution(host, dev, addr);
    if (!connected && dev.bridge) this.arpThroughBridge(host, dev.bridge, null, null, owner.dev, time);
    return { mac: owner.dev.mac, connected };
  }

  /** Entries never expire in a scenario: one resolved before is valid. */
  validNeighbour(host: Host, dev: NetDevice, addr: number): Uint8Array | null {
    return this.resolved.has(resolutionKey(host, dev, addr)) ? (this.neighbourOwner(host, dev, addr)?.dev.mac ?? null) : null;
  }

  /** Who owns `addr` on the link of `dev` (on a bridge, of any of its ports). */
  private neighbourOwner(host: Host, dev: NetDevice, addr: number): Attached | null {
    const links = dev.bridge ? dev.bridge.ports.map((p) => p.dev.link) : [dev.link];
    for (const link of links) {
      const owner = this.owner(host, link, addr);
      if (owner) return owner;
    }
    return null;
  }

  /** Neighbour entries resolved so far, by host, device and address. */
  private readonly resolved = new Set<string>();

  /** The other host's device on `dev`'s link (a veth pair's other end). */
  private linkPeer(host: Host, dev: NetDevice): Attached | null {
    if (dev.link === null) return null;
    for (const other of this.hosts.values()) {
      if (other === host) continue;
      for (const d of other.devices) if (d.link === dev.link) return { host: other, dev: d };
    }
    return null;
  }

  /**
   * The device that owns `addr` on the Ethernet segment of `link`: a device on the link itself,
   * or on any link joined to it by a bridge (its ports' links), or that bridge's own device.
   */
  private owner(host: Host, link: string | null, addr: number): Attached | null {
    if (link === null) return null;
    const links = new Set([link]);
    const seen = new Set<NetDevice>();
    const queue: string[] = [link];
    while (queue.length > 0) {
      const l = queue.shift()!;
      for (const h of this.hosts.values()) {
        for (const d of h.devices) {
          if (d.link !== l || !d.brPort || seen.has(d)) continue;
          seen.add(d);
          const br = d.brPort.br;
          if (h !== host && br.dev.addrs.some((a) => a.local === addr)) return { host: h, dev: br.dev };
          for (const p of br.ports) if (p.dev.link !== null && !links.has(p.dev.link)) (links.add(p.dev.link), queue.push(p.dev.link));
        }
      }
    }
    for (const h of this.hosts.values()) {
      if (h === host) continue;
      for (const d of h.devices) if (d.link !== null && links.has(d.link) && !d.brPort && (d.addrs.some((a) => a.local === addr) || d.addrs6.some((a) => a.addr === addr))) return { host: h, dev: d };
    }
    return null;
  }

  deliver(host: Host, skb: Skb): void {
    this.sockets.get(host.name)!.deliver(skb);
  }

}

/**
 * A next hop whose entry is NUD_NOARP from the start, the link address mapped from it
 * (arp_constructor by inet_addr_type, ndisc_constructor): a group or a broadcast address.
 */
function needsNoResolution(host: Host, addr: number): boolean {
  if (isIpv6(addr)) return ipv6Word(addr, 0) >>> 24 === 0xff;
  const type = host.fib.addrType(addr);
  return type === 'multicast' || type === 'broadcast';
}

function resolutionKey(host: Host, dev: NetDevice, addr: number): string {
  return `${host.name}/${dev.name}/${addr}`;
}

/** A device of a host in the world. */
interface Attached {
  readonly host: Host;
  readonly dev: NetDevice;
}

function sameMac(a: Uint8Array, b: Uint8Array | null): boolean {
  return b !== null && macKey(a) === macKey(b);
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
