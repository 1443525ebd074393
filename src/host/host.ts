/**
 * One Linux host (one network namespace): devices, routing, sysctls, netfilter hooks with
 * conntrack and NAT — the glue between the devices and the IP paths of ipv4/ and ipv6/ (ip_rcv
 * or ipv6_rcv by the frame's family → PRE_ROUTING → routing → LOCAL_IN | FORWARD →
 * POST_ROUTING → transmit; local output → LOCAL_OUT → POST_ROUTING), each family with its own
 * hook table (nf_hooks_ipv4, nf_hooks_ipv6).
 */
import type { IcmpGlobal } from '../ipv4/icmp-global.js';
import { Hook, Verdict } from '../netfilter/constants.js';
import { PacketDirection } from '../capture/record.js';
import { ETH_P_IP } from '../capture/link-layer.js';
import type { StackHooks } from '../netfilter/stack.js';
import type { NetfilterNet } from '../netfilter/net.js';
import { ipv4Path, isIpv6Skb, Skb, type Ipv4Skb, type Ipv6Skb } from '../netfilter/skb.js';
import type { L3Packet } from '../packet/l3-packet.js';
import type { ClockOrigin } from '../capture/clock-origin.js';
import { eventEntry, viewPacket, type TraceSink } from '../trace/events.js';
import type { Conn } from '../netfilter/conntrack/conn.js';
import type { ConntrackEventType } from '../netfilter/conntrack/ecache.js';
import type { EthHeader, NetDevice } from './device.js';
import { routeNexthop, type Fib, type Route } from './fib.js';
import { InetPeers } from '../ipv4/inetpeer.js';
import { sendReject } from '../ipv4/nf-reject-ipv4.js';
import { sendReject6 } from '../ipv6/nf-reject-ipv6.js';
import type { Sysctl } from './sysctl.js';
import { inetSelectAddr } from '../ipv4/devinet.js';
import type { Ipvs } from '../netfilter/ipvs/ipvs.js';
import type { Ruleset } from '../netfilter/rules/model.js';
import type { BacklogCpu } from './backlog-cpu.js';
import { ipRcv } from '../ipv4/ip-input.js';
import { ipv6Rcv } from '../ipv6/ip6-input.js';
import { ip6LocalOut, ip6RouteOutput } from '../ipv6/ip6-output.js';
import { ipv6DevGetSaddr } from '../ipv6/addrconf.js';
import { isIpv6 } from '../packet/ipv6-addr.js';
import { Fib6 } from '../ipv6/route.js';
import { ipLocalOut, ipLocalOutRouted } from '../ipv4/ip-output.js';
import { brHandleFrame } from '../bridge/br-input.js';
import { brDevXmit } from '../bridge/br-device.js';
import type { FateProbe } from '../netfilter/probe.js';
import { nfCtFrag6Expire } from '../ipv6/nf-defrag-ipv6.js';

/** What loopback_xmit's eth_type_trans finds: lo's all-zero addresses and ETH_P_IP. */
const LOOPBACK_HEADER: EthHeader = { dest: new Uint8Array(6), source: new Uint8Array(6), proto: ETH_P_IP };

/** Where a host's packets go once they leave it, and what local sockets get. */
export interface HostPorts {
  /**
   * A packet leaves `dev` toward `nexthop`: once the next hop resolves, it is on the wire, and
   * the port shows it to host.tap (a packet for a neighbour that never answers is not).
   */
  transmit(host: Host, dev: NetDevice, skb: Skb, nexthop: number): void;
  /**
   * neigh_resolve_output → __neigh_event_send: whether `skb`, for `nexthop` on `dev`, waits in
   * the arp_queue of a neighbour that has not answered. The port then holds it — sends it on
   * if an answer comes (`resume`, or Host.devQueueXmit), answers for it if the neighbour fails —
   * and it is not on the device now.
   */
  waitsOnNeighbour(host: Host, dev: NetDevice, skb: Skb, nexthop: number, resume: Resume | null): boolean;
  /** A packet reached a local socket (after LOCAL_IN). */
  deliver(host: Host, skb: Skb): void;
  /** The neighbour entry for `addr` on `dev` at `time`, resolving it if need be: its link address, and whether it is NUD_CONNECTED. */
  neighbour(host: Host, dev: NetDevice, addr: number, time: number): Neighbour;
  /**
   * The link address of `addr`'s entry on `dev` at `time` if it is NUD_VALID (answered, not
   * failed since: REACHABLE, STALE, DELAY, PROBE), else null — a lookup that resolves nothing.
   */
  validNeighbour(host: Host, dev: NetDevice, addr: number, time: number): Uint8Array | null;
  /** A kernel timer (mod_timer): `run` is called when the clock reaches `at` (ns). */
  timer(host: Host, at: number, run: () => void): void;
}

