/**
 * The packet as netfilter sees it (a slice of struct sk_buff): the datagram, the conntrack entry
 * and ctinfo attached to it (skb->_nfct), the devices and the route, and why it was dropped.
 */
import type { L3Packet } from '../packet/l3-packet.js';
import type { Ipv4Packet } from '../packet/ipv4.js';
import type { Ipv6Packet } from '../packet/ipv6.js';
import type { EthHeader, NetDevice } from '../host/device.js';
import type { Route } from '../host/fib.js';
import type { Route6 } from '../ipv6/route.js';
import { CtInfo, type Conn } from './conntrack/conn.js';
import type { NfBridgeInfo } from '../bridge/br-netfilter.js';
import type { Chain, RejectWith, Rule, Table } from './rules/model.js';

/** The chain whose verdict dropped a packet: the rule that decided, or null for the chain's policy. */
export interface ChainDecision {
  readonly table: Table;
  readonly chain: string;
  readonly rule: Rule | null;
}

/** Why natsim dropped a packet: a named reason, the kernel counter it bumped if any, and for REJECT the answer to send. */
export interface DropReason {
  readonly reason: string;
  readonly counter?: string;
  readonly reject?: RejectWith;
  /** A rule's or a policy's verdict (absent: the kernel's own code dropped it). */
  readonly decision?: ChainDecision;
}

/**
 * A chain's DROP (or REJECT) as the drop reason: what the rule already said (REJECT's answer, a
 * hotdrop's reason) with the chain and rule that decided; `fallback` when nothing said why.
 */
export function chainDrop(said: DropReason | null, table: Table, chain: Chain, rule: Rule | null, fallback: string): DropReason {
  return { ...(said ?? { reason: fallback }), decision: { table, chain: chain.name, rule } };
}

/**
 * The skb of either family (P: what its data holds). The family-independent code takes Skb; the
 * IPv4 and IPv6 halves of the packet path (ipv4/, ipv6/) take Skb<Ipv4Packet> or Skb<Ipv6Packet>,
 * reached through isIpv4Skb / isIpv6Skb, as the kernel's ip_rcv and ipv6_rcv are reached by the
 * frame's ethertype.
 */
export class Skb<P extends L3Packet = L3Packet> {
  ct!: Conn | null;
  ctinfo!: CtInfo;
  /** NOTRACK in the raw table: conntrack leaves the packet alone (the untracked template). */
  untracked!: boolean;
  /** skb->mark */
  mark!: number;
  /** skb->nf_trace: set by `meta nftrace set 1` or iptables' TRACE; the packet's rules are traced. */
  nftrace!: boolean;
  /**
   * skb_mac_header: the link header the packet arrived with, for LOG's MAC= field. Null for a
   * packet the host made; the inputs fill it only while a trace is printed (its only reader).
   */
  mac!: EthHeader | null;
  /**
   * skb->sk is an application's socket, a full socket with a file (not a request or control
   * socket of the kernel's): LOG's --log-uid prints its owner. natsim's applications run as root.
   */
  appSocket!: boolean;
  /** skb->pkt_type is PACKET_OTHERHOST: the capture shows the frame was for another host's MAC. */
  otherHost!: boolean;
  /** skb->ipvs_property: IPVS has handled this packet; its hooks let it pass from now on. */
  ipvsProperty!: boolean;
  /** The next hop is fixed, not the route's (IPVS direct routing: FLOWI_FLAG_KNOWN_NH). */
  knownNexthop!: number | null;
  /**
   * What happens to a packet a hook op STOLE, once the op has returned: IPVS sends it on
   * through NF_HOOK(LOCAL_OUT) itself (ip_vs_nat_send_or_cont). Null: the op kept or freed it.
   */
  stolenTo!: (() => void) | null;
  /**
   * IPCB(skb)->frag_max_size: conntrack reassembled this datagram, whose largest fragment had
   * this size (0: it arrived whole). ip_fragment cuts it again no larger.
   */
  fragMaxSize!: number;
  /** The data sizes of the fragments it was reassembled from (the frag_list ip_do_fragment's fast path keeps). */
  fragPieces!: readonly number[] | null;
  /** skb->ignore_df: reassembled from fragments without DF, so it may be fragmented again. */
  ignoreDf!: boolean;
  outdev!: NetDevice | null;
  route!: Route | null;
  /** The IPv6 route (skb_dst of an IPv6 skb; `route` is the IPv4 one). */
  route6!: Route6 | null;
  drop!: DropReason | null;
  /** skb->nf_bridge: br_netfilter passed this bridged frame to the IPv4 hooks (br-netfilter.ts). */
  nfBridge!: NfBridgeInfo | null;
  /** The hook op that returned the last verdict other than ACCEPT: the kernel function that decided. */
  verdictOp!: string | null;
  /**
   * Something keeps this skb past the call that handed it over (skb_get: a capture replay's
   * packets waiting for a neighbour that never answers): Host.receive must not remake it.
   */
  held!: boolean;

