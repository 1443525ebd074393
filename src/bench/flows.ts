/**
 * The flows of the benchmark workload, each laid out whole when it starts: every packet the
 * router receives for it, stamped with its arrival time. LAN packets come from 10.0.x.y on
 * lan0; server packets arrive on wan0 addressed to the router's WAN address and the client's
 * port (MASQUERADE keeps a free port, and PortBook keeps the ports free). Sequence numbers,
 * acknowledgements and windows are consistent, so conntrack's TCP window tracking accepts the
 * flows as a real stack's, and every checksum is right (the builders compute them).
 */
import { buildIcmpEcho, buildIcmpError, buildTcp, buildUdp, type SynOptions } from '../packet/build.js';
import { TcpFlag } from '../packet/ipv4.js';
import { IPPROTO } from '../netfilter/constants.js';
import type { Prng } from '../sim/prng.js';
import { AddressPools, LAN_IFINDEX, RESOLVERS, WAN_ADDR, WAN_IFINDEX, serverTtl } from './addresses.js';
import type { PortBook } from './port-book.js';
import type { TimedPacket } from './packet-queue.js';
import { ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_PORT_UNREACH } from '../packet/icmp.js';

export interface FlowEnv {
  readonly prng: Prng;
  readonly pools: AddressPools;
  readonly ports: PortBook;
  emit(packet: TimedPacket): void;
}

export type FlowKind = 'tcp' | 'dns' | 'ping' | 'udp-unreachable' | 'unsolicited';
export type FlowBuilder = (env: FlowEnv, start: number) => void;

const MS = 1000; // times are in µs
const SECOND = 1_000_000;
const EPHEMERAL_LO = 32768; // net.ipv4.ip_local_port_range
const EPHEMERAL_HI = 60999;
const SYN_OPTIONS: SynOptions = { mss: 1460, wscale: 7 };
/**
 * The data in a full segment: IPv6's MSS on a 1500-byte link (1440) less the timestamps Linux
 * would add, so that the IPv6 twin of a full segment (to-ipv6.ts: 20 bytes longer) fits the
 * router's MTU as the IPv4 one does. Any larger and the IPv6 cases would measure ip6_forward's
 * packet-too-big errors (IPv6 routers never fragment) instead of forwarding.
 */
const MSS = 1428;
const ECHO_PAYLOAD = new Uint8Array(56).map((_, i) => (0x10 + i) & 0xff);
const { FIN, SYN, RST, PSH, ACK } = TcpFlag;

/** One way through the router to a server: a WAN round trip plus the LAN hop to the client. */
interface Path {
  readonly rtt: number;
  readonly lan: number;
}

function path(prng: Prng): Path {
  return { rtt: 5 * MS + prng.below(145 * MS), lan: 200 + prng.below(800) };
}

function clientPort(env: FlowEnv, proto: number, server: number, dport: number, now: number): number {
  const first = EPHEMERAL_LO + env.prng.below(EPHEMERAL_HI - EPHEMERAL_LO + 1);
  return env.ports.pick(proto, server, dport, first, EPHEMERAL_LO, EPHEMERAL_HI, now);
}

/** Mostly HTTPS, some HTTP, a few other services. */
function servicePort(prng: Prng): number {
  const r = prng.below(100);
  if (r < 70) return 443;
  if (r < 90) return 80;
  return [22, 25, 993, 8080, 8443][prng.below(5)]!;
}

/**
 * A TCP connection: handshake, one to four request/response rounds (the client ACKs every
 * second segment and the last), then a FIN exchange started by either side or a RST. Some
 * connections are refused (RST to the SYN) and a few SYNs go unanswered (retransmitted).
 */