/** What the host's neighbour table holds for an address (struct neighbour, as far as natsim needs it). */
export interface Neighbour {
  readonly mac: Uint8Array | null;
  readonly connected: boolean;
}

/** How a packet that waited for its neighbour goes on when the neighbour answers (neigh->output's continuation). */
export type Resume = () => void;

/** A packet on the wire of `dev`, as tcpdump -i any sees it. */
export type PacketTap = (direction: PacketDirection.Host | PacketDirection.Outgoing, dev: NetDevice, pkt: L3Packet, time: number) => void;

export class Host {
  private traceSink: TraceSink | null = null;
  private lastSkbId = 0;
  /** The IP id of the next packet the host's kernel makes itself (ICMP errors). */
  private ipId = 0;
  readonly peers = new InetPeers();
  /** The host's IPVS virtual services and connections, when it has any. */
  ipvs: Ipvs | null = null;
  /** A capture's wall clock (its first record is virtual time 0); null in a scenario, whose clock starts at the epoch. */
  clock: ClockOrigin | null = null;
  /** The rules its hooks evaluate (a capture replay reads them to undo nat OUTPUT: world/own-output.ts). */
  ruleset: Ruleset = { tables: [] };
  /** Sees every packet that arrives on or leaves an interface (for --write-pcap). */
  tap: PacketTap | null = null;
  /** The IPv6 FIB (addresses' routes and the node's IPv6 routes). */
  readonly fib6 = new Fib6();
  /**
   * Reuse one skb for every received packet (its last one, remade: rxSkb), as a capture replay
   * asks: it feeds one record at a time, and marks held any skb it keeps past its record.
   */
  recycleRx = false;
  private spareRx: Skb | null = null;
  /** natsim's own packet counts: what came in, went out, reached a socket, and why any died. */
  readonly packets = { received: 0, sent: 0, delivered: 0, dropped: new Map<string, number>() };

  constructor(
    readonly name: string,
    readonly devices: readonly NetDevice[],
    readonly fib: Fib,
    readonly sysctl: Sysctl,
    readonly nf: NetfilterNet,
    readonly hooks: StackHooks<Ipv4Skb>,
    /** The IPv6 hook table (nf_hooks_ipv6). */
    readonly hooks6: StackHooks<Ipv6Skb>,
    private readonly ports: HostPorts,
    /** Which CPU runs each packet (conntrack -S counts per CPU). */
    readonly cpu: BacklogCpu,
    /** The global limit of its ICMP and ICMPv6 errors. */
    readonly icmpGlobal: IcmpGlobal,
  ) {
    // inet_frag_create's timer for each new IPv6 reassembly queue: nf_ct_frag6_expire
    nf.frag6.armTimer = (at) => ports.timer(this, at, () => nfCtFrag6Expire(this, at));
  }

  nextSkbId(): number {
    return ++this.lastSkbId;
  }

  nextIpId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  get sink(): TraceSink | null {
    return this.traceSink;
  }

  /** Who hears this host's trace events, conntrack events (`conntrack -E`) included. */
  set sink(sink: TraceSink | null) {
    this.traceSink = sink;
    this.nf.events = sink && {
      emit: (event: ConntrackEventType, ct: Conn, now: number, protoinfo: boolean) => sink.emit({ kind: 'conntrack', time: now, host: this.name, skb: 0, event, entry: eventEntry(event, ct, now, protoinfo) }),
    };
  }

  get probe(): FateProbe | null {
    return this.nf.probe;
  }

  /** Who hears the fate of the host's packets and entries (netfilter/probe.ts). */
  set probe(probe: FateProbe | null) {
    this.nf.probe = probe;
  }

