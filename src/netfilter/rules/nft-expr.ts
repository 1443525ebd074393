/**
 * The nft expressions that load a register beyond addresses, protocols and ports: meta keys
 * (nft_meta.c, nft_meta_get_eval), ct keys (nft_ct.c, nft_ct_get_eval), header fields
 * (nft_payload.c, nft_payload_eval), TCP options (nft_exthdr.c, nft_exthdr_tcp_eval) and `& MASK`
 * (nft_bitwise.c). A field of the ip or ip6 header (or icmp, icmpv6) carries the family
 * dependency nft puts before it (`meta nfproto ipv4|ipv6` in an inet table), so that it never
 * loads for a packet of the other family. A load that fails is null: the rule ends there
 * (NFT_BREAK), whatever the comparison's `!=`.
 */
import { parseIpv4 } from '../../packet/ipv4-addr.js';
import { ctinfoDir } from '../conntrack/conn.js';
import { CtState, NFPROTO_IPV4, NFPROTO_IPV6, type KeyExpr, type NfProto, type NftCtKey, type NftMetaKey } from './model.js';
import { isIpv6, parseIpv6 } from '../../packet/ipv6-addr.js';
import type { RuleContext } from './context.js';
import { ipv6Register, parseBitmask, TCP_FLAG, type SetDatatype } from './nft-datatype.js';
import type { NftCursor, Token } from './nft-tokens.js';
import { parseU32 } from './syntax.js';
import { IPPROTO } from '../constants.js';

type Meta = Extract<KeyExpr, { kind: 'meta' }>;
type Ct = Extract<KeyExpr, { kind: 'ct' }>;
type Payload = Extract<KeyExpr, { kind: 'payload' }>;
type TcpOpt = Extract<KeyExpr, { kind: 'tcpopt' }>;

const META_TYPE: Readonly<Record<NftMetaKey, SetDatatype>> = {
  nfproto: 'nf_proto',
  iifname: 'ifname',
  oifname: 'ifname',
  iif: 'iface_index',
  oif: 'iface_index',
  iiftype: 'integer',
  oiftype: 'integer',
  mark: 'mark',
  random: 'integer',
  time: 'time',
  day: 'day',
  hour: 'hour',
  pkttype: 'pkt_type',
  length: 'integer',
  protocol: 'integer',
  cpu: 'integer',
  skuid: 'integer',
  skgid: 'integer',
};

const CT_TYPE: Readonly<Record<NftCtKey, SetDatatype>> = { state: 'ct_state', status: 'ct_status', direction: 'ct_dir', mark: 'mark', l3proto: 'nf_proto', protocol: 'inet_proto', expiration: 'integer', zone: 'integer' };

/** Meta keys nft also reads without the `meta` word. */
export const BARE_META_KEYS = new Set<string>(['iifname', 'oifname', 'iif', 'oif', 'iiftype', 'oiftype', 'mark', 'skuid', 'skgid']);

