/**
 * The node's own packets in a capture replay. A `tcpdump -i any` capture on a node shows what
 * its own applications and its TCP sent (a local proxy's SYN-ACK after a REDIRECT, the node's
 * own connections out) as Out records no received packet accounts for. Their sequence numbers,
 * timing and data are the node's TCP stack and applications, which the capture shows and natsim
 * cannot know (the ISN is random, the data is the application's): natsim takes those packets
 * from the capture and simulates only the kernel, feeding each at LOCAL_OUT as the socket sent
 * it — before nat OUTPUT and POSTROUTING changed it — so that conntrack and NAT of local traffic
 * run as they did (ip_local_out → NF_INET_LOCAL_OUT → routing → NF_INET_POST_ROUTING).
 *
 * What the socket sent is the wire packet with the NAT undone:
 * - a packet of a connection conntrack knows carries, before NAT, the tuple of its direction
 *   (the wire shows the inverse of the other direction's tuple: nf_nat_packet's manip undone);
 * - the first packet of the node's own connection is addressed as its socket is connected
 *   (sockets.txt: `ss -tuanpH`), which shows where nat OUTPUT's DNAT came from;
 * - else, when exactly one nat OUTPUT DNAT rule can have made the wire's destination, addressed
 *   as that rule matched (output-dnat-origin.ts), and said in the trace;
 * - otherwise as the wire shows it, which is right when nat OUTPUT left it alone.
 */
import { IPPROTO } from '../netfilter/constants.js';
import { Status } from '../netfilter/conntrack/conn.js';
import { icmpIsQuery, invertTuple, otherDir, tupleFromPacket, type Tuple } from '../netfilter/conntrack/tuple.js';
import { NO_NODE, nodeDir } from '../netfilter/conntrack/tuplehash.js';
import { manipToTarget } from '../netfilter/nat/manip.js';
import { ManipType } from '../netfilter/nat/unique-tuple.js';
import { formatIpv4 } from '../packet/ipv4-addr.js';
import { formatInetAddrPort } from '../packet/inet-addr.js';
import type { Host } from '../host/host.js';
import type { Skb } from '../netfilter/skb.js';
import type { Ipv4Packet } from '../packet/ipv4.js';
import type { L3Packet } from '../packet/l3-packet.js';
import type { NodeSocket } from '../node/sockets.js';
import { outputDnatOrigins, type DnatOrigin } from './output-dnat-origin.js';

/** How long after natsim made a packet itself the kernel's copy of it may appear in the capture. */
const SAME_PACKET_NS = 1e9;

/** What to do with an Out record no received packet accounts for. */
export type OwnPacket =
  | { readonly kind: 'feed'; readonly pkt: L3Packet; readonly note: string | null }
  /** natsim itself sent this packet already (an ICMP error, a REJECT's answer, an echo reply). */
  | { readonly kind: 'made' }
  /** Not modelled: the reason is counted among the records not fed. */
  | { readonly kind: 'skip'; readonly reason: string };

export class OwnOutput {
  /** Packets natsim's own stack made (no input device), by wire key, with when. */
  private readonly made = new Map<string, number[]>();
  /**
   * The same packets in the order made, so that those the capture never showed are forgotten
   * a second later: memory holds the last second's packets, however long the capture.
   */
  private readonly madeOrder: { readonly key: string; readonly time: number }[] = [];
  private madeHead = 0;
  /** The captured packet being fed now: natsim's sending it on is not natsim making one. */
  private feeding: L3Packet | null = null;

  constructor(
    private readonly host: Host,
    private readonly sockets: readonly NodeSocket[],
  ) {}

  /** Whether `skb` is the captured packet being fed (natsim sending it on, not making it). */
  isFed(skb: Skb): boolean {
    return skb.pkt === this.feeding;
  }

  /** Every packet natsim transmits; only the ones its own stack made are remembered. */
  sent(skb: Skb): void {
    if (skb.indev !== null || this.isFed(skb)) return;
    this.forgetBefore(skb.time - SAME_PACKET_NS);
    const key = wireKey(skb.pkt);
    const times = this.made.get(key);
    if (times) times.push(skb.time);
    else this.made.set(key, [skb.time]);
    this.madeOrder.push({ key, time: skb.time });
  }

