/**
 * nf_tables trace events of iptables-nft tables as `xtables-monitor --trace` prints them
 * (iptables 1.8.9's xtables-monitor.c, trace_cb): "PACKET: 2 ID IN=… OUT=… MACSRC=… SRC=… …"
 * with the first event of a base chain run, then " TRACE: 2 ID TABLE:CHAIN:rule:0xHANDLE:VERDICT
 *  -4 -t TABLE RULE" or " TRACE: 2 ID TABLE:CHAIN:policy:VERDICT ". Checked against the kernel
 * recording log-trace-nft; a rule's handle is the one iptables-nft-restore of the same text gives.
 */
import type { NftTraceEvent, NftTracePacket } from '../netfilter/rules/nft-trace.js';
import type { LinkHeaderView } from '../netfilter/log/nf-log.js';
import type { VerdictAction } from '../netfilter/rules/model.js';
import { IPPROTO } from '../netfilter/constants.js';
import { formatIpv4 } from '../packet/ipv4-addr.js';
import { hexUpper } from '../netfilter/log/nf-log-syslog.js';
import { readU16 as u16, readU32 as u32 } from '../packet/ipv4.js';
import { traceId } from './format-common.js';

/** NFPROTO_IPV4, the family of every table iptables-nft makes. */
const NFPROTO_IPV4 = 2;

export function xtablesMonitorLines(e: NftTraceEvent): string[] {
  const id = traceId(e.id);
  const lines = e.packet ? [`PACKET: ${NFPROTO_IPV4} ${id} ${packetText(e.packet, e.mark)}`] : [];
  const head = ` TRACE: ${NFPROTO_IPV4} ${id} ${e.table}:${e.chain}`;
  if (e.type === 'policy') lines.push(`${head}:policy:${verdictText(e.verdict)} `);
  else lines.push(`${head}:rule:0x${(e.rule!.handle ?? 0).toString(16)}:${verdictText(e.verdict)}  -4 -t ${e.table} ${e.rule!.text.replace(/^\[\d+:\d+\]\s+/, '')}`);
  return lines;
}

/** print_verdict: NFT_RETURN has no name there and comes out as its number. */
function verdictText(v: VerdictAction): string {
  switch (v.kind) {
    case 'jump':
    case 'goto':
      return `${v.kind.toUpperCase()}:${v.chain}`;
    case 'return':
      return '0xfffffffb';
    default:
      return v.kind.toUpperCase();
  }
}

/** trace_print_packet: devices, link header, IPv4 header, ports and TCP flags, mark. */
function packetText(p: NftTracePacket, mark: number): string {
  const out: string[] = [];
  if (p.iif) out.push(`IN=${p.iif} `);
  if (p.oif) out.push(`OUT=${p.oif} `);
  if (p.link) out.push(linkText(p.link));
  const d = p.datagram;
  const ihl = (d[0]! & 0x0f) * 4;
  const frag = u16(d, 6);
  out.push(`SRC=${formatIpv4(u32(d, 12))} DST=${formatIpv4(u32(d, 16))} LEN=${u16(d, 2)} TOS=0x${d[1]!.toString(16)} TTL=${d[8]} ID=${u16(d, 4)} `);
  if (frag & 0x8000) out.push('CE ');
  if (frag & 0x4000) out.push('DF ');
  if (frag & 0x2000) out.push('MF ');
  if (frag & 0x1fff) out.push(`FRAG:${frag & 0x1fff} `);
  if (ihl > 20) out.push(`OPT (${hexUpper(d.subarray(20, ihl))}) `);
  out.push(transportText(d, d[9]!, ihl));
  if (mark !== 0) out.push(`MARK=0x${mark.toString(16)} `);
  return out.join('');
}

/** An Ethernet header decoded (ether_ntoa: no leading zeros), a loopback one named. */
function linkText(link: LinkHeaderView): string {
  if (link.type === 'loopback') return 'LOOPBACK ';
  const eth = link.header!;
  return `MACSRC=${etherNtoa(eth.source)} MACDST=${etherNtoa(eth.dest)} MACPROTO=${eth.proto.toString(16).padStart(4, '0')} `;
}

function etherNtoa(addr: Uint8Array | null): string {
  return addr === null ? '??:??:??:??:??:??' : [...addr].map((b) => b.toString(16)).join(':');
}

/** Ports of the protocols that have them at the start of their header, and TCP's flags. */
function transportText(d: Uint8Array, proto: number, l4: number): string {
  const ports = `SPORT=${u16(d, l4)} DPORT=${u16(d, l4 + 2)} `;
  switch (proto) {
    case IPPROTO.UDP:
    case IPPROTO.UDPLITE:
    case IPPROTO.SCTP:
    case IPPROTO_DCCP:
      return d.length >= l4 + 4 ? ports : '';
    case IPPROTO.TCP:
      return d.length >= l4 + 20 ? ports + TCP_FLAGS.filter(([bit]) => d[l4 + 13]! & bit).map(([, name]) => `${name} `).join('') : '';
    default:
      return '';
  }
}

const IPPROTO_DCCP = 33;

/** The flags trace_print_packet names, in its order. */
const TCP_FLAGS: readonly (readonly [number, string])[] = [
  [0x02, 'SYN'],
  [0x10, 'ACK'],
  [0x01, 'FIN'],
  [0x04, 'RST'],
  [0x08, 'PSH'],
  [0x20, 'URG'],
];