/** Header fields by protocol word: [base, bit offset, bits, datatype] (nftables proto.c's templates). */
const FIELDS: Readonly<Record<string, Readonly<Record<string, readonly [Payload['base'], number, number, SetDatatype]>>>> = {
  ip: { version: ['network', 0, 4, 'integer'], hdrlength: ['network', 4, 4, 'integer'], dscp: ['network', 8, 6, 'integer'], ecn: ['network', 14, 2, 'integer'], length: ['network', 16, 16, 'integer'], id: ['network', 32, 16, 'integer'], 'frag-off': ['network', 48, 16, 'integer'], ttl: ['network', 64, 8, 'integer'], checksum: ['network', 80, 16, 'integer'] },
  tcp: { sequence: ['transport', 32, 32, 'integer'], ackseq: ['transport', 64, 32, 'integer'], doff: ['transport', 96, 4, 'integer'], flags: ['transport', 104, 8, 'tcp_flag'], window: ['transport', 112, 16, 'integer'], checksum: ['transport', 128, 16, 'integer'], urgptr: ['transport', 144, 16, 'integer'] },
  udp: { length: ['transport', 32, 16, 'integer'], checksum: ['transport', 48, 16, 'integer'] },
  udplite: { checksum: ['transport', 48, 16, 'integer'] },
  icmp: { type: ['transport', 0, 8, 'icmp_type'], code: ['transport', 8, 8, 'icmp_code'], checksum: ['transport', 16, 16, 'integer'], id: ['transport', 32, 16, 'integer'], sequence: ['transport', 48, 16, 'integer'], mtu: ['transport', 48, 16, 'integer'], gateway: ['transport', 32, 32, 'ipv4_addr'] },
  // struct ipv6hdr: `ip6 nexthdr` is the fixed header's next header, not the upper layer (that is meta l4proto)
  ip6: { version: ['network', 0, 4, 'integer'], dscp: ['network', 4, 6, 'integer'], ecn: ['network', 10, 2, 'integer'], flowlabel: ['network', 12, 20, 'integer'], length: ['network', 32, 16, 'integer'], nexthdr: ['network', 48, 8, 'inet_proto'], hoplimit: ['network', 56, 8, 'integer'], saddr: ['network', 64, 128, 'ipv6_addr'], daddr: ['network', 192, 128, 'ipv6_addr'] },
  icmpv6: { type: ['transport', 0, 8, 'icmpv6_type'], code: ['transport', 8, 8, 'integer'], checksum: ['transport', 16, 16, 'integer'], id: ['transport', 32, 16, 'integer'], sequence: ['transport', 48, 16, 'integer'], mtu: ['transport', 32, 32, 'integer'], 'max-delay': ['transport', 32, 16, 'integer'] },
};
const FIELD_PROTO: Readonly<Record<string, number | null>> = { ip: null, ip6: null, tcp: IPPROTO.TCP, udp: IPPROTO.UDP, udplite: IPPROTO.UDPLITE, icmp: IPPROTO.ICMP, icmpv6: IPPROTO.ICMPV6 };
/** The family nft's dependency ties a protocol's fields to (proto.c: ip and icmp hang off ipv4, ip6 and icmpv6 off ipv6). */
const FIELD_NFPROTO: Readonly<Record<string, NfProto>> = { ip: NFPROTO_IPV4, icmp: NFPROTO_IPV4, ip6: NFPROTO_IPV6, icmpv6: NFPROTO_IPV6 };

/** NFPROTO_IPV4 or NFPROTO_IPV6: the family of the packet (nft_pktinfo's pf). */
export function packetNfproto(ctx: RuleContext): NfProto {
  return isIpv6(ctx.skb.pkt.saddr) ? NFPROTO_IPV6 : NFPROTO_IPV4;
}

/** TCP option kinds (tcpopt.c's tcpopt_protocols) and the field each names after it: [offset, bytes]. */
const TCP_OPTIONS: Readonly<Record<string, { readonly kind: number; readonly fields: Readonly<Record<string, readonly [number, number]>> }>> = {
  eol: { kind: 0, fields: {} },
  nop: { kind: 1, fields: {} },
  maxseg: { kind: 2, fields: { size: [2, 2] } },
  window: { kind: 3, fields: { count: [2, 1] } },
  'sack-perm': { kind: 4, fields: {} },
  'sack-permitted': { kind: 4, fields: {} },
  sack: { kind: 5, fields: { left: [2, 4], right: [6, 4] } },
  timestamp: { kind: 8, fields: { tsval: [2, 4], tsecr: [6, 4] } },
};

/** After `meta`: its key. */
export function readMeta(cur: NftCursor, keyTok: Token): Meta {
  const key = keyTok.text as NftMetaKey;
  if (!(key in META_TYPE)) cur.fail(keyTok, `meta ${keyTok.text} is not modelled (natsim reads meta ${Object.keys(META_TYPE).join('|')}, l4proto)`);
  return { kind: 'meta', key };
}

/** After `ct`: its key. */
export function readCt(cur: NftCursor, keyTok: Token): Ct {
  const key = keyTok.text as NftCtKey;
  if (!(key in CT_TYPE)) cur.fail(keyTok, `ct ${keyTok.text} is not modelled (natsim reads ct ${Object.keys(CT_TYPE).join('|')})`);
  return { kind: 'ct', key };
}

/** `PROTO FIELD` for the header fields of FIELDS; null when the protocol has no such table. */
export function readPayload(cur: NftCursor, protoTok: Token, fieldTok: Token): Payload | null {
  const table = FIELDS[protoTok.text];
  if (!table) return null;
  const f = table[fieldTok.text] ?? cur.fail(fieldTok, `${protoTok.text} ${fieldTok.text} is not modelled (natsim reads ${protoTok.text} ${Object.keys(table).join('|')})`);
  return { kind: 'payload', name: `${protoTok.text} ${fieldTok.text}`, base: f[0], proto: FIELD_PROTO[protoTok.text] ?? null, nfproto: FIELD_NFPROTO[protoTok.text] ?? null, at: f[1], bits: f[2], datatype: f[3] };
}