  /** How many packets natsim made are still waiting for their copy in the capture. */
  get waiting(): number {
    let n = 0;
    for (const times of this.made.values()) n += times.length;
    return n;
  }

  /** Forgets the made packets older than `oldest` that no Out record claimed. */
  private forgetBefore(oldest: number): void {
    const order = this.madeOrder;
    while (this.madeHead < order.length && order[this.madeHead]!.time < oldest) {
      const { key, time } = order[this.madeHead++]!;
      const times = this.made.get(key);
      // a key's times are in order: if its first is later, this packet was claimed already
      if (times?.[0] === time) {
        times.shift();
        if (times.length === 0) this.made.delete(key);
      }
    }
    if (this.madeHead > 4096 && this.madeHead * 2 > order.length) {
      order.splice(0, this.madeHead);
      this.madeHead = 0;
    }
  }

  /** Runs `send` with `pkt` as the captured packet being fed. */
  feed(pkt: L3Packet, send: () => void): void {
    this.feeding = pkt;
    try {
      send();
    } finally {
      this.feeding = null;
    }
  }

  /** The Out record `pkt` (its own copy) at `time`, which no received packet claimed. */
  classify(pkt: L3Packet, time: number): OwnPacket {
    if (this.claimMade(pkt, time)) return { kind: 'made' };
    // an IPv6 packet of the node's stack (a reset of its TCP) of a connection conntrack knows is
    // fed with that connection's NAT undone; no socket list or nat OUTPUT rule is read for IPv6,
    // nor an ICMPv6 error's quoted header un-NATed
    if (pkt.family === 6) {
      const wire = tupleFromPacket(pkt);
      const known = this.beforeNatOfKnown(wire);
      if (known === null || known.equals(wire)) return { kind: 'feed', pkt, note: null };
      if (pkt.proto === IPPROTO.ICMPV6 && !icmpIsQuery(pkt.icmpType, pkt.proto)) return { kind: 'skip', reason: "the node's own ICMPv6 error about a NATed connection (undoing its NAT is not modelled)" };
      return this.rewritten(pkt, known, 'a packet of a known connection, NAT undone');
    }
    if (pkt.proto === IPPROTO.ICMP && !icmpIsQuery(pkt.icmpType)) return this.icmpError(pkt);
    if (pkt.proto !== IPPROTO.ICMP && !pkt.hasPorts()) return { kind: 'feed', pkt, note: null };
    const wire = tupleFromPacket(pkt);
    const known = this.beforeNatOfKnown(wire);
    if (known) return this.rewritten(pkt, known, 'a packet of a known connection, NAT undone');
    const socket = this.connectedSocket(pkt);
    if (socket) {
      const before = wire.clone();
      before.src = socket.local.addr === 0 ? wire.src : socket.local.addr;
      before.dst = socket.peer!.addr;
      before.dstU = socket.peer!.port;
      return this.rewritten(pkt, before, `addressed as its socket is connected (sockets.txt: ${formatIpv4(before.src)}:${before.srcU} -> ${formatIpv4(before.dst)}:${before.dstU})`);
    }
    return this.outputDnatUndone(pkt, wire);
  }

  /** A new connection no socket explains: undone by the one nat OUTPUT DNAT rule that explains it. */
  private outputDnatUndone(pkt: Ipv4Packet, wire: Tuple): OwnPacket {
    const origins = outputDnatOrigins(this.host.ruleset, pkt);
    if (origins.length === 0) return { kind: 'feed', pkt, note: null };
    if (origins.length > 1) return { kind: 'feed', pkt, note: `sent as the wire shows it: ${origins.length} nat OUTPUT rules could have DNATed it (${origins.map((o) => o.rule).join('; ')})` };
    const [o] = origins as [DnatOrigin];
    const before = wire.clone();
    before.dst = o.daddr;
    before.dstU = o.dport;
    // an unbound socket took its source from the route to where it sent (ip_route_connect);
    // a different one on the wire came from SNAT after the DNAT rerouted it
    const source = this.host.sourceFor(o.daddr);
    if (source !== 0) before.src = source;
    return this.rewritten(pkt, before, `taken as DNATed by ${o.rule}, from an unbound socket (no socket in sockets.txt says where it was sent; sent there directly it would look the same)`);
  }

