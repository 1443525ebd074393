/**
 * nf_tables' trace events for a packet with skb->nf_trace (nft_trace_notify,
 * net/netfilter/nf_tables_trace.c), kept as data: what the netlink message carries — table,
 * chain, rule, verdict, mark, and with the first event of each base chain run the devices and
 * the packet's headers. `nft monitor trace` and `xtables-monitor --trace` print them
 * (src/trace/nft-monitor.ts, src/trace/xtables-monitor.ts). Made only while a trace is printed.
 */
import type { LinkHeaderView } from '../log/nf-log.js';
import type { ChainTrace } from './chain-trace.js';
import type { RuleContext } from './context.js';
import type { Chain, NfProto, Policy, Rule, Table, TableFamily, TableSource, VerdictAction } from './model.js';
import { packetNfproto } from './nft-expr.js';
import { nftL4 } from './nft-pktinfo.js';

/** NFT_TRACETYPE_NETWORK_HSIZE and NFT_TRACETYPE_TRANSPORT_HSIZE: the most of each header a message carries. */
const NETWORK_HSIZE = 40;
const TRANSPORT_HSIZE = 20;

/** The devices and headers nf_trace_fill_dev_info / nf_trace_fill_pkt_info add, once per base chain run. */
export interface NftTracePacket {
  readonly iif: string | null;
  readonly oif: string | null;
  /** The link header, when the packet has one (skb_mac_header_was_set); its type is the input device's. */
  readonly link: LinkHeaderView | null;
  /** NFTA_TRACE_NFPROTO: the packet's family (pkt->pf), which an inet table's events need. */
  readonly nfproto: NfProto;
  /** NFTA_TRACE_NETWORK_HEADER (copies): see tracedHeaders; null where the kernel sends none. */
  readonly network: Uint8Array | null;
  /** NFTA_TRACE_TRANSPORT_HEADER */
  readonly transport: Uint8Array | null;
}

export interface NftTraceEvent {
  /** NFTA_TRACE_ID: the kernel's is a keyed hash of the skb's address; natsim's is its own per packet. */
  readonly id: number;
  /** Who loaded the table, and so which tool a user reads the trace with. */
  readonly source: Exclude<TableSource, 'iptables-legacy'>;
  readonly family: TableFamily;
  readonly table: string;
  readonly chain: string;
  /** NFT_TRACETYPE_RULE (a rule with its verdict) or NFT_TRACETYPE_POLICY. */
  readonly type: 'rule' | 'policy';
  readonly rule: Rule | null;
  readonly verdict: VerdictAction;
  /** skb->mark when the event was sent. */
  readonly mark: number;
  readonly packet: NftTracePacket | null;
}

export class NftTrace implements ChainTrace {
  /** nft_traceinfo.packet_dumped: the packet goes with the first event of this base chain run. */
  private packetDumped = false;

  constructor(
    private readonly table: Table,
    private readonly source: NftTraceEvent['source'],
    private readonly ctx: RuleContext,
  ) {}

  matched(): void {}

  decided(chain: Chain, rule: Rule, verdict: VerdictAction): void {
    this.notify(chain, 'rule', rule, verdict);
  }

  /** A regular chain's implicit return is a rule event without a rule, which neither tool prints. */
  fellOff(): void {}

  policy(chain: Chain, policy: Policy): void {
    this.notify(chain, 'policy', null, { kind: policy });
  }

  private notify(chain: Chain, type: NftTraceEvent['type'], rule: Rule | null, verdict: VerdictAction): void {
    const { skb, state } = this.ctx;
    if (!skb.nftrace) return;
    state.trace!.nftTrace.push({
      id: (skb.id * 0x9e3779b1) >>> 0,
      source: this.source,
      family: this.table.family,
      table: this.table.name,
      chain: chain.name,
      type,
      rule,
      verdict,
      mark: skb.mark,
      packet: this.packetDumped ? null : this.packet(),
    });
    this.packetDumped = true;
  }

  private packet(): NftTracePacket {
    const { skb, state } = this.ctx;
    // a received packet keeps its link header up to POST_ROUTING; the input device gives its type
    const link = state.in && skb.mac ? { type: state.in.type, header: skb.mac } : null;
    const nfproto = packetNfproto(this.ctx);
    return { iif: state.in?.name ?? null, oif: state.out?.name ?? null, link, nfproto, ...tracedHeaders(skb.pkt.data, nfproto) };
  }
}

/**
 * nf_trace_fill_pkt_info: the network header up to the transport header (the whole packet
 * without one), and up to 20 bytes from the transport header when nf_tables found one; the
 * network part is cut at 40 bytes, so an IPv6 packet's extension headers and IPv4 options past
 * 20 bytes are not sent. An empty part is left out (trace_fill_header).
 */
export function tracedHeaders(data: Uint8Array, nfproto: NfProto): Pick<NftTracePacket, 'network' | 'transport'> {
  const l4 = nftL4(data, nfproto);
  const part = (from: number, to: number): Uint8Array | null => (to > from ? data.slice(from, to) : null);
  const nhEnd = l4 ? l4.thoff : data.length;
  return {
    network: part(0, Math.min(nhEnd, NETWORK_HSIZE)),
    transport: l4 ? part(l4.thoff, Math.min(data.length, l4.thoff + TRANSPORT_HSIZE)) : null,
  };
}
