/**
 * Replays a capture through one host: frames the host received (SLL2 "In", broadcast, …) are
 * fed to it on their interface, in capture order and at capture time; frames it sent ("Out")
 * are what the real kernel did, kept for comparison with what natsim sends. Captures whose
 * link type carries no direction (Ethernet, raw IP) are taken as all received.
 */
import { EventQueue } from '../sim/event-queue.js';
import type { FateProbe } from '../netfilter/probe.js';
import { ChunkPool, mayHoldOutgoing, readCapture } from '../capture/index.js';
import { TrailingReader } from '../capture/trailing-reader.js';
import { PendingRing, type Pending } from './pending-ring.js';
import { PacketDirection, type CaptureRecord } from '../capture/record.js';
import { InputError } from '../errors.js';
import type { NetDevice } from '../host/device.js';
import type { Host, HostPorts, PacketTap, Resume } from '../host/host.js';
import { ipv4Path, isIpv6Skb, type Skb } from '../netfilter/skb.js';
import type { WireTuple } from '../netfilter/net.js';
import { Ipv4Packet } from '../packet/ipv4.js';
import { Prng } from '../sim/prng.js';
import type { ScenarioSpec } from '../scenario/spec.js';
import type { TraceSink } from '../trace/events.js';
import { buildHost } from './build-host.js';
import { RecordedOut, type Sent } from './recorded-out.js';
import { OwnOutput } from './own-output.js';
import { NeighbourWatch } from './neighbours.js';
import { ArpQueues } from './arp-queue.js';
import { ETH_P_ARP, ETH_P_IP, ETH_P_IPV6 } from '../capture/link-layer.js';
import { icmpAnswer } from '../ipv4/icmp.js';
import { icmpv6Echo } from '../ipv6/icmp.js';
import { ICMPV6, Ipv6Packet } from '../packet/ipv6.js';
import type { L3Packet } from '../packet/l3-packet.js';
import { KERNEL_PROFILES, type KernelVersion } from '../kernel/profile.js';
import { captureLink, receivedHeader, type CapturedLink } from './link-header.js';
import { boundHeapGrowth } from './heap-growth.js';
import { L2Addresses } from './l2-addresses.js';
import type { BridgePort } from '../bridge/bridge.js';
import { brFdbLearn } from '../bridge/br-input.js';
import { ifaMatch, type EthHeader } from '../host/device.js';
import { ClockOrigin } from '../capture/clock-origin.js';
import { RecordClock } from './record-clock.js';


/** An IP packet (IPv4 or IPv6) leaving the host: its time (ns since the first record), interface and bytes. */
export interface SentPacket {
  readonly time: number;
  readonly ifindex: number;
  readonly bytes: Uint8Array;
}

/**
 * A packet natsim sent. `fromCapture`: one of the node's own packets that natsim took from the
 * capture and fed at LOCAL_OUT (own-output.ts): its leaving checks conntrack and NAT on the way
 * out, not that natsim would have made it.
 */
export interface NatsimPacket extends SentPacket {
  readonly fromCapture: boolean;
}

/** The packets themselves, kept only when asked (memory would grow with the capture). */
export interface KeptPackets {
  /** What natsim sent, in order. */
  readonly sent: NatsimPacket[];
  /** The capture's own outgoing IP packets, NDP and ARP aside (what the kernel sent). */
  readonly recorded: SentPacket[];
}

export interface ReplayResult {
  readonly host: Host;
  readonly sentCount: number;
  readonly recordedCount: number;
  /** With `keepPackets`: every packet natsim and the kernel sent, for comparison. */
  readonly packets: KeptPackets | null;
  /** Records replayed: every record within --until and --max-packets, in or out. */
  readonly records: number;
  /** When the run ends (ns since the first record): the last record, or a kernel timer after it. */
  readonly endTime: number;
  /** Time of the last record fed (ns since the first): what the kernel did later is not in the capture. */
  readonly lastRecordTime: number;
  /** Frames not fed to the host, by reason ("ARP", "IPv6", "fragment", …). */
  readonly skipped: Map<string, number>;
}

