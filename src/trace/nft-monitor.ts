/**
 * nf_tables trace events as `nft monitor trace` prints them (nftables' trace_print_* functions):
 * "trace id ID FAMILY TABLE CHAIN packet: …" with the first event of a base chain run, then
 * "… rule RULE (verdict V)" or "… policy P ". natsim's packet part is shorter than nft's: the
 * interfaces, the IPv4 addresses, ttl, id and length, and the ports or ICMP type and code.
 */
import type { NftTraceEvent, NftTracePacket } from '../netfilter/rules/nft-trace.js';
import type { VerdictAction } from '../netfilter/rules/model.js';
import { IPPROTO } from '../netfilter/constants.js';
import { formatIpv4 } from '../packet/ipv4-addr.js';
import { readU16 as u16, readU32 as u32 } from '../packet/ipv4.js';
import { traceId } from './format-common.js';

export function nftMonitorLines(e: NftTraceEvent): string[] {
  const head = `trace id ${traceId(e.id)} ${e.family} ${e.table} ${e.chain} `;
  const lines = e.packet ? [`${head}packet: ${packetText(e.packet)}`] : [];
  lines.push(e.type === 'policy' ? `${head}policy ${e.verdict.kind} ` : `${head}rule ${e.rule!.text} (verdict ${verdictText(e.verdict)})`);
  return lines;
}

function verdictText(v: VerdictAction): string {
  return v.kind === 'jump' || v.kind === 'goto' ? `${v.kind} ${v.chain}` : v.kind;
}

function packetText(p: NftTracePacket): string {
  const d = p.datagram;
  const parts: string[] = [];
  if (p.iif) parts.push(`iif "${p.iif}"`);
  if (p.oif) parts.push(`oif "${p.oif}"`);
  parts.push(`ip saddr ${formatIpv4(u32(d, 12))} ip daddr ${formatIpv4(u32(d, 16))} ip ttl ${d[8]} ip id ${u16(d, 4)} ip length ${u16(d, 2)}`);
  const l4 = (d[0]! & 0x0f) * 4;
  const proto = d[9]!;
  if (proto === IPPROTO.TCP || proto === IPPROTO.UDP) {
    const name = proto === IPPROTO.TCP ? 'tcp' : 'udp';
    parts.push(`${name} sport ${u16(d, l4)} ${name} dport ${u16(d, l4 + 2)}`);
  } else if (proto === IPPROTO.ICMP) {
    parts.push(`icmp type ${d[l4]} icmp code ${d[l4 + 1]}`);
  }
  return parts.join(' ');
}