export const tcpFlow: FlowBuilder = (env, start) => {
  const { prng } = env;
  const client = env.pools.client();
  const server = env.pools.server();
  const dport = servicePort(prng);
  const sport = clientPort(env, IPPROTO.TCP, server, dport, start);
  const { rtt, lan } = path(prng);
  const ttl = serverTtl(server);
  let cid = prng.u16();
  let sid = prng.u16();
  const fromClient = (time: number, seq: number, ack: number, flags: number, len = 0, syn?: SynOptions): void =>
    env.emit({ time, ifindex: LAN_IFINDEX, bytes: buildTcp({ saddr: client, daddr: server, sport, dport, seq, ack, flags, window: syn ? 64240 : 502, ipId: cid++ & 0xffff, ttl: 64, syn, payloadLength: len }).data });
  const fromServer = (time: number, seq: number, ack: number, flags: number, len = 0, syn?: SynOptions): void =>
    env.emit({ time, ifindex: WAN_IFINDEX, bytes: buildTcp({ saddr: server, daddr: WAN_ADDR, sport: dport, dport: sport, seq, ack, flags, window: syn ? 65160 : 509, ipId: sid++ & 0xffff, ttl, syn, payloadLength: len }).data });

  const isn = prng.u32();
  let cseq = (isn + 1) >>> 0;
  let t = start;
  fromClient(t, isn, 0, SYN, 0, SYN_OPTIONS);
  const fate = prng.below(100);
  if (fate < 3) {
    // unanswered: the client's SYN retransmissions at 1 s and 3 s, then it gives up
    fromClient(t + SECOND, isn, 0, SYN, 0, SYN_OPTIONS);
    fromClient(t + 3 * SECOND, isn, 0, SYN, 0, SYN_OPTIONS);
    return env.ports.hold(IPPROTO.TCP, sport, server, dport, t + 3 * SECOND);
  }
  t += rtt;
  if (fate < 10) {
    fromServer(t, 0, cseq, RST | ACK); // connection refused
    return env.ports.hold(IPPROTO.TCP, sport, server, dport, t);
  }
  const sisn = prng.u32();
  let sseq = (sisn + 1) >>> 0;
  fromServer(t, sisn, cseq, SYN | ACK, 0, SYN_OPTIONS);
  t += lan;
  fromClient(t, cseq, sseq, ACK);

  const rounds = 1 + prng.below(4);
  for (let r = 0; r < rounds; r++) {
    t += prng.below(100 * MS); // the application's think time
    const request = 100 + prng.below(1200);
    fromClient(t, cseq, sseq, PSH | ACK, request);
    cseq = (cseq + request) >>> 0;
    t += rtt;
    const segments = 1 + prng.below(6);
    for (let i = 0; i < segments; i++) {
      const last = i === segments - 1;
      const len = last ? 1 + prng.below(MSS) : MSS;
      fromServer(t, sseq, cseq, last ? PSH | ACK : ACK, len);
      sseq = (sseq + len) >>> 0;
      if (last || i % 2 === 1) fromClient(t + lan, cseq, sseq, ACK);
      if (!last) t += 100 + prng.below(200); // back to back, a wire's serialisation apart
    }
    t += lan;
  }

  const close = prng.below(100);
  t += prng.below(100 * MS);
  if (close < 70) {
    fromClient(t, cseq, sseq, FIN | ACK);
    cseq = (cseq + 1) >>> 0;
    fromServer(t + rtt, sseq, cseq, FIN | ACK);
    sseq = (sseq + 1) >>> 0;
    t += rtt + lan;
    fromClient(t, cseq, sseq, ACK);
  } else if (close < 85) {
    fromServer(t, sseq, cseq, FIN | ACK);
    sseq = (sseq + 1) >>> 0;
    fromClient(t + lan, cseq, sseq, FIN | ACK);
    cseq = (cseq + 1) >>> 0;
    t += lan + rtt;
    fromServer(t, sseq, cseq, ACK);
  } else if (close < 93) {
    fromClient(t, cseq, sseq, RST | ACK); // the application aborts
  } else {
    fromServer(t, sseq, 0, RST); // the server resets
  }
  env.ports.hold(IPPROTO.TCP, sport, server, dport, t);
};

/** A DNS-like exchange: one query (A) or two back to back (A and AAAA) from one socket, each answered (rarely not). */
export const dnsFlow: FlowBuilder = (env, start) => {
  const { prng } = env;
  const client = env.pools.client();
  const resolver = RESOLVERS[prng.below(RESOLVERS.length)]!;
  const sport = clientPort(env, IPPROTO.UDP, resolver, 53, start);
  const rtt = 5 * MS + prng.below(35 * MS);
  const queries = prng.below(100) < 40 ? 2 : 1;
  let t = start;
  let id = prng.u16();
  for (let q = 0; q < queries; q++, t += 50 + prng.below(200)) {
    const query = new Uint8Array(30 + prng.below(30));
    env.emit({ time: t, ifindex: LAN_IFINDEX, bytes: buildUdp({ saddr: client, daddr: resolver, sport, dport: 53, ipId: id++ & 0xffff, ttl: 64, payload: query }).data });
    if (prng.below(100) < 3) continue; // lost answer
    const answer = new Uint8Array(query.length + 16 + prng.below(250));
    env.emit({ time: t + rtt, ifindex: WAN_IFINDEX, bytes: buildUdp({ saddr: resolver, daddr: WAN_ADDR, sport: 53, dport: sport, ipId: prng.u16(), ttl: serverTtl(resolver), payload: answer }).data });
  }
  env.ports.hold(IPPROTO.UDP, sport, resolver, 53, t + rtt);
};

