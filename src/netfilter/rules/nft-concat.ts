/**
 * The expressions a set key is built from, and concatenations of them (`ip daddr . meta l4proto
 * . th dport`): each field is loaded into its own register in order (nft_payload_eval,
 * nft_meta_get_eval, nft_ng_*_eval), and the lookup compares the registers field by field.
 * A field that cannot be loaded ends the rule (NFT_BREAK), whatever the lookup's `!=`.
 */
import { readU16 } from '../../packet/ipv4.js';
import type { RuleContext } from './context.js';
import type { KeyExpr } from './model.js';
import type { SetDatatype } from './nft-set.js';
import { parseField } from './nft-datatype.js';
import { fibResult, readFib } from './nft-fib.js';
import { isRtHeaderField, loadExthdr6, readRtHeader } from './nft-exthdr6.js';
import { numgenValue, readNumgen } from './nft-numgen.js';
import { describe, type NftCursor, type Token } from './nft-tokens.js';
import { BARE_META_KEYS, BITWISE_OPS, exprDatatype, loadCt, loadMeta, loadPayload, loadTcpOpt, readBitwise, readCt, readMeta, and128, readPayload, readRawPayload, readTcpOption } from './nft-expr.js';
import { parseProto } from './syntax.js';
import { isIpv6 } from '../../packet/ipv6-addr.js';

/** Transport protocols whose header nft names with their own keyword for sport/dport. */
const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'sctp', 'udplite']);
/** Expressions natsim does not load, and why. */
const NOT_MODELLED: Readonly<Record<string, string>> = {
  osf: 'osf (passive OS fingerprinting, nft_osf) is not modelled',
  socket: 'socket (nft_socket: a lookup of the local socket) is not modelled',
  vlan: 'vlan headers are not modelled (natsim replays IPv4 without 802.1Q tags)',
  ether: 'ether header fields are not modelled (natsim keys rules on the IPv4 packet)',
  '@ll': 'raw link-layer payloads are not modelled (natsim keys rules on the IPv4 packet)',
  arp: 'arp header fields are not modelled',
  rt: 'rt (routing header / route metadata, nft_rt) is not modelled',
  ipsec: 'ipsec (xfrm state, nft_xfrm) is not modelled',
  exthdr: 'IPv6 extension headers are not modelled',
};

/**
 * The datatypes of the set a key is looked up in or added to, for the constants in the key;
 * null where there is none (an anonymous set takes its types from the key).
 */
export type ConstTypes = () => readonly SetDatatype[] | null;

/**
 * Reads field `index` of a key after its first word (ip saddr, meta iifname, ct state, tcp
 * flags, numgen …), with a `& MASK` after it, or a constant (`ip saddr . 10002`, `. "lo"`).
 */
export function readKeyField(cur: NftCursor, first: Token, index = 0, constTypes: ConstTypes | null = null): KeyExpr {
  if (isConstant(first)) return readConstant(cur, first, index, constTypes);
  const field = readBareField(cur, first);
  return BITWISE_OPS.has(cur.peek().text) ? readBitwise(cur, field, datatypeOf(field), (t) => readBareField(cur, t)) : field;
}

/** A quoted string or a word that starts with a digit: a value, not an expression. */
function isConstant(tok: Token): boolean {
  return tok.kind === 'string' || (tok.kind === 'word' && /^[0-9]/.test(tok.text));
}

/**
 * A constant field of a key, in the datatype of the set's field at its place: nft loads it
 * with nft_immediate into the field's register, where the lookup or dynset reads it.
 */
function readConstant(cur: NftCursor, tok: Token, index: number, constTypes: ConstTypes | null): KeyExpr {
  const types = constTypes?.() ?? null;
  if (types === null) return cur.fail(tok, `expected an expression, found ${describe(tok)} (a constant in a key takes its type from the named set it is looked up in or added to)`);
  const datatype = types[index] ?? cur.fail(tok, `the set's key has ${types.length} field${types.length === 1 ? '' : 's'}; ${describe(tok)} would be field ${index + 1}`);
  const v = parseField(datatype, tok.text);
  if (v === null || v.min !== v.max) return cur.fail(tok, `bad ${datatype} constant ${describe(tok)}`);
  return { kind: 'const', value: v.min, datatype };
}

