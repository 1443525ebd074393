/**
 * What LOG, nft `log` and ip_tables' TRACE hand to the IPv4 logger (struct nf_loginfo and the
 * arguments of nf_log_packet / nf_log_trace, net/netfilter/nf_log.c), kept as data: the
 * nf_log_syslog text is made from it only by a formatter (nf-log-syslog.ts). An entry is made
 * only while a trace is being printed, and holds a copy of the packet as it was at that moment.
 */
import type { EthHeader, LinkType, NetDevice } from '../../host/device.js';
import { Hook } from '../constants.js';
import type { HookState } from '../hooks.js';
import type { Skb } from '../skb.js';

/** NF_LOG_* logflags (include/uapi/linux/netfilter/nf_log.h). */
export const NfLogFlag = {
  TcpSeq: 0x01,
  TcpOpt: 0x02,
  IpOpt: 0x04,
  Uid: 0x08,
  MacDecode: 0x20,
} as const;

/** NF_LOG_DEFAULT_MASK: the flags of ip_tables' trace_loginfo. */
export const NF_LOG_DEFAULT_MASK = 0x0f;

/** printk levels, KERN_EMERG 0 … KERN_DEBUG 7. */
export type LogLevel = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** LOGLEVEL_WARNING: the level of LOG without --log-level, nft log without `level`, and TRACE. */
export const LOG_LEVEL_WARNING: LogLevel = 4;

/** struct nf_loginfo for NF_LOG_TYPE_LOG. */
export interface NfLogInfo {
  readonly level: LogLevel;
  /** NfLogFlag bits. */
  readonly flags: number;
}

/** ip_tables' trace comments (enum nf_ip_trace_comments). */
export type IptTraceComment = 'rule' | 'return' | 'policy';

/** What the prefix says: LOG's --log-prefix, or trace_packet's "TRACE: table:chain:comment:rulenum ". */
export type NfLogOrigin =
  | { readonly kind: 'log'; readonly prefix: string }
  | { readonly kind: 'trace'; readonly table: string; readonly chain: string; readonly comment: IptTraceComment; readonly rulenum: number };

/** What dump_mac_header reads: skb->dev's type and the link header the packet arrived with. */
export interface LinkHeaderView {
  readonly type: LinkType;
  /** skb_mac_header; null when the packet has none (mac_header == network_header). */
  readonly header: EthHeader | null;
}

export interface NfLogEntry {
  readonly origin: NfLogOrigin;
  readonly info: NfLogInfo;
  /** state->in / state->out names (IN= / OUT=). */
  readonly in: string | null;
  readonly out: string | null;
  /** A bridged frame's ports (skb->nf_bridge), printed as PHYSIN=/PHYSOUT= where they are not IN/OUT. */
  readonly physin: string | null;
  readonly physout: string | null;
  /** Printed only when there is an input device (nf_log_ip_packet: `if (in) dump_mac_header`). */
  readonly link: LinkHeaderView | null;
  /** The IPv4 or IPv6 datagram as the rule saw it (a copy). */
  readonly packet: Uint8Array;
  /** skb->mark (MARK=0x… when not zero). */
  readonly mark: number;
  /** The owner of skb->sk when it is an application's socket (nf_log_dump_sk_uid_gid's fsuid and fsgid). */
  readonly owner: SocketOwner | null;
}

export interface SocketOwner {
  readonly uid: number;
  readonly gid: number;
}

/** natsim's applications run as root. */
const ROOT: SocketOwner = { uid: 0, gid: 0 };

/**
 * nf_log_packet / nf_log_trace for an IPv4 packet at a hook: the entry the formatter will print,
 * or nothing when no trace is being printed.
 */
export function nfLogPacket(skb: Skb, state: HookState, origin: NfLogOrigin, info: NfLogInfo): void {
  const trace = state.trace;
  if (!trace) return;
  trace.logs.push({
    origin,
    info,
    in: state.in?.name ?? null,
    out: state.out?.name ?? null,
    physin: skb.nfBridge?.physindev.name ?? null,
    physout: skb.nfBridge?.physoutdev?.name ?? null,
    link: state.in ? linkHeader(skb, state.hook === Hook.PostRouting ? state.out! : state.in) : null,
    packet: Uint8Array.from(skb.pkt.data),
    mark: skb.mark,
    owner: skb.appSocket ? ROOT : null,
  });
}

/** skb->dev: the input device until ip_output makes it the output device, before POST_ROUTING. */
function linkHeader(skb: Skb, dev: NetDevice): LinkHeaderView {
  return { type: dev.type, header: skb.mac };
}
