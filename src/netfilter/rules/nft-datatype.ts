/**
 * nft's datatypes (nftables src/datatype.c, meta.c, ct.c, proto.c): how a value of each is
 * written and what the kernel's register holds for it. Numbers are host-order; interface names
 * are strings (an `eth*` wildcard is the range of names that start with `eth`, as nft's
 * ifname intervals are). An IPv6 address is 128 bits, wider than a JavaScript number: its
 * register holds it as 32 lower-case hex digits (ipv6Register), so that strings of one length
 * order as the addresses do, and prefixes and ranges are intervals of them.
 */
import { parseIpv4, parsePrefix, prefixMask } from '../../packet/ipv4-addr.js';
import { handleOfWords, IPV6_HANDLE_BASE, ipv6PrefixMaskWords, ipv6Word, parseIpv6, parseIpv6Prefix } from '../../packet/ipv6-addr.js';
import { parsePortRange, parseProto, parseU32 } from './syntax.js';
import { CtState } from './model.js';

export type SetDatatype =
  | 'ipv4_addr'
  | 'ipv6_addr'
  | 'inet_proto'
  | 'inet_service'
  | 'integer'
  | 'mark'
  | 'ifname'
  | 'iface_index'
  | 'ct_state'
  | 'ct_status'
  | 'ct_dir'
  | 'nf_proto'
  | 'pkt_type'
  | 'tcp_flag'
  | 'icmp_type'
  | 'icmpv6_type'
  | 'icmp_code'
  | 'icmpx_code'
  | 'day'
  | 'hour'
  | 'time'
  | 'ether_addr'
  /** boolean_type: a presence (`tcp option … exists`, `fib … oif missing`), 1 or 0. */
  | 'boolean'
  /** A raw payload wider than 32 bits (`@th,160,128`): its value as lower-case hex; compared whole. */
  | 'wide_integer';

/** A value for one field: an inclusive range (a single value has min = max). */
export interface FieldRange {
  readonly min: number | string;
  readonly max: number | string;
}

/** The datatypes a `type` declaration may name (nft has no declared `integer` set; numgen's is). */
export const DECLARABLE_DATATYPES: readonly SetDatatype[] = ['ipv4_addr', 'ipv6_addr', 'inet_proto', 'inet_service', 'mark', 'ifname', 'iface_index', 'ct_state', 'ct_status', 'ct_dir', 'nf_proto', 'pkt_type', 'tcp_flag', 'icmp_type', 'icmpv6_type', 'day', 'hour', 'time', 'ether_addr'];

/** ct_state (nf_conntrack_common.h NF_CT_STATE_*_BIT, as natsim's CtState bits). */
export const CT_STATE: Readonly<Record<string, number>> = { invalid: CtState.Invalid, established: CtState.Established, related: CtState.Related, new: CtState.New, untracked: CtState.Untracked };
/** ct_status: enum ip_conntrack_status bits. */
export const CT_STATUS: Readonly<Record<string, number>> = { expected: 1, 'seen-reply': 2, assured: 4, confirmed: 8, snat: 16, dnat: 32, dying: 512 };
const CT_DIR: Readonly<Record<string, number>> = { original: 0, reply: 1 };
/** boolean_tbl (nftables datatype.c). */
const BOOLEAN: Readonly<Record<string, number>> = { exists: 1, missing: 0 };
/** NFPROTO_IPV4, NFPROTO_IPV6. */
export const NFPROTO: Readonly<Record<string, number>> = { ipv4: 2, ipv6: 10 };
/** PACKET_HOST … PACKET_OTHERHOST. */
const PKT_TYPE: Readonly<Record<string, number>> = { host: 0, broadcast: 1, multicast: 2, other: 3 };
export const TCP_FLAG: Readonly<Record<string, number>> = { fin: 0x01, syn: 0x02, rst: 0x04, psh: 0x08, ack: 0x10, urg: 0x20, ecn: 0x40, cwr: 0x80 };
const ICMP_TYPE: Readonly<Record<string, number>> = { 'echo-reply': 0, 'destination-unreachable': 3, 'source-quench': 4, redirect: 5, 'echo-request': 8, 'router-advertisement': 9, 'router-solicitation': 10, 'time-exceeded': 11, 'parameter-problem': 12, 'timestamp-request': 13, 'timestamp-reply': 14, 'info-request': 15, 'info-reply': 16, 'address-mask-request': 17, 'address-mask-reply': 18 };
/** nft's icmpv6_type names (proto.c icmp6_type_tbl) and their ICMPv6 types. */
export const ICMPV6_TYPE: Readonly<Record<string, number>> = {
  'destination-unreachable': 1,
  'packet-too-big': 2,
  'time-exceeded': 3,
  'parameter-problem': 4,
  'echo-request': 128,
  'echo-reply': 129,
  'mld-listener-query': 130,
  'mld-listener-report': 131,
  'mld-listener-done': 132,
  'mld-listener-reduction': 132,
  'nd-router-solicit': 133,
  'nd-router-advert': 134,
  'nd-neighbor-solicit': 135,
  'nd-neighbor-advert': 136,
  'nd-redirect': 137,
  'router-renumbering': 138,
  'ind-neighbor-solicit': 141,
  'ind-neighbor-advert': 142,
  'mld2-listener-report': 143,
};
/** nft's icmp_code names (ICMP destination unreachable codes). */
const ICMP_CODE: Readonly<Record<string, number>> = { 'net-unreachable': 0, 'host-unreachable': 1, 'prot-unreachable': 2, 'port-unreachable': 3, 'frag-needed': 4, 'net-prohibited': 9, 'host-prohibited': 10, 'admin-prohibited': 13 };
/** nft's icmpx codes (NFT_REJECT_ICMPX_*). */
export const ICMPX_CODE: Readonly<Record<string, number>> = { 'no-route': 0, 'port-unreachable': 1, 'host-unreachable': 2, 'admin-prohibited': 3 };
/** Sunday is 0, as nft_meta_weekday counts. */
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** Datatypes nft treats as bitmasks: a value may be `a|b`, and a value alone matches any of its bits. */
export const BITMASK_TYPES: ReadonlySet<SetDatatype> = new Set<SetDatatype>(['ct_state', 'ct_status', 'tcp_flag']);