const RAW_BASE: Readonly<Record<string, Payload['base']>> = { '@nh': 'network', '@th': 'transport', '@ih': 'inner' };

/** `@nh|@th|@ih,OFFSET,LENGTH` (raw payload, bits; NFT_PAYLOAD_*_HEADER); null for another word. */
export function readRawPayload(cur: NftCursor, first: Token): Payload | null {
  const base = RAW_BASE[first.text];
  if (base === undefined) return null;
  cur.expectPunct(',');
  const atTok = cur.next();
  cur.expectPunct(',');
  const bitsTok = cur.next();
  const at = parseU32(atTok.text) ?? cur.fail(atTok, `bad offset '${atTok.text}'`);
  const bits = parseU32(bitsTok.text) ?? cur.fail(bitsTok, `bad length '${bitsTok.text}'`);
  if (bits === 0 || bits > 128) cur.fail(bitsTok, 'natsim loads raw payloads of 1 to 128 bits (NFT_REG_SIZE * 8)');
  return { kind: 'payload', name: `${first.text},${at},${bits}`, base, proto: null, nfproto: null, at, bits, datatype: bits > 32 ? 'wide_integer' : 'integer' };
}

/** After `tcp option`: NAME [FIELD]; a name alone is the option's presence (`exists` / `missing`). */
export function readTcpOption(cur: NftCursor): TcpOpt {
  const nameTok = cur.next();
  const opt = TCP_OPTIONS[nameTok.text] ?? cur.fail(nameTok, `tcp option ${nameTok.text} is not modelled (${Object.keys(TCP_OPTIONS).join(', ')})`);
  const fieldWord = cur.peek().text;
  if (fieldWord === 'kind' || fieldWord === 'length') {
    cur.next();
    return { kind: 'tcpopt', name: `${nameTok.text} ${fieldWord}`, option: opt.kind, field: fieldWord, offset: fieldWord === 'kind' ? 0 : 1, bytes: 1, datatype: 'integer' };
  }
  const field = opt.fields[fieldWord];
  if (field) {
    cur.next();
    return { kind: 'tcpopt', name: `${nameTok.text} ${fieldWord}`, option: opt.kind, field: 'value', offset: field[0], bytes: field[1], datatype: 'integer' };
  }
  return { kind: 'tcpopt', name: nameTok.text, option: opt.kind, field: 'exists', offset: 0, bytes: 0, datatype: 'boolean' };
}

/** The operators of nft_bitwise after a field, as nft writes them. */
export const BITWISE_OPS: ReadonlyMap<string, 'and' | 'or' | 'xor'> = new Map([
  ['&', 'and'],
  ['and', 'and'],
  ['|', 'or'],
  ['or', 'or'],
  ['^', 'xor'],
  ['xor', 'xor'],
]);
/** Words that start an expression, where a bitwise operand is a second register rather than a constant. */
const EXPR_WORDS = new Set(['ip', 'ip6', 'meta', 'ct', 'tcp', 'udp', 'th', 'numgen', 'mark', 'iif', 'oif']);

/**
 * `& MASK`, `| V`, `^ V` after a field (nft_bitwise), the constant written in the field's
 * datatype, or `^ EXPR` of a second register (`readOperand` reads it).
 */
