/**
 * The packet part of an `nft monitor trace` line: nftables' trace_print_packet decodes the
 * headers the kernel sent (nft_trace_fill_header: the link header, the network header, and up
 * to NFT_TRACETYPE_TRANSPORT_HSIZE = 20 bytes from the transport header) field by field with its
 * protocol templates, printing each as a match: "ether saddr … ip dscp cs0 ip ecn not-ect …
 * tcp flags == syn tcp window 64240 ". Fields a template implies or checks (versions, header
 * lengths, protocol, checksums, fragment offset, TCP sequence numbers and data offset) are left
 * out, as nft leaves them out; transport bytes past the template are shown raw
 * ("@th,64,96 0x…"), as nft shows them. Each statement is followed by a space.
 */
import { IPPROTO } from '../netfilter/constants.js';
import type { NftTracePacket } from '../netfilter/rules/nft-trace.js';
import { formatIpv4 } from '../packet/ipv4-addr.js';
import { readU16 as u16, readU32 as u32 } from '../packet/ipv4.js';

/** NFT_TRACETYPE_TRANSPORT_HSIZE: the transport bytes a trace message carries. */
const TRANSPORT_HSIZE = 20;

export function nftPacketText(p: NftTracePacket): string {
  const out: string[] = [];
  if (p.iif) out.push(`iif "${p.iif}"`);
  if (p.oif) out.push(`oif "${p.oif}"`);
  const eth = p.link?.type === 'ether' ? p.link.header : null;
  if (eth?.source && eth.dest) out.push(`ether saddr ${mac(eth.source)} ether daddr ${mac(eth.dest)}`);
  const d = p.datagram;
  const tos = d[1]!;
  out.push(`ip saddr ${formatIpv4(u32(d, 12))} ip daddr ${formatIpv4(u32(d, 16))} ip dscp ${dscpName(tos >> 2)} ip ecn ${ECN[tos & 3]} ip ttl ${d[8]} ip id ${u16(d, 4)} ip length ${u16(d, 2)}`);
  const l4 = (d[0]! & 0x0f) * 4;
  const th = d.subarray(l4, Math.min(d.length, l4 + TRANSPORT_HSIZE));
  out.push(...transport(d[9]!, th));
  return out.map((s) => `${s} `).join('');
}

/** nft's ether address: two hex digits per byte. */
function mac(addr: Uint8Array): string {
  return [...addr].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The transport header's fields, then what the template does not cover, raw. */
function transport(proto: number, th: Uint8Array): string[] {
  switch (proto) {
    case IPPROTO.TCP:
      if (th.length < 20) return raw(th, 0);
      return [`tcp sport ${u16(th, 0)} tcp dport ${u16(th, 2)} tcp flags == ${tcpFlags(th[13]!)} tcp window ${u16(th, 14)}`];
    case IPPROTO.UDP:
      if (th.length < 8) return raw(th, 0);
      return [`udp sport ${u16(th, 0)} udp dport ${u16(th, 2)} udp length ${u16(th, 4)}`, ...raw(th, 8)];
    case IPPROTO.ICMP: {
      if (th.length < 8) return raw(th, 0);
      const type = th[0]!;
      const head = `icmp type ${ICMP_TYPES.get(type) ?? type} icmp code ${ICMP_CODES.get(th[1]!) ?? th[1]}`;
      // the id and sequence fields of the echo (and timestamp, info, mask) messages
      if (ICMP_QUERIES.has(type)) return [`${head} icmp id ${u16(th, 4)} icmp sequence ${u16(th, 6)}`, ...raw(th, 8)];
      return [head, ...raw(th, 4)];
    }
    default:
      return raw(th, 0);
  }
}

/** The bytes from `from` on as nft prints an unknown payload: @th,OFFSET,LENGTH (bits) 0xHEX. */
function raw(th: Uint8Array, from: number): string[] {
  if (th.length <= from) return [];
  return [`@th,${from * 8},${(th.length - from) * 8} 0x${Buffer.from(th.subarray(from)).toString('hex')}`];
}

/** tcp_flag_type: one flag by name, several as a number (as the recordings show: 0x18, 0x11). */
function tcpFlags(flags: number): string {
  const name = TCP_FLAG_NAMES.get(flags);
  return name ?? `0x${flags.toString(16)}`;
}

const TCP_FLAG_NAMES = new Map([
  [0x01, 'fin'],
  [0x02, 'syn'],
  [0x04, 'rst'],
  [0x08, 'psh'],
  [0x10, 'ack'],
  [0x20, 'urg'],
  [0x40, 'ecn'],
  [0x80, 'cwr'],
]);

/** dscp_type_tbl: class selectors, assured forwarding, expedited forwarding; others a number. */
function dscpName(dscp: number): string {
  if ((dscp & 7) === 0) return `cs${dscp >> 3}`;
  const af = AF.get(dscp);
  if (af) return af;
  return dscp === 0x2e ? 'ef' : `0x${dscp.toString(16).padStart(2, '0')}`;
}

const AF = new Map([1, 2, 3, 4].flatMap((cls) => [1, 2, 3].map((drop): [number, string] => [(cls << 3) | (drop << 1), `af${cls}${drop}`])));

/** ecn_type_tbl */
const ECN = ['not-ect', 'ect1', 'ect0', 'ce'] as const;

/** icmp_type_tbl */
const ICMP_TYPES = new Map([
  [0, 'echo-reply'],
  [3, 'destination-unreachable'],
  [4, 'source-quench'],
  [5, 'redirect'],
  [8, 'echo-request'],
  [9, 'router-advertisement'],
  [10, 'router-solicitation'],
  [11, 'time-exceeded'],
  [12, 'parameter-problem'],
  [13, 'timestamp-request'],
  [14, 'timestamp-reply'],
  [15, 'info-request'],
  [16, 'info-reply'],
  [17, 'address-mask-request'],
  [18, 'address-mask-reply'],
]);

/** icmp_code_tbl: the names nft gives codes, whatever the type (code 0 of an echo is "net-unreachable"). */
const ICMP_CODES = new Map([
  [0, 'net-unreachable'],
  [1, 'host-unreachable'],
  [2, 'prot-unreachable'],
  [3, 'port-unreachable'],
  [4, 'frag-needed'],
  [9, 'net-prohibited'],
  [10, 'host-prohibited'],
  [13, 'admin-prohibited'],
]);

/** The ICMP messages whose header holds an id and a sequence number. */
const ICMP_QUERIES = new Set([0, 8, 13, 14, 15, 16, 17, 18]);