/** A name of a table, or a number that fits `bits`. */
function named(table: Readonly<Record<string, number>>, text: string, bits = 32): number | null {
  const v = table[text.toLowerCase()];
  if (v !== undefined) return v;
  const n = parseU32(text);
  return n !== null && (bits === 32 || n < 2 ** bits) ? n : null;
}

/** One value or range `A-B` of a datatype, as nft reads it in a set element or after a key. */
export function parseField(type: SetDatatype, text: string): FieldRange | null {
  switch (type) {
    case 'ipv4_addr': {
      const dash = text.indexOf('-');
      if (dash > 0) return range(parseIpv4(text.slice(0, dash)), parseIpv4(text.slice(dash + 1)));
      const p = parsePrefix(text);
      if (p === null) return null;
      const min = (p.addr & prefixMask(p.len)) >>> 0;
      return { min, max: (min | ~prefixMask(p.len)) >>> 0 };
    }
    case 'inet_service':
      return parsePortRange(text, '-');
    case 'ifname':
    case 'iface_index':
      // index 0 is no device, which natsim loads as "" (meta iif without one, fib … oif with no route)
      if (type === 'iface_index' && text === '0') return { min: '', max: '' };
      // IFNAMSIZ: 15 characters and the NUL; `eth*` is every name starting with eth
      if (text.length === 0 || text.length > 16) return null;
      return text.endsWith('*') ? { min: text.slice(0, -1), max: `${text.slice(0, -1)}\uffff` } : { min: text, max: text };
    case 'ipv6_addr':
      return ipv6Field(text.replace(/^\[(.*)\]$/, '$1'));
    case 'ether_addr':
      return /^([0-9a-f]{1,2}:){5}[0-9a-f]{1,2}$/i.test(text) ? { min: text.toLowerCase(), max: text.toLowerCase() } : null;
    case 'wide_integer': {
      if (!/^(0x[0-9a-f]+|\d+)$/i.test(text)) return null;
      const v = BigInt(text).toString(16);
      return { min: v, max: v };
    }
    case 'hour':
      return rangeOf(text, parseHour);
    case 'time':
      return rangeOf(text, parseDate);
    default:
      return rangeOf(text, (t) => scalar(type, t));
  }
}

/** A single number of a numeric datatype, by name or value. */
function scalar(type: SetDatatype, text: string): number | null {
  switch (type) {
    case 'inet_proto':
      return parseProto(text);
    case 'integer':
    case 'mark':
      return parseU32(text);
    case 'ct_state':
      return parseBitmask(CT_STATE, text);
    case 'ct_status':
      return parseBitmask(CT_STATUS, text);
    case 'ct_dir':
      return named(CT_DIR, text, 8);
    case 'boolean':
      return named(BOOLEAN, text, 1);
    case 'nf_proto':
      return named(NFPROTO, text, 8);
    case 'pkt_type':
      return named(PKT_TYPE, text, 8);
    case 'tcp_flag':
      return parseBitmask(TCP_FLAG, text);
    case 'icmp_type':
      return named(ICMP_TYPE, text, 8);
    case 'icmpv6_type':
      return named(ICMPV6_TYPE, text, 8);
    case 'icmp_code':
      return named(ICMP_CODE, text, 8);
    case 'icmpx_code':
      return named(ICMPX_CODE, text, 8);
    case 'day': {
      const lower = text.toLowerCase();
      const i = DAYS.findIndex((d) => d === lower || d.slice(0, 3) === lower);
      return i >= 0 ? i : named({}, text, 3);
    }
    default:
      return null;
  }
}