export function readBitwise(cur: NftCursor, of: KeyExpr, datatype: SetDatatype, readOperand: (first: Token) => KeyExpr): KeyExpr {
  const opTok = cur.next();
  const op = BITWISE_OPS.get(opTok.text)!;
  // a second register is combined 32 bits at a time here: an IPv6 address's 128 would be cut
  if (EXPR_WORDS.has(cur.peek().text) && (datatype === 'ipv6_addr' || datatype === 'wide_integer')) return cur.fail(opTok, `${op} of a field wider than 32 bits with another expression is not modelled by natsim`);
  if (EXPR_WORDS.has(cur.peek().text)) return { kind: 'bitwise', of, mask: 0xffffffff, xor: 0, by: { op, expr: readOperand(cur.next()) } };
  const at = cur.peek();
  const text = readMaskText(cur);
  if (datatype === 'ipv6_addr' && op === 'and') {
    const mask = parseIpv6(text);
    return mask === null ? cur.fail(at, `bad IPv6 mask '${text}'`) : { kind: 'mask128', of, mask: ipv6Register(mask) };
  }
  if (datatype === 'ipv6_addr' || datatype === 'wide_integer') return cur.fail(at, `'${text}' with ${op} on a field wider than 32 bits is not modelled (natsim masks IPv6 addresses with &)`);
  const v = datatype === 'ipv4_addr' ? parseIpv4(text) : datatype === 'tcp_flag' ? parseBitmask(TCP_FLAG, text) : parseU32(text);
  if (v === null) return cur.fail(cur.peek(), `bad operand '${text}' for a ${datatype}`);
  if (op === 'and') return { kind: 'bitwise', of, mask: v, xor: 0 };
  return op === 'xor' ? { kind: 'bitwise', of, mask: 0xffffffff, xor: v } : { kind: 'bitwise', of, mask: ~v >>> 0, xor: v };
}

/** A mask or flag list as written: `0xff`, `syn`, `(fin | syn | rst)` (spaces inside parentheses). */
export function readMaskText(cur: NftCursor): string {
  return readMaskFrom(cur, cur.next().text);
}

/**
 * The rest of a mask written with spaces, after its first token's text: up to the closing
 * parenthesis and over every `|`, but never past the end of the rule or of a set element — a
 * mask left open (`(syn`, `syn |` at the end of the file) is refused by its reader with its
 * position, where reading on would only ever add the end of the input.
 */
export function readMaskFrom(cur: NftCursor, first: string): string {
  let text = first;
  const more = (): boolean => !cur.atRuleEnd() && !cur.peekPunct(',') && cur.peek().text !== ':';
  while (text.startsWith('(') && !text.includes(')') && more()) text += cur.next().text;
  while (more() && (text.endsWith('|') || cur.peek().text.startsWith('|') || cur.peek().text === ')')) text += cur.next().text;
  return text;
}

export function exprDatatype(k: Meta | Ct | Payload | TcpOpt): SetDatatype {
  switch (k.kind) {
    case 'meta':
      return META_TYPE[k.key];
    case 'ct':
      return CT_TYPE[k.key];
    case 'payload':
    case 'tcpopt':
      return k.datatype;
  }
}

/** nft_meta_get_eval. */
export function loadMeta(k: Meta, ctx: RuleContext): number | string | null {
  const skb = ctx.skb;
  switch (k.key) {
    case 'nfproto':
      return packetNfproto(ctx);
    case 'protocol':
      // skb->protocol: ETH_P_IP or ETH_P_IPV6
      return packetNfproto(ctx) === NFPROTO_IPV6 ? 0x86dd : 0x0800;
    case 'iifname':
    case 'iif':
      // nft_meta_store_ifname: "" without a device (LOCAL_OUT); natsim's devices never change, so the name stands for the index
      return ctx.iifname ?? '';
    case 'oifname':
    case 'oif':
      return ctx.oifname ?? '';
    case 'iiftype':
    case 'oiftype': {
      const name = k.key === 'iiftype' ? ctx.iifname : ctx.oifname;
      // ARPHRD_LOOPBACK, ARPHRD_ETHER; no device breaks the rule
      return name === null ? null : name === 'lo' ? 772 : 1;
    }
    case 'mark':
      return skb.mark;
    case 'random':
      // NFT_META_PRANDOM: get_random_u32()
      return ctx.randomU32();
    case 'time':
      return ctx.wallNs();
    case 'day':
      // nft_meta_weekday: days since the epoch, which was a Thursday (4); natsim's clock is UTC
      return (4 + Math.floor(ctx.wallNs() / 86400e9)) % 7;
    case 'hour':
      // nft_meta_hour: seconds into the (UTC) day
      return Math.floor(ctx.wallNs() / 1e9) % 86400;
    case 'pkttype':
      return ctx.pktType();
    case 'length':
      return skb.pkt.data.length;
    case 'cpu':
      return 0;
    case 'skuid':
    case 'skgid':
      // no full socket on a forwarded or replayed packet: nft_meta_get_eval_skugid breaks
      return null;
  }
}