export interface ReplayOptions {
  readonly host?: string;
  readonly seed?: number;
  readonly cpus?: number;
  /** The kernel the host behaves as (default: the scenario's `kernel`). */
  readonly kernel?: KernelVersion;
  readonly sink?: TraceSink | null;
  /** A fate probe for the host (netfilter/probe.ts; explain and diff). */
  readonly probeFor?: ((host: Host) => FateProbe) | null;
  /** Sees the host's packets on its interfaces (--write-pcap). */
  readonly tap?: PacketTap | null;
  /**
   * Take the kernel's port where it drew a random one and the rule allows it (default true),
   * so that the replies in the capture, addressed to that port, find their connection.
   */
  readonly followKernel?: boolean;
  /** Keep every sent packet (tests compare them with the kernel's); off for big captures. */
  readonly keepPackets?: boolean;
  /** Feed no record later than this (ns since the first record). */
  readonly until?: number;
  /** Feed at most this many records. */
  readonly maxPackets?: number;
  /** Set from the capture's first record: the wall-clock time of virtual time 0. */
  readonly origin?: ClockOrigin;
  /** Told every few thousand records how far the replay has got (the CLI's progress bar). */
  readonly progress?: (offset: number, packets: number) => void;
  /** Told the host once it is built, before any record is fed (natsim report samples its counters). */
  readonly onHost?: (host: Host) => void;
  /** Told what the replay does with an odd capture (default: a line on stderr). */
  readonly warn?: (line: string) => void;
  /**
   * Asked before each record whether to stop: then no more is read or fed and no timer runs, as
   * when nothing the replay would still make reaches anyone (the trace's reader has gone).
   */
  readonly stop?: () => boolean;
}

function warnOnStderr(line: string): void {
  process.stderr.write(`natsim: warning: ${line}\n`);
}

/** Records between two progress reports: rare enough to cost nothing per packet. */
const PROGRESS_EVERY = 4096;

/**
 * How far ahead of the record it feeds the replay reads: far enough to have seen what the
 * kernel sent for it (recorded-out.ts pairs within 1 s) and its next hop's ARP request and
 * answer, if any (neighbours.ts). One pass over the file serves all three; memory holds what
 * feeding each record of the lookahead needs (pending-ring.ts), not its bytes, which are read
 * again when it is fed (capture/trailing-reader.ts). A capture that cannot hold what the kernel
 * sent (Ethernet or raw IP pcap: every record is taken as received) has nothing to pair and no
 * ARP request of the host's to see, so its records are fed as they are read (lookahead 0).
 */
const LOOKAHEAD_NS = 1.2e9;