/** `a|b|c`, `(a | b)` or a number: the bits ORed (nft's bitmask types: tcp flags, ct state …). */
export function parseBitmask(table: Readonly<Record<string, number>>, text: string): number | null {
  const parts = text.replace(/[()]/g, '').split(/[|,]/).filter((p) => p !== '');
  if (parts.length === 0) return null;
  let bits = 0;
  for (const p of parts) {
    const v = named(table, p);
    if (v === null) return null;
    bits |= v;
  }
  return bits;
}

/**
 * An IPv6 address as its register holds it (see the module comment): the same for every run,
 * whatever handle the address has.
 */
export function ipv6Register(handle: number): string {
  const index = handle - IPV6_HANDLE_BASE;
  const known = registers[index];
  if (known !== undefined) return known;
  let out = '';
  for (let i = 0; i < 4; i++) out += wordRegister(ipv6Word(handle, i));
  registers[index] = out;
  return out;
}

/**
 * Each interned address's register once made, by handle index: a rule reads the register of
 * every IPv6 packet's addresses it matches, and making one (four hex conversions and their
 * padding) was 6% of a replay with an IPv6 set in FORWARD. A handle is one address for the
 * whole run, so its register never changes; the array holds at most one string per address.
 */
const registers: string[] = [];

/** One u32 word of a register, as eight hex digits. */
function wordRegister(w: number): string {
  return w.toString(16).padStart(8, '0');
}

/** The handle of the address a register holds (a NAT map's data). */
export function ipv6FromRegister(reg: string): number {
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) w[i] = parseInt(reg.slice(8 * i, 8 * i + 8), 16);
  return handleOfWords(w);
}

/** `ADDR`, `ADDR/LEN` (the interval of the prefix, host bits cleared) or `ADDR-ADDR`. */
function ipv6Field(text: string): FieldRange | null {
  const dash = text.indexOf('-');
  if (dash > 0) {
    const lo = parseIpv6(text.slice(0, dash).replace(/^\[(.*)\]$/, '$1'));
    const hi = parseIpv6(text.slice(dash + 1).replace(/^\[(.*)\]$/, '$1'));
    if (lo === null || hi === null) return null;
    const [min, max] = [ipv6Register(lo), ipv6Register(hi)];
    return min <= max ? { min, max } : null;
  }
  const p = parseIpv6Prefix(text);
  if (p === null) return null;
  const mask = ipv6PrefixMaskWords(p.len);
  let [min, max] = ['', ''];
  for (let i = 0; i < 4; i++) {
    min += wordRegister((ipv6Word(p.addr, i) & mask[i]!) >>> 0);
    max += wordRegister((ipv6Word(p.addr, i) | ~mask[i]!) >>> 0);
  }
  return { min, max };
}

function rangeOf(text: string, one: (t: string) => number | null): FieldRange | null {
  const whole = one(text);
  if (whole !== null) return { min: whole, max: whole };
  const dash = text.indexOf('-', 1);
  return dash > 0 ? range(one(text.slice(0, dash)), one(text.slice(dash + 1))) : null;
}

function range(min: number | null, max: number | null): FieldRange | null {
  return min === null || max === null || min > max ? null : { min, max };
}

/**
 * `HH:MM[:SS]` as seconds into the day. nft converts it from the local time zone to UTC
 * (hour_type_parse); natsim's clock is UTC, so the hour is taken as written.
 */
function parseHour(text: string): number | null {
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (!m) return null;
  const [h, min, s] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  return h < 24 && min < 60 && s < 60 ? h * 3600 + min * 60 + s : null;
}

/** `YYYY-MM-DD [HH:MM[:SS]]` (UTC, see parseHour) or seconds since the epoch, as ns. */
function parseDate(text: string): number | null {
  if (/^\d+$/.test(text)) return Number(text) * 1e9;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(text);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  return Number.isNaN(ms) ? null : ms * 1e6;
}

/**
 * data_unit_parse: the byte units nft takes in `limit rate N UNIT/…` and `quota N UNIT` (and
 * prints with get_rate). nft 1.1 refuses any other ("Wrong unit format, expecting bytes, kbytes
 * or mbytes"), gbytes included.
 */
export const DATA_UNITS: Readonly<Record<string, number>> = { bytes: 1, kbytes: 1024, mbytes: 1024 * 1024 };
export const DATA_UNIT_ERROR = 'wrong unit format, expecting bytes, kbytes or mbytes';