/** ping: one to eight echo requests a second apart, each answered (a few replies lost). */
export const pingFlow: FlowBuilder = (env, start) => {
  const { prng } = env;
  const client = env.pools.client();
  const server = env.pools.server();
  // the echo id plays the source port; MASQUERADE keeps it when free
  const echoId = env.ports.pick(IPPROTO.ICMP, server, 0, prng.u16(), 0, 0xffff, start);
  const { rtt } = path(prng);
  const count = 1 + prng.below(8);
  let t = start;
  for (let seq = 1; seq <= count; seq++, t += SECOND) {
    env.emit({ time: t, ifindex: LAN_IFINDEX, bytes: buildIcmpEcho({ saddr: client, daddr: server, ipId: prng.u16(), ttl: 64, type: ICMP_ECHO, echoId, seq, payload: ECHO_PAYLOAD }).data });
    if (prng.below(100) < 5) continue;
    env.emit({ time: t + rtt, ifindex: WAN_IFINDEX, bytes: buildIcmpEcho({ saddr: server, daddr: WAN_ADDR, ipId: prng.u16(), ttl: serverTtl(server), type: ICMP_ECHOREPLY, echoId, seq, payload: ECHO_PAYLOAD }).data });
  }
  env.ports.hold(IPPROTO.ICMP, echoId, server, 0, t + rtt);
};

/**
 * UDP to a closed port (traceroute-style probes): each datagram is answered by the server's
 * ICMP port unreachable, quoting the datagram as the router sent it — source already the WAN
 * address and the TTL one less — which conntrack finds RELATED to the flow's entry.
 */
export const udpUnreachableFlow: FlowBuilder = (env, start) => {
  const { prng } = env;
  const client = env.pools.client();
  const server = env.pools.server();
  const dport = 33434 + prng.below(100);
  const sport = clientPort(env, IPPROTO.UDP, server, dport, start);
  const { rtt } = path(prng);
  const probes = 1 + prng.below(3);
  const payload = new Uint8Array(32);
  let t = start;
  for (let i = 0; i < probes; i++, t += SECOND) {
    const ipId = prng.u16();
    env.emit({ time: t, ifindex: LAN_IFINDEX, bytes: buildUdp({ saddr: client, daddr: server, sport, dport, ipId, ttl: 64, payload }).data });
    const asSent = buildUdp({ saddr: WAN_ADDR, daddr: server, sport, dport, ipId, ttl: 63, payload });
    env.emit({ time: t + rtt, ifindex: WAN_IFINDEX, bytes: buildIcmpError(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, server, asSent, prng.u16()).data });
  }
  env.ports.hold(IPPROTO.UDP, sport, server, dport, t + rtt);
};

const SCANNED_TCP = [22, 23, 80, 443, 445, 3389, 5900, 8080];
const SCANNED_UDP = [53, 123, 161, 1900, 5060];

/**
 * Inbound packets nobody asked for, addressed to the router itself: SYN scans (one
 * retransmission sometimes), UDP probes, pings, and stray ACKs or RSTs to random high ports.
 */
export const unsolicitedFlow: FlowBuilder = (env, start) => {
  const { prng } = env;
  const scanner = env.pools.scanner();
  const sport = 1024 + prng.below(64512);
  const ttl = serverTtl(scanner);
  const r = prng.below(100);
  const inbound = (time: number, bytes: Uint8Array): void => env.emit({ time, ifindex: WAN_IFINDEX, bytes });
  if (r < 40) {
    const dport = SCANNED_TCP[prng.below(SCANNED_TCP.length)]!;
    const seq = prng.u32();
    const syn = (): Uint8Array => buildTcp({ saddr: scanner, daddr: WAN_ADDR, sport, dport, seq, ack: 0, flags: SYN, window: 1024, ipId: prng.u16(), ttl, payloadLength: 0 }).data;
    inbound(start, syn());
    if (prng.below(2) === 0) inbound(start + SECOND, syn());
  } else if (r < 65) {
    const dport = SCANNED_UDP[prng.below(SCANNED_UDP.length)]!;
    inbound(start, buildUdp({ saddr: scanner, daddr: WAN_ADDR, sport, dport, ipId: prng.u16(), ttl, payload: new Uint8Array(prng.below(64)) }).data);
  } else if (r < 85) {
    inbound(start, buildIcmpEcho({ saddr: scanner, daddr: WAN_ADDR, ipId: prng.u16(), ttl, type: ICMP_ECHO, echoId: prng.u16(), seq: 1, payload: ECHO_PAYLOAD }).data);
  } else {
    const flags = prng.below(2) === 0 ? ACK : RST | ACK;
    inbound(start, buildTcp({ saddr: scanner, daddr: WAN_ADDR, sport, dport: EPHEMERAL_LO + prng.below(28000), seq: prng.u32(), ack: prng.u32(), flags, window: 0, ipId: prng.u16(), ttl, payloadLength: 0 }).data);
  }
};

/** The flow mix, in percent of flows started. About 12.5 packets a flow on average. */
export const FLOW_MIX: readonly (readonly [FlowKind, number, FlowBuilder])[] = [
  ['tcp', 55, tcpFlow],
  ['dns', 25, dnsFlow],
  ['ping', 8, pingFlow],
  ['udp-unreachable', 5, udpUnreachableFlow],
  ['unsolicited', 7, unsolicitedFlow],
];