export async function replayCapture(file: string, spec: ScenarioSpec, options: ReplayOptions = {}): Promise<ReplayResult> {
  const hostName = options.host ?? spec.trace[0] ?? spec.hosts[0]?.name;
  const hostSpec = spec.hosts.find((h) => h.name === hostName);
  if (!hostSpec) throw new InputError({ file: spec.file }, `no host '${hostName ?? ''}' in the scenario to replay the capture on`);
  const kept: KeptPackets | null = options.keepPackets ? { sent: [], recorded: [] } : null;
  let now = 0;
  let sentCount = 0;
  let recordedCount = 0;
  const neighbours = new NeighbourWatch();
  /**
   * What the kernel does later, in time order (ties as scheduled): neighbour failures and its
   * timers. A heap: its timers are many, and a sorted array took each in a linear search.
   */
  const later = new EventQueue();
  const atLater = (due: number, run: () => void): void =>
    later.at(due, () => {
      now = due;
      run();
    });
  // the IP IDs of the echo replies natsim makes (the kernel's ip_select_ident hash is not known)
  const echoIds = new Prng((options.seed ?? spec.seed) ^ 0x1c3);
  const ports: HostPorts = {
    waitsOnNeighbour: (_h: Host, dev: NetDevice, skb: Skb, nexthop: number, resume: Resume | null) => {
      const round = arpQueues.roundFor(dev, nexthop, skb.time);
      if (round === null) return false;
      // kept past its record: its bytes must not be in a chunk the reader fills again, nor
      // the skb remade for the next record
      skb.pkt = skb.pkt.copy();
      skb.held = true;
      arpQueues.add(dev, nexthop, round, skb, resume);
      return true;
    },
    transmit: (_h: Host, dev: NetDevice, skb: Skb) => {
      sentCount++;
      kept?.sent.push({ time: now, ifindex: dev.index, bytes: Uint8Array.from(skb.pkt.data), fromCapture: own.isFed(skb) });
      own.sent(skb);
      host.tap?.(PacketDirection.Outgoing, dev, skb.pkt, kernelTime(host.nf.recorded, skb));
    },
    // the kernel itself answers an echo request for the node (icmp_echo); sockets' data is the capture's
    deliver: (h: Host, skb: Skb) => (isIpv6Skb(skb) ? icmpv6Echo(h, skb) : icmpAnswer(h, ipv4Path(skb), echoIds.u16())),
    neighbour: (_h: Host, _dev: NetDevice, addr: number, time: number) => ({ mac: l2.macOf(addr), connected: neighbours.connected(addr, time) }),
    validNeighbour: (_h: Host, _dev: NetDevice, addr: number, time: number) => (neighbours.answeredBy(addr, time) ? l2.macOf(addr) : null),
    timer: (_h: Host, at: number, run: () => void) => atLater(at, run),
  };
  const l2 = new L2Addresses();
  const runLaterUntil = (t: number): void => void later.runUntil(t);
  const origin = options.origin ?? new ClockOrigin();
  const host = buildHost(hostSpec, ports, new Prng(options.seed ?? spec.seed), options.cpus ?? spec.cpus, KERNEL_PROFILES[options.kernel ?? spec.kernel], false, origin);
  const arpQueues = new ArpQueues(host, neighbours, atLater);
  host.sink = options.sink ?? null;
  host.tap = options.tap ?? null;
  host.recycleRx = true;
  if (options.probeFor) host.probe = options.probeFor(host);
  options.onHost?.(host);
  const followKernel = options.followKernel ?? true;
  const index = new RecordedOut();
  const own = new OwnOutput(host, hostSpec.sockets ?? []);
  const skipped = new Map<string, number>();
  const skip = (reason: string): void => void skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
  const until = options.until ?? Number.MAX_SAFE_INTEGER;
  const maxPackets = options.maxPackets ?? Number.MAX_SAFE_INTEGER;
  let fed = 0;
  // The packet of the record fed last, remade for the next (adopt into a spare): nothing keeps a
  // fed packet past its record but copies of it (a held skb's, a reassembly queue's) and the
  // values of its fields (trace events, the fate probe, the pairing index).
  let fedPacket: L3Packet | null = null;
  // The same for the Out records recordOut reads the headers of.
  let peekedPacket: L3Packet | null = null;

  const feed = (r: Pending, time: number): void => {
    if (time > until || fed >= maxPackets) return;
    fed++;
    runLaterUntil(time);
    now = time;
    const port = r.outgoing ? null : (r.dev?.brPort ?? null);
    // br_handle_frame_finish learns from every frame a port brings; natsim bridges only IPv4
    if (port && r.protocol !== ETH_P_IP && r.link?.source && port.flags.learning) brFdbLearn(host, port, r.link.source, now);
    if (r.protocol === ETH_P_ARP) return skip('ARP');
    if (r.protocol === ETH_P_IPV6 && r.ndp) return skip('NDP (neighbour discovery: read for which neighbours answer, as ARP is; the host\'s own not compared)');
    if (r.protocol !== ETH_P_IP && r.protocol !== ETH_P_IPV6) return noteUnhandled(host, r, now, `EtherType 0x${r.protocol.toString(16).padStart(4, '0')}`, skip);
    if (r.outgoing) return feedOwn(r);
    const bytes = trail.range(r.position, r.length);
    const pkt = r.protocol === ETH_P_IPV6 ? Ipv6Packet.adopt(bytes, fedPacket) : Ipv4Packet.adopt(bytes, fedPacket);
    if (typeof pkt === 'string') return noteUnhandled(host, r, now, `${r.protocol === ETH_P_IPV6 ? 'IPv6' : 'IPv4'} packet not handled: ${pkt}`, skip);
    fedPacket = pkt;
    const dev = r.ifindex !== 0 ? r.dev : reversePathDevice(host, pkt.saddr);
    if (!dev) {
      if (r.ifindex !== 0) throw new InputError({ file, record: r.index, offset: r.offset }, `interface index ${r.ifindex} is not an interface of host ${host.name} in ${spec.file}`);
      return noteUnhandled(host, r, now, 'no interface index in the capture and no route back to the source to choose one', skip);
    }
    // loopback shows the node's own packet twice, Out and In: it is fed once, as it left (feedOwn)
    if (dev.name === 'lo') return skip('loopback In (fed once, as it was sent)');
    // what a bridge passed up shows In on it too: the frame is fed once, on the port it came by
    if (dev.bridge) return skip('bridge In (fed once, on the port it came in by)');
    if (port && pkt.family === 6) return noteUnhandled(host, r, now, 'IPv6 frame on a bridge port (natsim bridges IPv4 only)', skip);
    index.forget(now);
    const claimed = index.claim(now, pkt);
    host.nf.recorded = followKernel ? claimed : null;
    if (host.probe) host.probe.record = r.index;
    // a bridge port's rx_handler (br_handle_frame) takes every frame before ip_rcv sees its
    // pkt_type (__netif_receive_skb_core): OTHERHOST on a port is the bridge's to forward, not a drop
    host.receive(pkt, dev, now, port && pkt.family === 4 ? portFrame(port, r.link!, pkt) : r.link && receivedHeader(r.link, dev, pkt.daddr), null, !port && r.otherHost);
    host.nf.recorded = null;
  };

  /** A packet the kernel sent that no received packet claimed: the node's own (own-output.ts). */
  const feedOwn = (r: Pending): void => {
    if (r.sent === null || r.sent.claimed || r.sent.forwarded) return;
    const pkt = decodeL3(r.protocol, trail.range(r.position, r.length));
    if (typeof pkt === 'string') return;
    const wire = { saddr: pkt.saddr, sport: pkt.sport, daddr: pkt.daddr, dport: pkt.dport, time: r.sent.time };
    const what = own.classify(pkt, now);
    if (what.kind === 'made') return;
    if (what.kind === 'skip') return noteUnhandled(host, r, now, what.reason, skip);
    host.nf.recorded = followKernel ? wire : null;
    if (host.probe) host.probe.record = r.index;
    own.feed(what.pkt, () => host.outputCaptured(what.pkt, now, what.note));
    host.nf.recorded = null;
  };

  // One pass: what the kernel sent and its ARP traffic are indexed as they are read; received
  // frames wait in `pending` until the reader is LOOKAHEAD_NS past them, and their bytes are
  // taken again when they are fed: from a chunk the pool still holds, or from the file.
  const chunks = new ChunkPool();
  const trail = new TrailingReader(file, chunks);
  boundHeapGrowth();
  const pending = new PendingRing();
  const feedOldest = (): void => {
    feed(pending.oldest(), pending.oldestTime());
    pending.shift();
  };
  const tracing = host.sink !== null;
  const clock = new RecordClock(file, origin, options.warn ?? warnOnStderr);
  const lookahead = mayHoldOutgoing(file) ? LOOKAHEAD_NS : 0;
  let read = 0;
  let lastRecordTime = 0;
  const stop = options.stop ?? null;
  const stopping = (): boolean => stop !== null && stop();
  try {
    await readCapture(file, (r: CaptureRecord) => {
      if (stopping()) return false;
      const time = clock.at(r);
      if (++read % PROGRESS_EVERY === 0) options.progress?.(r.offset, read);
      const outgoing = r.direction === PacketDirection.Outgoing;
      const dev = host.deviceByIndex(r.ifindex);
      // a request the bridge device sends, br_flood sends out of each port, where tcpdump -i any
      // sees it again: the neighbour was asked once (fixtures/kernel/docker-bridge-gone)
      const floodedCopy = outgoing && !!dev?.brPort;
      if (r.protocol === ETH_P_ARP) {
        if (!floodedCopy) neighbours.observe(r, time);
        l2.observeArp(r);
      }
      const ndp = r.protocol === ETH_P_IPV6 && isNdp(r);
      if (ndp) {
        if (!floodedCopy) neighbours.observeNdp(r, time);
        l2.observeNdp(r);
      }
      const ip = r.protocol === ETH_P_IP || (r.protocol === ETH_P_IPV6 && !ndp);
      const received = !outgoing && ip;
      // a bridge port's frames need their source address (the FDB learns it); the others only for a trace (LOG's MAC=)
      const link = (received && tracing) || (!outgoing && dev?.brPort) ? captureLink(r) : null;
      pending.push(time, r, dev, outgoing && ip ? recordOut(r, time) : null, ndp, link);
      while (pending.size > 0 && pending.oldestTime() <= time - lookahead) feedOldest();
      // past --until or --max-packets by the lookahead: nothing later can be fed, so stop reading
      return time <= until + lookahead && fed < maxPackets;
    }, chunks);
    while (pending.size > 0 && !stopping()) feedOldest();
    lastRecordTime = now;
    if (!stopping()) runLaterUntil(until);
  } finally {
    trail.close();
  }
  return { host, sentCount, recordedCount, packets: kept, records: fed, endTime: now, lastRecordTime, skipped };

  /** The link header of an IPv4 frame that entered a bridge port; its sender, if on the bridge's subnet, has its source address. */
  function portFrame(port: BridgePort, link: CapturedLink, pkt: Ipv4Packet): EthHeader {
    if (link.source && port.br.dev.addrs.some((a) => ifaMatch(pkt.saddr, a))) l2.learn(pkt.saddr, link.source);
    return l2.portFrame(port, link.direction, link.source, pkt);
  }

  /** A packet the kernel sent: counted, kept for comparison, and indexed for pairing. */
  function recordOut(r: CaptureRecord, time: number): Sent | null {
    recordedCount++;
    kept?.recorded.push({ time, ifindex: r.ifindex, bytes: Uint8Array.from(r.payload) });
    // only its headers are read (index.add keeps numbers): no copy of its bytes
    const pkt = peekL3(r.protocol, r.payload, peekedPacket);
    if (typeof pkt === 'string') return null;
    peekedPacket = pkt;
    return index.add(time, pkt);
  }
}

