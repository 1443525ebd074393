/**
 * The packet as netfilter sees it (a slice of struct sk_buff): the datagram, the conntrack entry
 * and ctinfo attached to it (skb->_nfct), the devices and the route, and why it was dropped.
 */
import type { L3Packet } from '../packet/l3-packet.js';
import { Ipv4Packet } from '../packet/ipv4.js';
import { Ipv6Packet } from '../packet/ipv6.js';
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
  ct: Conn | null = null;
  ctinfo: CtInfo = CtInfo.Untracked;
  /** NOTRACK in the raw table: conntrack leaves the packet alone (the untracked template). */
  untracked = false;
  /** skb->mark */
  mark = 0;
  /** skb->nf_trace: set by `meta nftrace set 1` or iptables' TRACE; the packet's rules are traced. */
  nftrace = false;
  /**
   * skb_mac_header: the link header the packet arrived with, for LOG's MAC= field. Null for a
   * packet the host made; the inputs fill it only while a trace is printed (its only reader).
   */
  mac: EthHeader | null = null;
  /**
   * skb->sk is an application's socket, a full socket with a file (not a request or control
   * socket of the kernel's): LOG's --log-uid prints its owner. natsim's applications run as root.
   */
  appSocket = false;
  /** skb->pkt_type is PACKET_OTHERHOST: the capture shows the frame was for another host's MAC. */
  otherHost = false;
  /** skb->ipvs_property: IPVS has handled this packet; its hooks let it pass from now on. */
  ipvsProperty = false;
  /** The next hop is fixed, not the route's (IPVS direct routing: FLOWI_FLAG_KNOWN_NH). */
  knownNexthop: number | null = null;
  /**
   * What happens to a packet a hook op STOLE, once the op has returned: IPVS sends it on
   * through NF_HOOK(LOCAL_OUT) itself (ip_vs_nat_send_or_cont). Null: the op kept or freed it.
   */
  stolenTo: (() => void) | null = null;
  /**
   * IPCB(skb)->frag_max_size: conntrack reassembled this datagram, whose largest fragment had
   * this size (0: it arrived whole). ip_fragment cuts it again no larger.
   */
  fragMaxSize = 0;
  /** The data sizes of the fragments it was reassembled from (the frag_list ip_do_fragment's fast path keeps). */
  fragPieces: readonly number[] | null = null;
  /** skb->ignore_df: reassembled from fragments without DF, so it may be fragmented again. */
  ignoreDf = false;
  indev: NetDevice | null;
  outdev: NetDevice | null = null;
  route: Route | null = null;
  /** The IPv6 route (skb_dst of an IPv6 skb; `route` is the IPv4 one). */
  route6: Route6 | null = null;
  drop: DropReason | null = null;
  /** skb->nf_bridge: br_netfilter passed this bridged frame to the IPv4 hooks (br-netfilter.ts). */
  nfBridge: NfBridgeInfo | null = null;
  /** The hook op that returned the last verdict other than ACCEPT: the kernel function that decided. */
  verdictOp: string | null = null;

  constructor(
    /** Stable identity for traces (printed like an skb address). */
    readonly id: number,
    public pkt: P,
    /** Virtual time in nanoseconds since the start of the run. */
    readonly time: number,
    /** The CPU that processes it (receive-side scaling). */
    readonly cpu: number,
    indev: NetDevice | null,
  ) {
    this.indev = indev;
  }

  /** skb_clone, for a frame the bridge floods: a copy of the datagram with the same entry, mark and link header. */
  clone(id: number): Skb<P> {
    const c = new Skb<P>(id, this.pkt.copy() as P, this.time, this.cpu, this.indev);
    c.ct = this.ct;
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
  return skb.pkt instanceof Ipv4Packet;
}

/** skb->protocol == ETH_P_IPV6. */
export function isIpv6Skb(skb: Skb): skb is Ipv6Skb {
  return skb.pkt instanceof Ipv6Packet;
}

/**
 * An skb the caller has told apart from IPv6 already (isIpv6Skb false), as the IPv4 half of the
 * path takes it; the check can only fail on a bug.
 */
export function ipv4Path(skb: Skb): Ipv4Skb {
  if (!isIpv4Skb(skb)) throw new Error('bug: an IPv6 skb on the IPv4 path');
  return skb;
}