  /** Stable identity for traces (printed like an skb address). */
  id!: number;
  pkt!: P;
  /** Virtual time in nanoseconds since the start of the run. */
  time!: number;
  /** The CPU that processes it (receive-side scaling). */
  cpu!: number;
  indev!: NetDevice | null;

  constructor(id: number, pkt: P, time: number, cpu: number, indev: NetDevice | null) {
    this.init(id, pkt, time, cpu, indev);
  }

  /**
   * Makes this skb a new one, every field as a fresh skb has it (__alloc_skb): Host.receive
   * remakes the skb of its last record this way when nothing holds it.
   */
  init(id: number, pkt: P, time: number, cpu: number, indev: NetDevice | null): void {
    this.id = id;
    this.pkt = pkt;
    this.time = time;
    this.cpu = cpu;
    this.indev = indev;
    this.ct = null;
    this.ctinfo = CtInfo.Untracked;
    this.untracked = false;
    this.mark = 0;
    this.nftrace = false;
    this.mac = null;
    this.appSocket = false;
    this.otherHost = false;
    this.ipvsProperty = false;
    this.knownNexthop = null;
    this.stolenTo = null;
    this.fragMaxSize = 0;
    this.fragPieces = null;
    this.ignoreDf = false;
    this.outdev = null;
    this.route = null;
    this.route6 = null;
    this.drop = null;
    this.nfBridge = null;
    this.verdictOp = null;
    this.held = false;
  }

  /** skb_clone, for a frame the bridge floods: a copy of the datagram with the same entry, mark and link header. */
  clone(id: number): Skb<P> {
    const c = new Skb<P>(id, this.pkt.copy() as P, this.time, this.cpu, this.indev);
    c.ct = this.ct;
    if (c.ct) c.ct.refs++; // nf_conntrack_get: the clone holds the entry too
    c.ctinfo = this.ctinfo;
    c.untracked = this.untracked;
    c.mark = this.mark;
    c.nftrace = this.nftrace;
    c.mac = this.mac;
    c.nfBridge = this.nfBridge && { ...this.nfBridge };
    return c;
  }
}

export type Ipv4Skb = Skb<Ipv4Packet>;
export type Ipv6Skb = Skb<Ipv6Packet>;

/** skb->protocol == ETH_P_IP. */
export function isIpv4Skb(skb: Skb): skb is Ipv4Skb {
  return skb.pkt.family === 4;
}

/** skb->protocol == ETH_P_IPV6. */
export function isIpv6Skb(skb: Skb): skb is Ipv6Skb {
  return skb.pkt.family === 6;
}

/**
 * An skb the caller has told apart from IPv6 already (isIpv6Skb false), as the IPv4 half of the
 * path takes it; the check can only fail on a bug.
 */
export function ipv4Path(skb: Skb): Ipv4Skb {
  if (!isIpv4Skb(skb)) throw new Error('bug: an IPv6 skb on the IPv4 path');
  return skb;
}