function readBareField(cur: NftCursor, first: Token): KeyExpr {
  if (first.text === 'numgen') return readNumgen(cur);
  if (first.text === 'fib') return readFib(cur);
  if (BARE_META_KEYS.has(first.text)) return readMeta(cur, first);
  if (first.text === 'rt' && isRtHeaderField(cur.peek().text)) return readRtHeader(cur);
  const raw = readRawPayload(cur, first);
  if (raw !== null) return raw;
  const reason = NOT_MODELLED[first.text];
  if (reason !== undefined) return cur.fail(first, reason);
  if (first.kind !== 'word') return cur.fail(first, `expected an expression, found ${describe(first)}`);
  const field = cur.next();
  if (first.text === 'ip') {
    if (field.text === 'saddr' || field.text === 'daddr') return { kind: field.text };
    if (field.text === 'protocol') return { kind: 'l4proto' };
  }
  if (first.text === 'meta') return field.text === 'l4proto' ? { kind: 'l4proto' } : readMeta(cur, field);
  if (first.text === 'ct') return readCt(cur, field);
  if ((first.text === 'th' || PORT_PROTOCOLS.has(first.text)) && (field.text === 'sport' || field.text === 'dport')) return { kind: field.text, proto: first.text === 'th' ? null : parseProto(first.text) };
  if (first.text === 'tcp' && field.text === 'option') return readTcpOption(cur);
  return readPayload(cur, first, field) ?? cur.fail(first, `unsupported expression '${first.text} ${field.text}' (natsim reads ip, ip6, tcp, udp, th, icmp, icmpv6 fields, meta, ct and numgen)`);
}

/** Reads `FIELD [. FIELD]…` from its first word; `constTypes` types the constants among them. */
export function readKey(cur: NftCursor, first: Token, constTypes: ConstTypes | null = null): KeyExpr[] {
  const key = [readKeyField(cur, first, 0, constTypes)];
  while (cur.peek().kind === 'word' && cur.peek().text === '.') {
    const dot = cur.next();
    if (key.length === MAX_KEY_FIELDS) cur.fail(dot, `a concatenation has at most ${MAX_KEY_FIELDS} fields`);
    key.push(readKeyField(cur, cur.next(), key.length, constTypes));
  }
  return key;
}

export function datatypeOf(k: KeyExpr): SetDatatype {
  switch (k.kind) {
    case 'saddr':
    case 'daddr':
      return 'ipv4_addr';
    case 'l4proto':
      return 'inet_proto';
    case 'sport':
    case 'dport':
      return 'inet_service';
    case 'numgen':
      return 'integer';
    case 'fib':
      return k.present ? 'boolean' : k.result === 'oif' ? 'iface_index' : 'ifname';
    case 'bitwise':
      return datatypeOf(k.of);
    case 'mask128':
      return 'ipv6_addr';
    case 'const':
    case 'exthdr6':
      return k.datatype;
    case 'meta':
    case 'ct':
    case 'payload':
    case 'tcpopt':
      return exprDatatype(k);
  }
}

/** NFT_REG32_COUNT: a key spans at most this many 32-bit registers, one per field here. */
const MAX_KEY_FIELDS = 16;

/**
 * struct nft_regs' data registers: one file for every evaluation. A lookup, vmap or dynset
 * reads its key right after loadKey wrote it, and no key is loaded in between, so sharing
 * them costs no allocation per packet.
 */
const regs: (number | string)[] = new Array<number | string>(MAX_KEY_FIELDS).fill(0);

/** Loads a concatenation into the registers, left to right; null when a field breaks the rule. */
export function loadKey(key: readonly KeyExpr[], ctx: RuleContext): readonly (number | string)[] | null {
  for (let i = 0; i < key.length; i++) {
    const v = loadField(key[i]!, ctx);
    if (v === null) return null;
    regs[i] = v;
  }
  return regs;
}

export function loadField(k: KeyExpr, ctx: RuleContext): number | string | null {
  const p = ctx.skb.pkt;
  switch (k.kind) {
    // ip saddr|daddr: nft's meta nfproto ipv4 dependency breaks the rule for an IPv6 packet
    case 'saddr':
      return isIpv6(p.saddr) ? null : p.saddr;
    case 'daddr':
      return isIpv6(p.daddr) ? null : p.daddr;
    case 'l4proto':
      return p.proto;
    case 'sport':
    case 'dport': {
      // tcp/udp/…: the l4proto dependency's cmp fails first; th reads whatever header is there
      if ((k.proto !== null && p.proto !== k.proto) || p.fragOffset !== 0) return null;
      const at = p.l4off + (k.kind === 'sport' ? 0 : 2);
      return at + 2 <= p.data.length ? readU16(p.data, at) : null;
    }
    case 'numgen':
      return numgenValue(k, ctx);
    case 'fib':
      return fibResult(k, ctx);
    case 'meta':
      return loadMeta(k, ctx);
    case 'ct':
      return loadCt(k, ctx);
    case 'payload':
      return loadPayload(k, ctx);
    case 'tcpopt':
      return loadTcpOpt(k, ctx);
    case 'bitwise': {
      const v = loadField(k.of, ctx);
      if (typeof v !== 'number') return null;
      if (!k.by) return ((v & k.mask) ^ k.xor) >>> 0;
      const w = loadField(k.by.expr, ctx);
      if (typeof w !== 'number') return null;
      return (k.by.op === 'and' ? v & w : k.by.op === 'or' ? v | w : v ^ w) >>> 0;
    }
    case 'mask128': {
      const v = loadField(k.of, ctx);
      return typeof v === 'string' ? and128(v, k.mask) : null;
    }
    case 'const':
      return k.value;
    case 'exthdr6':
      return loadExthdr6(k, ctx);
  }
}