  device(name: string): NetDevice | undefined {
    return this.devices.find((d) => d.name === name);
  }

  /** dev_get_by_index: a loop, not find(), as every captured packet asks (no closure per call). */
  deviceByIndex(index: number): NetDevice | undefined {
    for (const d of this.devices) if (d.index === index) return d;
    return undefined;
  }

  /**
   * ip_rcv: a packet arrives on `dev` with link header `mac` (see Skb.mac), processed on
   * `cpu` when the sender's CPU is known (a veth peer in the same world), else on a drawn one.
   */
  receive(pkt: L3Packet, dev: NetDevice, time: number, mac: EthHeader | null, cpu: number | null = null, otherHost = false): void {
    const skb = this.rxSkb(pkt, time, cpu, dev);
    skb.mac = mac;
    skb.otherHost = otherHost;
    this.packets.received++;
    this.tap?.(PacketDirection.Host, dev, pkt, time);
    this.sink?.emit({ kind: 'receive', time, host: this.name, skb: skb.id, dev: dev.name, pkt: viewPacket(pkt) });
    // __netif_receive_skb_core: a bridge port's rx_handler takes the frame (br_handle_frame)
    if (dev.brPort) brHandleFrame(this, dev.brPort, skb);
    else this.l3Rcv(skb, dev);
    if (this.recycleRx) this.spareRx = skb;
  }

  /**
   * The skb for a received packet: the last one received, remade, when the host may reuse it —
   * recycleRx is set, it has come back from its packet's whole path (spareRx, taken while in
   * use, so a receive inside another gets its own), nothing holds it (Skb.held), and no trace
   * sink watches skbs (its events may be read after the packet). A fate probe keeps ids, not
   * skbs (FateProbe), so explain and diff reuse them too.
   */
  private rxSkb(pkt: L3Packet, time: number, cpu: number | null, dev: NetDevice): Skb {
    const id = this.nextSkbId();
    const on = cpu ?? this.cpu.next();
    const spare = this.spareRx;
    this.spareRx = null;
    if (spare === null || spare.held || this.traceSink !== null) return new Skb(id, pkt, time, on, dev);
    spare.init(id, pkt, time, on, dev);
    return spare;
  }

  /** netif_receive_skb on a bridge device: a frame br_pass_frame_up sends up the stack. */
  netifReceive(skb: Skb, dev: NetDevice): void {
    skb.indev = dev;
    this.tap?.(PacketDirection.Host, dev, skb.pkt, skb.time);
    this.sink?.emit({ kind: 'receive', time: skb.time, host: this.name, skb: skb.id, dev: dev.name, pkt: viewPacket(skb.pkt) });
    this.l3Rcv(skb, dev);
  }

  /** __netif_receive_skb_core's protocol handler by ethertype: ip_rcv or ipv6_rcv. */
  private l3Rcv(skb: Skb, dev: NetDevice): void {
    if (isIpv6Skb(skb)) ipv6Rcv(this, skb, dev);
    else ipRcv(this, ipv4Path(skb), dev);
  }

  neighbour(dev: NetDevice, addr: number, time: number): Neighbour {
    return this.ports.neighbour(this, dev, addr, time);
  }

  validNeighbour(dev: NetDevice, addr: number, time: number): Uint8Array | null {
    return this.ports.validNeighbour(this, dev, addr, time);
  }

  /**
   * A packet sent on loopback comes back in as it left: loopback_xmit keeps skb->_nfct, so
   * conntrack at PRE_ROUTING sees it tracked already and NAT applies the bindings made on the
   * way out.
   */
  receiveLooped(skb: Skb, lo: NetDevice): void {
    skb.indev = lo;
    skb.mac = LOOPBACK_HEADER;
    skb.appSocket = false; // loopback_xmit orphans the skb
    skb.outdev = null;
    skb.route = null;
    this.packets.received++;
    this.tap?.(PacketDirection.Host, lo, skb.pkt, skb.time);
    this.sink?.emit({ kind: 'receive', time: skb.time, host: this.name, skb: skb.id, dev: lo.name, pkt: viewPacket(skb.pkt) });
    this.l3Rcv(skb, lo);
  }