  /** Did natsim send this very packet (same addresses, protocol and ports) within a second? */
  private claimMade(pkt: L3Packet, time: number): boolean {
    const key = wireKey(pkt);
    const times = this.made.get(key);
    if (!times) return false;
    while (times.length > 0 && time - times[0]! > SAME_PACKET_NS) times.shift();
    const made = times.length > 0 && times[0]! <= time;
    if (made) times.shift();
    // a key with nothing left goes, so the map holds only the last second's packets
    if (times.length === 0) this.made.delete(key);
    return made;
  }

  /**
   * The wire shows the inverse of the other direction's tuple once NAT has run; invert it and
   * the table finds the entry by the tuple of that other direction (see nf_nat_packet).
   */
  private beforeNatOfKnown(wire: Tuple): Tuple | null {
    const inverse = invertTuple(wire);
    const h = inverse ? this.host.nf.table.find(inverse) : NO_NODE;
    if (!h) return null;
    return this.host.nf.table.conn(h).tuple(otherDir(nodeDir(h)));
  }

  /** A TCP or UDP socket of the node connected from this source port to somewhere else. */
  private connectedSocket(pkt: Ipv4Packet): NodeSocket | null {
    if (pkt.proto !== IPPROTO.TCP && pkt.proto !== IPPROTO.UDP) return null;
    const mine = this.sockets.filter((s) => s.proto === pkt.proto && s.local.port === pkt.sport && s.peer !== null);
    const socket = mine.find((s) => s.local.addr === pkt.saddr) ?? mine[0];
    if (!socket || (socket.peer!.addr === pkt.daddr && socket.peer!.port === pkt.dport)) return null;
    return socket;
  }

  private rewritten(pkt: L3Packet, before: Tuple, why: string): OwnPacket {
    if (before.src === pkt.saddr && before.dst === pkt.daddr && before.srcU === pkt.sport && (pkt.proto === IPPROTO.ICMP || before.dstU === pkt.dport)) return { kind: 'feed', pkt, note: null };
    const wire = `${formatInetAddrPort(pkt.saddr, pkt.sport)} -> ${formatInetAddrPort(pkt.daddr, pkt.dport)}`;
    manipToTarget(pkt, before, ManipType.Src);
    manipToTarget(pkt, before, ManipType.Dst);
    return { kind: 'feed', pkt, note: `on the wire ${wire}; ${why}` };
  }

  /**
   * An ICMP error the node sent about a packet it received: unless that connection was NATed,
   * the wire shows it as the stack made it. Undoing nf_nat_icmp_reply_translation on both the
   * outer and the quoted header is not modelled: such an error is counted, not fed. One about a
   * packet neither to nor from the node is the forwarding path's (time exceeded, ip_error's,
   * a neighbour's failure), natsim's to make: one natsim did not make is the kernel's alone
   * (verify's missing), not fed as if a socket had sent it. (An ICMPv6 error is fed whatever it
   * quotes: its NAT is not undone either, above.)
   */
  private icmpError(pkt: Ipv4Packet): OwnPacket {
    const quoted = pkt.quotedPacket();
    if (typeof quoted === 'string') return { kind: 'feed', pkt, note: null };
    const ct = this.host.nf.table.lookup(tupleFromPacket(quoted));
    if (ct && (ct.has(Status.SrcNat) || ct.has(Status.DstNat))) return { kind: 'skip', reason: "the node's own ICMP error about a NATed connection (not modelled)" };
    const local = (addr: number): boolean => this.host.fib.addrType(addr) === 'local';
    if (!local(quoted.daddr) && !local(quoted.saddr)) return { kind: 'skip', reason: "an ICMP error natsim did not send about a packet neither to nor from the node (forwarded: natsim's to answer)" };
    return { kind: 'feed', pkt, note: null };
  }
}

function wireKey(pkt: L3Packet): string {
  const l4 = pkt.proto === IPPROTO.ICMP || pkt.proto === IPPROTO.ICMPV6 ? `${pkt.icmpType}/${pkt.icmpCode}/${pkt.sport}` : `${pkt.sport}/${pkt.dport}`;
  return `${pkt.proto} ${pkt.saddr} ${pkt.daddr} ${l4}`;
}
