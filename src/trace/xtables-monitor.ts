/**
 * nf_tables trace events of iptables-nft and ip6tables-nft tables as `xtables-monitor --trace`
 * prints them (iptables 1.8.9's xtables-monitor.c, trace_cb): "PACKET: 2 ID IN=… OUT=… MACSRC=…
 * SRC=… …" with the first event of a base chain run, then " TRACE: 2 ID TABLE:CHAIN:rule:
 * 0xHANDLE:VERDICT  -4 -t TABLE RULE" or " TRACE: 2 ID TABLE:CHAIN:policy:VERDICT "; 10 and -6
 * for the ip6 tables. Checked against the kernel recordings log-trace-nft and log-trace-nft6; a
 * rule's handle is the one iptables-nft-restore of the same text gives.
 */
import type { NftTraceEvent, NftTracePacket } from '../netfilter/rules/nft-trace.js';
import type { LinkHeaderView } from '../netfilter/log/nf-log.js';
import { IPPROTO } from '../netfilter/constants.js';
import { formatIpv4 } from '../packet/ipv4-addr.js';
import { formatIpv6, ipv6Handle } from '../packet/ipv6-addr.js';
import { NFPROTO_IPV4, NFPROTO_IPV6, type NfProto, type VerdictAction } from '../netfilter/rules/model.js';
import { hexUpper } from '../netfilter/log/nf-log-syslog.js';
import { readU16 as u16, readU32 as u32 } from '../packet/ipv4.js';
import { traceId } from './format-common.js';

/**
 * The family number both lines start with (the table's, NFTNL_TRACE_FAMILY) and the rule's
 * "-4"/"-6": iptables-nft makes ip tables, ip6tables-nft ip6 ones.
 */
function familyOf(e: NftTraceEvent): { readonly nfproto: NfProto; readonly flag: string } {
  return e.family === 'ip6' ? { nfproto: NFPROTO_IPV6, flag: '-6' } : { nfproto: NFPROTO_IPV4, flag: '-4' };
}

export function xtablesMonitorLines(e: NftTraceEvent): string[] {
  const id = traceId(e.id);
  const { nfproto, flag } = familyOf(e);
  const lines = e.packet ? [`PACKET: ${nfproto} ${id} ${packetText(e.packet, e.mark)}`] : [];
  const head = ` TRACE: ${nfproto} ${id} ${e.table}:${e.chain}`;
  if (e.type === 'policy') lines.push(`${head}:policy:${verdictText(e.verdict)} `);
  else lines.push(`${head}:rule:0x${(e.rule!.handle ?? 0).toString(16)}:${verdictText(e.verdict)}  ${flag} -t ${e.table} ${e.rule!.text.replace(/^\[\d+:\d+\]\s+/, '')}`);
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

/**
 * trace_print_packet: devices, link header, the network header of the packet's family, then
 * ports (and TCP's flags) of the protocol that header names, and the mark.
 */
function packetText(p: NftTracePacket, mark: number): string {
  const out: string[] = [];
  if (p.iif) out.push(`IN=${p.iif} `);
  if (p.oif) out.push(`OUT=${p.oif} `);
  if (p.link) out.push(linkText(p.link));
  const nh = p.network && (p.nfproto === NFPROTO_IPV6 ? ipv6Text(p.network) : ipv4Text(p.network));
  if (nh) out.push(nh.text);
  if (nh && p.transport) out.push(transportText(p.transport, nh.l4proto));
  if (mark !== 0) out.push(`MARK=0x${mark.toString(16)} `);
  return out.join('');
}

/** The NFPROTO_IPV4 case: addresses, length, TOS, TTL, id, fragment flags and offset, options. */
function ipv4Text(nh: Uint8Array): { text: string; l4proto: number } | null {
  if (nh.length < 20) return null;
  const ihl = (nh[0]! & 0x0f) * 4;
  const frag = u16(nh, 6);
  let text = `SRC=${formatIpv4(u32(nh, 12))} DST=${formatIpv4(u32(nh, 16))} LEN=${u16(nh, 2)} TOS=0x${nh[1]!.toString(16)} TTL=${nh[8]} ID=${u16(nh, 4)} `;
  if (frag & 0x8000) text += 'CE ';
  if (frag & 0x4000) text += 'DF ';
  if (frag & 0x2000) text += 'MF ';
  if (frag & 0x1fff) text += `FRAG:${frag & 0x1fff} `;
  // the options as far as the kernel sent them (40 bytes of network header): xtables-monitor
  // reads ihl × 4 bytes whatever it got, which natsim cannot know past the attribute
  if (ihl > 20) text += `OPT (${hexUpper(nh.subarray(20, ihl))}${ihl > nh.length ? ` [natsim: ${ihl - nh.length} more bytes read past the 40 sent]` : ''}) `;
  return { text, l4proto: nh[9]! };
}

/**
 * The NFPROTO_IPV6 case: addresses, LEN (iptables 1.8.9 adds sizeof(struct iphdr), 20, to the
 * payload length, as the recording log-trace-nft6 shows), the traffic class and the flow label
 * in decimal; the protocol is the first next header, so behind an extension header no ports.
 */
function ipv6Text(nh: Uint8Array): { text: string; l4proto: number } | null {
  if (nh.length < 40) return null;
  const flow = u32(nh, 0);
  const text = `SRC=${formatIpv6(ipv6Handle(nh, 8))} DST=${formatIpv6(ipv6Handle(nh, 24))} LEN=${u16(nh, 4) + 20} TC=${(flow >>> 20) & 0xff} HOPLIMIT=${nh[7]} FLOWLBL=${flow & 0xfffff} `;
  return { text, l4proto: nh[6]! };
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
function transportText(th: Uint8Array, proto: number): string {
  const ports = `SPORT=${u16(th, 0)} DPORT=${u16(th, 2)} `;
  switch (proto) {
    case IPPROTO.UDP:
    case IPPROTO.UDPLITE:
    case IPPROTO.SCTP:
    case IPPROTO_DCCP:
      return th.length >= 4 ? ports : '';
    case IPPROTO.TCP:
      return th.length >= 20 ? ports + TCP_FLAGS.filter(([bit]) => th[13]! & bit).map(([, name]) => `${name} `).join('') : '';
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