  /**
   * An unbound socket's source toward `dst`: the route's preferred source, else inet_select_addr
   * toward the gateway (ip_route_connect); for IPv6 the route's preferred source, else
   * ipv6_dev_get_saddr out of the route's device (ip6_route_get_saddr). 0: no route.
   */
  sourceFor(dst: number): number {
    if (isIpv6(dst)) {
      const route = ip6RouteOutput(this, dst);
      if (!route) return 0;
      return route.prefsrc ?? ipv6DevGetSaddr(this.devices, route.dev, dst) ?? 0;
    }
    const route = this.fib.lookup(dst);
    if (!route?.dev) return 0;
    return route.prefsrc || inetSelectAddr(this.devices, route.dev, route.gateway, route.scope);
  }

  /** ip_local_out for a packet a local socket sends, routed by its destination (see Skb.appSocket). */
  output(pkt: L3Packet, time: number, appSocket: boolean): void {
    this.localOut(this.localSkb(pkt, time, appSocket));
  }

  /** A packet of the node's own stack taken from a capture (world/own-output.ts): shown, then ip_local_out. */
  outputCaptured(pkt: L3Packet, time: number, note: string | null): void {
    const skb = this.localSkb(pkt, time, true);
    this.sink?.emit({ kind: 'output', time, host: this.name, skb: skb.id, pkt: viewPacket(pkt), note });
    this.localOut(skb);
  }

  private localSkb(pkt: L3Packet, time: number, appSocket: boolean): Skb {
    const skb = new Skb(this.nextSkbId(), pkt, time, this.cpu.next(), null);
    skb.appSocket = appSocket;
    return skb;
  }

  /** LOCAL_OUT → routing → POST_ROUTING for a locally made skb (a socket's, or icmp_send's). */
  localOut(skb: Skb): void {
    if (isIpv6Skb(skb)) ip6LocalOut(this, skb);
    else ipLocalOut(this, ipv4Path(skb));
  }

  /** NF_HOOK(LOCAL_OUT, ..., dst_output) for an skb whose route is already chosen. */
  localOutRouted(skb: Ipv4Skb, route: Route): void {
    ipLocalOutRouted(this, skb, route);
  }

  /** The packet reached a local socket (after LOCAL_IN), which consumes it. */
  deliverLocal(skb: Skb): void {
    this.packets.delivered++;
    this.ports.deliver(this, skb);
    this.consumed(skb);
  }

  /** ip_finish_output2 → neigh_output: the next hop resolved (lo has no neighbours), or the packet waits for it. */
  neighOutput(skb: Skb, out: NetDevice, nexthop: number): void {
    if (out.type !== 'loopback' && this.ports.waitsOnNeighbour(this, out, skb, nexthop, null)) return;
    this.devQueueXmit(skb, out, nexthop);
  }

  /** neigh->output of an entry not NUD_CONNECTED for a caller that goes on its own way (`resume`) once it resolves: whether the packet waits. */
  waitsOnNeighbour(skb: Skb, dev: NetDevice, nexthop: number, resume: Resume): boolean {
    return this.ports.waitsOnNeighbour(this, dev, skb, nexthop, resume);
  }

  /**
   * dev_queue_xmit: one packet onto the device, toward `nexthop`; a bridge device sends it on to
   * its ports (br_dev_xmit). loopback_xmit keeps the skb, entry and all: it is consumed where
   * the looped packet ends.
   */
  devQueueXmit(skb: Skb, out: NetDevice, nexthop: number): void {
    this.devTap(skb, out, nexthop);
    if (out.bridge) brDevXmit(this, out.bridge, skb, nexthop);
    else if (out.type !== 'loopback') this.consumed(skb);
  }

  /**
   * consume_skb of a packet sent or delivered: an unconfirmed entry it holds loses that
   * reference — the one nf_ct_attach gave an answer (an ICMP error, a redirect) about a packet
   * still on its way, or a fragment's (ip_copy_metadata).
   */
  consumed(skb: Skb): void {
    if (skb.ct && !skb.ct.confirmed) this.nf.putUnconfirmed(skb.ct);
  }

