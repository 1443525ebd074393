/**
 * A host's sockets and the kernel's own answers to packets that reach LOCAL_IN: TCP
 * listeners and connections (tcp_v4_rcv, tcp_v6_rcv), UDP sockets (udp_rcv, udpv6_rcv), echo
 * replies (icmp_echo, icmpv6_echo_reply), and for a port nobody listens on, a RST
 * (tcp_v4_send_reset, tcp_v6_send_reset) or an ICMP port unreachable (icmp_send, rate-limited
 * per peer by icmpv4_xrlim_allow; icmp6_send). A listener takes both families, as a socket
 * bound to [::] does with net.ipv6.bindv6only 0 (the default); the UDP port table is one for both.
 */
import type { Host } from '../host/host.js';
import { IPPROTO } from '../netfilter/constants.js';
import { ipv4Path, isIpv6Skb, type Ipv4Skb, type Ipv6Skb, type Skb } from '../netfilter/skb.js';
import { icmpv6Echo, icmpv6Send } from '../ipv6/icmp.js';
import { ip6RouteOutput } from '../ipv6/ip6-output.js';
import type { L3Packet } from '../packet/l3-packet.js';
import { ICMPV6, type Ipv6Packet } from '../packet/ipv6.js';
import { formatIpv6, isIpv6 } from '../packet/ipv6-addr.js';
import { buildTcpReset, buildUdp, buildUdp6 } from '../packet/build.js';
import { TcpFlag, type Ipv4Packet } from '../packet/ipv4.js';
import type { EventQueue } from '../sim/event-queue.js';
import { streamSeed, type Prng } from '../sim/prng.js';
import { formatIpv4 } from '../packet/ipv4-addr.js';
import { ephemeralPort } from './ephemeral.js';
import { icmpAnswer, icmpSend } from '../ipv4/icmp.js';
import { ipRouteOutput } from '../ipv4/ip-output.js';
import { Mib, type MibName } from './mib.js';
import type { SocketEnv } from './socket-env.js';
import { endpointText, TcpSocket, TcpSockState, type Endpoint, type TcpApp } from './tcp-socket.js';
import { UdpSocket, type UdpHost } from './udp-socket.js';
import { ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_PORT_UNREACH, ICMP_TIMESTAMP } from '../packet/icmp.js';

/** MSS for an Ethernet MTU of 1500, and for loopback's 65536. */
const MSS_ETHERNET = 1460;
const MSS_LOOPBACK = 65495;
/** Over IPv6 the headers take 60 bytes, not 40 (ip6_default_advmss): mss 1440, as in fixtures/kernel-experiments/ip6-tcp-windows and ip6-masq-router. */
const MSS6_ETHERNET = 1440;
const MSS6_LOOPBACK = 65476;
/** ICMPV6_DEST_UNREACH and its code ICMPV6_PORT_UNREACH. */
const ICMPV6_DEST_UNREACH = 1;
const ICMPV6_PORT_UNREACH = 4;

/** An application-level outcome, for the end-of-run summary. */
export interface AppEvent {
  readonly host: string;
  readonly time: number;
  readonly text: string;
}

export class HostSockets implements SocketEnv, UdpHost {
  readonly mib = new Mib();
  private readonly listeners = new Map<number, TcpApp>();
  private readonly connections = new Map<string, TcpSocket>();
  private readonly udpListeners = new Map<number, { echo: boolean }>();
  /** The UDP ports sockets are bound to, and how many sockets each (bind() checks no reuse). */
  private readonly udpBound = new Map<number, number>();
  readonly tsSecret: number;

  constructor(
    private readonly host: Host,
    readonly queue: EventQueue,
    readonly prng: Prng,
    private readonly events: AppEvent[],
  ) {
    // a stream of its own, so that drawing the secret shifts no other random choice of the run
    this.tsSecret = streamSeed(prng.seed, `ts_secret ${host.name}`);
  }

  get sysctl(): Host['sysctl'] {
    return this.host.sysctl;
  }

  output(pkt: L3Packet, now: number, appSocket: boolean): void {
    this.host.output(pkt, now, appSocket);
  }

  log(text: string): void {
    this.events.push({ host: this.host.name, time: this.queue.now, text });
  }

  forget(socket: TcpSocket): void {
    this.connections.delete(key(socket.local, socket.remote));
  }