/** nft_ct_get_eval: the state loads without an entry; every other key needs one. */
export function loadCt(k: Ct, ctx: RuleContext): number | null {
  if (k.key === 'state') return ctx.ctState() & (CtState.Invalid | CtState.Established | CtState.Related | CtState.New | CtState.Untracked);
  const ct = ctx.skb.untracked ? null : ctx.skb.ct;
  if (!ct) return null;
  switch (k.key) {
    case 'status':
      return ct.status;
    case 'direction':
      return ctinfoDir(ctx.skb.ctinfo);
    case 'mark':
      return ct.mark;
    case 'l3proto':
      // nf_ct_l3num: the family of the entry's tuples
      return ct.isIpv6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
    case 'protocol':
      return ctx.skb.pkt.proto;
    case 'expiration':
      return Math.max(0, Math.floor((ct.timeout - ctx.skb.time) / 1e6));
    case 'zone':
      // nf_ct_zone(ct)->id: natsim refuses whatever would put an entry in another zone (CT
      // --zone, ct zone set, a snapshot's zone=), so every entry is in nf_ct_zone_dflt, zone 0
      return 0;
  }
}

/**
 * nft_payload_eval: a field of the other family breaks (its nfproto dependency); the transport
 * header needs the protocol nft guards it with, one found (an IPv6 packet's may not be:
 * nft_set_pktinfo_ipv6 leaves no thoff), and no fragment offset.
 */
export function loadPayload(k: Payload, ctx: RuleContext): number | string | null {
  const p = ctx.skb.pkt;
  if (k.nfproto !== null && packetNfproto(ctx) !== k.nfproto) return null;
  let start = 0;
  if (k.base !== 'network') {
    if ((k.proto !== null && p.proto !== k.proto) || p.fragOffset !== 0 || p.l4off < 0) return null;
    start = p.l4off;
  }
  // an IPv6 address compares as its register text (nft-datatype.ts)
  if (k.datatype === 'ipv6_addr') return ipv6Register(k.at === 64 ? p.saddr : p.daddr);
  if (k.base === 'inner') {
    // __nft_payload_inner_offset: after the TCP header (doff) or the UDP header; other protocols break
    if (p.proto === IPPROTO.TCP) start += p.tcpHeaderLength;
    else if (p.proto === IPPROTO.UDP) start += 8;
    else return null;
  }
  const first = start + (k.at >> 3);
  const last = start + ((k.at + k.bits - 1) >> 3);
  if (last >= p.data.length) return null;
  const spare = (last - first + 1) * 8 - (k.at & 7) - k.bits;
  if (k.bits > 32) {
    let w = 0n;
    for (let i = first; i <= last; i++) w = w * 256n + BigInt(p.data[i]!);
    return ((w >> BigInt(spare)) % (1n << BigInt(k.bits))).toString(16);
  }
  let v = 0;
  for (let i = first; i <= last; i++) v = v * 256 + p.data[i]!;
  return Math.floor(v / 2 ** spare) % 2 ** k.bits;
}

/** nft_exthdr_tcp_eval: walks the options; a missing option breaks the rule unless its presence is asked. */
export function loadTcpOpt(k: TcpOpt, ctx: RuleContext): number | null {
  const p = ctx.skb.pkt;
  if (p.proto !== IPPROTO.TCP || p.fragOffset !== 0 || p.l4off + 20 > p.data.length) return null;
  const end = Math.min(p.data.length, p.l4off + (p.data[p.l4off + 12]! >> 4) * 4);
  for (let i = p.l4off + 20; i < end; ) {
    const kind = p.data[i]!;
    const len = kind <= 1 ? 1 : (p.data[i + 1] ?? 0);
    if (len < 1 || i + len > end) return null;
    if (kind === k.option) return optionField(k, p.data, i, len);
    i += len;
  }
  return k.field === 'exists' ? 0 : null;
}

function optionField(k: TcpOpt, data: Uint8Array, at: number, len: number): number | null {
  if (k.field === 'exists') return 1;
  if (k.field === 'length') return len;
  if (k.offset + k.bytes > len) return null;
  let v = 0;
  for (let i = at + k.offset; i < at + k.offset + k.bytes; i++) v = v * 256 + data[i]!;
  return v;
}

/** `REG & MASK` on a 128-bit register (both 32 hex digits), eight digits at a time. */
export function and128(reg: string, mask: string): string {
  let out = '';
  for (let i = 0; i < 32; i += 8) out += ((parseInt(reg.slice(i, i + 8), 16) & parseInt(mask.slice(i, i + 8), 16)) >>> 0).toString(16).padStart(8, '0');
  return out;
}