/**
 * When the kernel sent this packet, if the capture shows it (the packet it sent for the one being
 * fed, with the same addresses and ports): a capture natsim writes keeps the capture's times.
 * Otherwise natsim's own time: it sends a packet at the instant it receives its cause.
 */
function kernelTime(wire: WireTuple | null, skb: Skb): number {
  const p = skb.pkt;
  if (wire === null || wire.saddr !== p.saddr || wire.sport !== p.sport || wire.daddr !== p.daddr || wire.dport !== p.dport) return skb.time;
  return wire.time;
}

/**
 * Link types without an interface index (Ethernet, SLL, raw IP): the packet is taken as having
 * arrived on the interface the host routes its source through (the reverse path).
 */
function reversePathDevice(host: Host, saddr: number): NetDevice | undefined {
  return host.fib.lookup(saddr)?.dev ?? undefined;
}

function noteUnhandled(host: Host, r: Pending, time: number, reason: string, skip: (reason: string) => void): void {
  skip(reason);
  host.sink?.emit({ kind: 'unhandled', time, host: host.name, skb: 0, dev: r.dev?.name ?? `if${r.ifindex}`, reason: `record ${r.index}: ${reason}` });
}


/** An IP frame's packet, IPv4 or IPv6 by its EtherType, on a copy of its bytes. */
function decodeL3(protocol: number, bytes: Uint8Array): L3Packet | string {
  return protocol === ETH_P_IPV6 ? Ipv6Packet.decode(bytes) : Ipv4Packet.decode(bytes);
}

/** decodeL3 on the frame's own bytes, into `spare`, for a packet whose headers are read and that nothing changes or keeps. */
function peekL3(protocol: number, bytes: Uint8Array, spare: L3Packet | null): L3Packet | string {
  return protocol === ETH_P_IPV6 ? Ipv6Packet.adopt(bytes, spare) : Ipv4Packet.adopt(bytes, spare);
}

/**
 * Router solicitation and advertisement, neighbour solicitation and advertisement (ICMPv6
 * 133–136) right after the fixed header. Read in the chunk: every IPv6 record asks, and a
 * payload view would be its one allocation.
 */
function isNdp(r: CaptureRecord): boolean {
  const bytes = r.chunk.bytes;
  const at = r.payloadAt;
  // a redirect (137) is routing, not neighbour resolution: an IP packet, compared as any other
  return r.payloadLength > 40 && bytes[at + 6] === 58 && bytes[at + 40]! >= ICMPV6.NDISC_ROUTER_SOLICITATION && bytes[at + 40]! < ICMPV6.NDISC_REDIRECT;
}