  /** A listener's connections answer with `reply` bytes and close `eofHoldNs` after reading EOF. */
  listenTcp(port: number, reply: number, eofHoldNs: number): void {
    this.listeners.set(port, { send: 0, reply, holdNs: null, eofHoldNs });
  }

  listenUdp(port: number, echo: boolean): void {
    this.udpListeners.set(port, { echo });
  }

  /** connect(): the source address from the route (or `from`), an ephemeral port unless given. */
  connectTcp(dst: number, dport: number, from: Partial<Endpoint>, app: TcpApp, now: number): void {
    if (!this.routeOut(dst)) return this.log(`tcp connect to ${endpointText({ addr: dst, port: dport })}: network unreachable`);
    const addr = from.addr ?? this.sourceFor(dst);
    const remote = { addr: dst, port: dport };
    const port = from.port ?? ephemeralPort(this.sysctl.text('net.ipv4.ip_local_port_range'), this.prng, (p) => this.connections.has(key({ addr, port: p }, remote)));
    if (port === null) return this.log(`tcp connect to ${endpointText(remote)}: no free local port`);
    const local = { addr, port };
    const socket = new TcpSocket(this, local, remote, app, this.mssToward(dst), TcpSockState.SynSent);
    this.connections.set(key(local, remote), socket);
    socket.connect(now);
  }

  /** A UDP socket, bound to `from` or unbound until its first datagram. */
  openUdp(from: number | null): UdpSocket {
    return new UdpSocket(this, from);
  }

  autobind(): number | null {
    const port = ephemeralPort(this.sysctl.text('net.ipv4.ip_local_port_range'), this.prng, (p) => this.udpBound.has(p));
    if (port !== null) this.bind(port);
    return port;
  }

  bind(port: number): void {
    this.udpBound.set(port, (this.udpBound.get(port) ?? 0) + 1);
  }

  unhash(port: number): void {
    const left = this.udpBound.get(port)! - 1;
    if (left === 0) this.udpBound.delete(port);
    else this.udpBound.set(port, left);
  }

  /** UDP ports bound now. */
  get udpPortsBound(): number {
    return this.udpBound.size;
  }

  /**
   * A UDP socket's datagram. IP_PMTUDISC_WANT (__ip_make_skb): DF only on a datagram that fits
   * the route's MTU; a larger one leaves in fragments (ip_fragment). An IPv6 one (udp_v6_send_skb)
   * carries hop limit 64; over the MTU it is refused by ip6-fragment.ts, ip6_append_data's
   * fragmentation not being modelled.
   */
  udpOut(saddr: number, daddr: number, sport: number, dport: number, payload: Uint8Array, now: number): void {
    if (isIpv6(daddr)) return this.output(buildUdp6({ saddr, daddr, sport, dport, ipId: 0, ttl: 64, payload }), now, true);
    const df = 28 + payload.length <= (this.host.fib.lookup(daddr)?.dev?.mtu ?? 1500);
    this.output(buildUdp({ saddr, daddr, sport, dport, ipId: this.prng.u16(), ttl: 64, payload, df }), now, true);
  }

  sourceFor(dst: number): number {
    return this.host.sourceFor(dst);
  }

  /** Whether a route leads toward `dst` (ip_route_connect, ip6_dst_lookup_flow). */
  private routeOut(dst: number): boolean {
    return isIpv6(dst) ? ip6RouteOutput(this.host, dst) !== null : !!this.host.fib.lookup(dst)?.dev;
  }

  /** The MSS a socket announces: from the MTU of the device the route toward the peer uses. */
  private mssToward(addr: number): number {
    if (isIpv6(addr)) return ip6RouteOutput(this.host, addr)?.dev?.name === 'lo' ? MSS6_LOOPBACK : MSS6_ETHERNET;
    return ipRouteOutput(this.host, addr)?.dev?.name === 'lo' ? MSS_LOOPBACK : MSS_ETHERNET;
  }

  /** A packet that passed LOCAL_IN. */
  deliver(skb: Skb): void {
    if (isIpv6Skb(skb)) return this.deliver6(skb);
    const v4 = ipv4Path(skb);
    const p = v4.pkt;
    if (p.proto === IPPROTO.TCP) this.tcpReceive(p, skb.time);
    else if (p.proto === IPPROTO.UDP) this.udpReceive(v4, skb.time, () => icmpSend(this.host, v4, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH), ['UdpNoPorts', 'IcmpOutDestUnreachs']);
    else if (p.proto === IPPROTO.ICMP) this.icmpReceive(v4);
  }

