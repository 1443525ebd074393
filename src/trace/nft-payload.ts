/**
 * The packet part of an `nft monitor trace` line: nftables 1.0.6's trace_print_packet
 * (src/netlink.c) decodes the headers the kernel sent (nf_trace_fill_pkt_info: see
 * tracedHeaders) with trace_gen_stmts, field by field with the protocol templates of
 * nft-proto.ts, printing each as a match: "ether saddr … ip6 saddr fd00:3::1 … ip6 hoplimit 64
 * ip6 flowlabel 826805 ip6 length 16 icmpv6 type echo-request …". The network header is the
 * packet's family's (an inet table's events say which); the transport header is decoded with
 * the protocol the network header names, which for IPv6 is the first next header: behind an
 * extension header (whose bytes the kernel does not send) the transport bytes are shown raw
 * ("@th,0,120 0x…"), as are bytes past a template. Each statement is followed by a space.
 */
import type { TableFamily } from '../netfilter/rules/model.js';
import { NFPROTO_IPV6 } from '../netfilter/rules/model.js';
import type { NftTracePacket } from '../netfilter/rules/nft-trace.js';
import { hex, PROTO_IP, PROTO_IP6, type ProtoDesc } from './nft-proto.js';

/** A decoded header field, or a raw run of bytes (desc null), as trace_gen_stmts makes them. */
interface Stmt {
  readonly desc: ProtoDesc | null;
  readonly token: string;
  readonly text: string;
}

/** The decoded header: its statements in print order, and the number its protocol field holds. */
interface Decoded {
  readonly stmts: readonly Stmt[];
  readonly protocol: number | null;
}

export function nftPacketText(p: NftTracePacket, family: TableFamily): string {
  const out: string[] = [];
  if (p.iif) out.push(`iif "${p.iif}"`);
  if (p.oif) out.push(`oif "${p.oif}"`);
  const eth = p.link?.type === 'ether' ? p.link.header : null;
  if (eth?.source && eth.dest) out.push(`ether saddr ${mac(eth.source)} ether daddr ${mac(eth.dest)}`);
  const network = p.nfproto === NFPROTO_IPV6 ? PROTO_IP6 : PROTO_IP;
  const nh = p.network ? decode(p.network, 'nh', network) : { stmts: [], protocol: null };
  const upper = nh.protocol === null ? null : (network.upper?.get(nh.protocol) ?? null);
  const th = p.transport ? decode(p.transport, 'th', upper) : { stmts: [], protocol: null };
  // payload_dependency_kill: a decoded transport header implies the network header's protocol
  // field, which is left out — but not in inet, bridge and netdev tables, where that field also
  // says the packet's family (payload_may_dependency_kill); raw bytes imply nothing
  const implied = th.stmts[0]?.desc && family !== 'inet' && family !== 'bridge' && family !== 'netdev';
  const nhStmts = implied ? nh.stmts.filter((s) => s.token !== network.protocolKey) : nh.stmts;
  out.push(...[...nhStmts, ...th.stmts].map((s) => s.text));
  return out.map((s) => `${s} `).join('');
}

/** nft's ether address: two hex digits per byte. */
function mac(addr: Uint8Array): string {
  return [...addr].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * trace_gen_stmts for one header: payload_expr_expand splits it by the templates (the first at
 * each offset, in template order; what no template starts at is raw to the end), hidden fields
 * go, and the rest is printed in the template's format order, then as expanded. Without a
 * protocol for the header, all of it is raw. AH and IPComp, which nft decodes together with the
 * header they lead to, are not modelled: that is said in the line rather than guessed.
 */
function decode(header: Uint8Array, base: 'nh' | 'th', desc: ProtoDesc | null): Decoded {
  const total = header.length * 8;
  const raw = (at: number): Stmt[] => (at < total ? [{ desc: null, token: '', text: rawText(header, base, at, total - at) }] : []);
  if (!desc) return { stmts: raw(0), protocol: null };
  if (desc.chained) return { stmts: [{ desc: null, token: '', text: `[natsim: ${desc.name} and the header after it not decoded] ${rawText(header, base, 0, total)}` }], protocol: null };
  const fields: Stmt[] = [];
  let protocol: number | null = null;
  let at = 0;
  for (const tmpl of desc.templates) {
    if (at >= total) break;
    if (tmpl.offset !== at) continue;
    const len = Math.min(tmpl.len, total - at);
    const value = bits(header, at, len);
    if (tmpl.token === desc.protocolKey) protocol = Number(value);
    if (!desc.hidden.has(tmpl.token)) fields.push({ desc, token: tmpl.token, text: `${desc.name} ${tmpl.token} ${tmpl.print(value, header, at)}` });
    at += len;
  }
  const ordered = desc.order.flatMap((token) => fields.filter((f) => f.token === token));
  const rest = fields.filter((f) => !desc.order.includes(f.token));
  return { stmts: [...ordered, ...rest, ...raw(at)], protocol };
}

/** An unknown payload as nft prints it: @BASE,OFFSET,LENGTH (bits) and the value in hex. */
function rawText(header: Uint8Array, base: 'nh' | 'th', at: number, len: number): string {
  return `@${base},${at},${len} ${hex(bits(header, at, len), header, at)}`;
}

/** The `len` bits of `header` from bit `at`, big-endian. */
function bits(header: Uint8Array, at: number, len: number): bigint {
  let v = 0n;
  for (let i = at >> 3; i < (at + len + 7) >> 3; i++) v = (v << 8n) | BigInt(header[i]!);
  const spare = ((8 - ((at + len) & 7)) & 7);
  return (v >> BigInt(spare)) & ((1n << BigInt(len)) - 1n);
}