  /** A piece of `skb` (ip_do_fragment, ip6_fragment): its own skb, with a reference to the entry (ip_copy_metadata → nf_copy). */
  fragmentOf<P extends L3Packet>(skb: Skb<P>, pkt: P): Skb<P> {
    const piece = new Skb<P>(this.nextSkbId(), pkt, skb.time, skb.cpu, skb.indev);
    piece.ct = skb.ct;
    piece.ctinfo = skb.ctinfo;
    if (piece.ct && !piece.ct.confirmed) piece.ct.refs++;
    return piece;
  }

  /** The packet is on `out` (tcpdump sees it Out there). */
  devTap(skb: Skb, out: NetDevice, nexthop: number): void {
    this.packets.sent++;
    this.sink?.emit({ kind: 'transmit', time: skb.time, host: this.name, skb: skb.id, dev: out.name, pkt: viewPacket(skb.pkt) });
    this.ports.transmit(this, out, skb, nexthop);
  }

  /** NF_HOOK: runs a hook; false (and a drop event) when the packet did not survive it. */
  nfHook(hook: Hook, skb: Skb, inDev: NetDevice | null, outDev: NetDevice | null): boolean {
    const verdict = isIpv6Skb(skb) ? this.hooks6.run(hook, skb, inDev, outDev, this.name, this.sink) : this.hooks.run(hook, ipv4Path(skb), inDev, outDev, this.name, this.sink);
    if (verdict === Verdict.Accept) return true;
    if (verdict === Verdict.Stolen) {
      const next = skb.stolenTo;
      skb.stolenTo = null;
      next?.();
      return false;
    }
    if (verdict === Verdict.Drop) {
      // REJECT attaches its answer to the entry (nf_ct_attach) before nf_hook_slow frees the packet
      const held = skb.drop?.reject && skb.ct && !skb.ct.confirmed ? skb.ct : null;
      if (held) held.refs++;
      this.dropped(skb, hook, skb.drop?.reason ?? 'dropped', skb.drop?.counter ?? null);
      const reject = skb.drop?.reject;
      if (reject) {
        if (isIpv6Skb(skb)) sendReject6(this, skb, reject);
        else sendReject(this, ipv4Path(skb), reject);
      }
      if (held) this.nf.putUnconfirmed(held);
    }
    return false;
  }

  routeEvent(skb: Skb, result: 'local' | 'forward', route: Route): void {
    this.sink?.emit({ kind: 'route', time: skb.time, host: this.name, skb: skb.id, result, dev: route.dev?.name ?? null, nexthop: routeNexthop(route, skb.pkt.daddr), reason: null });
  }

  /** A drop by routing or forwarding; `fn` the kernel function that refused the packet. */
  routeDrop(skb: Skb, reason: string, fn: string): void {
    this.sink?.emit({ kind: 'route', time: skb.time, host: this.name, skb: skb.id, result: 'drop', dev: null, nexthop: null, reason });
    this.dropped(skb, null, reason, null, fn);
  }

  /**
   * kfree_skb: the packet dies here, counted and traced with its reason. `fn`: the kernel
   * function that dropped it off the hooks (on a hook, the op that returned NF_DROP says).
   */
  dropped(skb: Skb, hook: Hook | null, reason: string, counter: string | null = null, fn: string | null = null): void {
    this.nf.probe?.dropped(skb, hook, reason, counter, fn);
    this.freed(skb, hook, reason, counter);
  }

  /** kfree_skb of a packet that waited on its neighbour, at `now`: counted and traced (its port tells the probe, FateProbe.unresolved). */
  neighbourDropped(skb: Skb, reason: string, now: number): void {
    skb.time = now;
    this.freed(skb, null, reason, null);
  }

  private freed(skb: Skb, hook: Hook | null, reason: string, counter: string | null): void {
    // kfree_skb drops the last reference to an unconfirmed entry
    if (skb.ct && !skb.ct.confirmed) this.nf.putUnconfirmed(skb.ct);
    const why = counter ? `conntrack ${counter}` : reason;
    this.packets.dropped.set(why, (this.packets.dropped.get(why) ?? 0) + 1);
    this.sink?.emit({ kind: 'drop', time: skb.time, host: this.name, skb: skb.id, hook, reason, counter });
  }
}