  /**
   * ip6_protocol_deliver_rcu for this host: TCP (tcp_v6_rcv) and UDP (udpv6_rcv) as over IPv4;
   * icmpv6_rcv answers an echo request (icmpv6_echo_reply), gives an echo reply to ping and a
   * destination unreachable to the TCP socket it quotes (tcp_v6_err).
   */
  private deliver6(skb: Ipv6Skb): void {
    const p = skb.pkt;
    if (p.proto === IPPROTO.TCP) return this.tcpReceive(p, skb.time);
    if (p.proto === IPPROTO.UDP) return this.udpReceive(skb, skb.time, () => icmpv6Send(this.host, skb, ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH), ['Udp6NoPorts', 'Icmp6OutDestUnreachs']);
    if (p.proto !== IPPROTO.ICMPV6) return;
    if (p.icmpType === ICMPV6.ECHO_REQUEST) return icmpv6Echo(this.host, skb);
    if (p.icmpType === ICMPV6_DEST_UNREACH) return this.icmpUnreach(p);
    if (p.icmpType === ICMPV6.ECHO_REPLY) this.log(`ping: reply from ${formatIpv6(p.saddr)} icmp_seq=${(p.data[p.l4off + 6]! << 8) | p.data[p.l4off + 7]!}`);
  }

  private tcpReceive(p: L3Packet, now: number): void {
    const local = { addr: p.daddr, port: p.dport };
    const remote = { addr: p.saddr, port: p.sport };
    const socket = this.connections.get(key(local, remote));
    if (socket) return socket.receive(p, now);
    const listener = this.listeners.get(p.dport);
    const flags = p.tcpFlags;
    if (listener && (flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST)) === TcpFlag.SYN) {
      const child = new TcpSocket(this, local, remote, listener, this.mssToward(p.saddr), TcpSockState.SynRecv);
      this.connections.set(key(local, remote), child);
      return child.acceptSyn(p, now);
    }
    if (!(flags & TcpFlag.RST)) this.sendReset(p, now);
  }

  /** tcp_v4_send_reset, tcp_v6_send_reset */
  private sendReset(p: L3Packet, now: number): void {
    this.mib.inc('TcpOutRsts');
    this.output(buildTcpReset(p), now, false);
  }

  /** icmp_unreach → tcp_v4_err (icmpv6_notify → tcp_v6_err): the quoted header names the local socket it is about. */
  private icmpUnreach(p: Ipv4Packet | Ipv6Packet): void {
    const quoted = p.quotedPacket();
    if (typeof quoted === 'string' || quoted.proto !== IPPROTO.TCP) return;
    this.connections.get(key({ addr: quoted.saddr, port: quoted.sport }, { addr: quoted.daddr, port: quoted.dport }))?.icmpError(p.icmpCode);
  }

  /** udp_rcv (udpv6_rcv); nobody on the port: `unreachable` sends the port unreachable the family sends, counted in `mibs`. */
  private udpReceive(skb: Ipv4Skb | Ipv6Skb, now: number, unreachable: () => boolean, mibs: readonly [MibName, MibName]): void {
    const p = skb.pkt;
    const listener = this.udpListeners.get(p.dport);
    if (listener) {
      if (listener.echo) this.udpOut(p.daddr, p.saddr, p.dport, p.sport, p.data.subarray(p.l4off + 8), now);
      return;
    }
    if (this.udpBound.has(p.dport)) return; // an answer to one of our own datagrams
    this.mib.inc(mibs[0]);
    if (unreachable()) this.mib.inc(mibs[1]);
  }

  /** icmp_echo answers an echo request; a ping application takes the reply; errors go to their TCP socket. */
  private icmpReceive(skb: Ipv4Skb): void {
    const p = skb.pkt;
    if (p.icmpType === ICMP_DEST_UNREACH) return this.icmpUnreach(p);
    if (p.icmpType === ICMP_ECHO || p.icmpType === ICMP_TIMESTAMP) return icmpAnswer(this.host, skb, this.prng.u16());
    const seq = (p.data[p.l4off + 6]! << 8) | p.data[p.l4off + 7]!;
    if (p.icmpType === ICMP_ECHOREPLY) this.log(`ping: reply from ${formatIpv4(p.saddr)} icmp_seq=${seq}`);
  }
}

function key(local: Endpoint, remote: Endpoint): string {
  return `${local.addr}:${local.port}>${remote.addr}:${remote.port}`;
}
