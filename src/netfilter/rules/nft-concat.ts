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
import { numgenValue, readNumgen } from './nft-numgen.js';
import type { NftCursor, Token } from './nft-tokens.js';
import { parseProto } from './syntax.js';

/** Transport protocols whose header nft names with their own keyword for sport/dport. */
const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'sctp', 'udplite']);

/** Reads one field after its first word: ip saddr|daddr|protocol, meta l4proto, th|tcp|… sport|dport, numgen …. */
export function readKeyField(cur: NftCursor, first: Token): KeyExpr {
  if (first.text === 'numgen') return readNumgen(cur);
  const field = cur.next();
  if (first.text === 'ip') {
    if (field.text === 'saddr' || field.text === 'daddr') return { kind: field.text };
    if (field.text === 'protocol') return { kind: 'l4proto' };
    return cur.fail(field, `unsupported ip field '${field.text}' (saddr, daddr, protocol)`);
  }
  if (first.text === 'meta') {
    if (field.text === 'l4proto') return { kind: 'l4proto' };
    return cur.fail(field, `meta ${field.text} cannot be part of a set key here (natsim concatenates meta l4proto)`);
  }
  if (first.text === 'th' || PORT_PROTOCOLS.has(first.text)) {
    if (field.text !== 'sport' && field.text !== 'dport') cur.fail(field, `unsupported ${first.text} field '${field.text}' (sport, dport)`);
    return { kind: field.text, proto: first.text === 'th' ? null : parseProto(first.text) };
  }
  return cur.fail(first, `unsupported key expression '${first.text}' (ip saddr|daddr|protocol, meta l4proto, th|tcp|udp|sctp|udplite sport|dport, numgen)`);
}

/** Reads `FIELD [. FIELD]…` from its first word. */
export function readKey(cur: NftCursor, first: Token): KeyExpr[] {
  const key = [readKeyField(cur, first)];
  while (cur.peek().kind === 'word' && cur.peek().text === '.') {
    const dot = cur.next();
    if (key.length === MAX_KEY_FIELDS) cur.fail(dot, `a concatenation has at most ${MAX_KEY_FIELDS} fields`);
    key.push(readKeyField(cur, cur.next()));
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
  }
}

/** NFT_REG32_COUNT: a key spans at most this many 32-bit registers, one per field here. */
const MAX_KEY_FIELDS = 16;

/**
 * struct nft_regs' data registers: one file for every evaluation. A lookup, vmap or dynset
 * reads its key right after loadKey wrote it, and no key is loaded in between, so sharing
 * them costs no allocation per packet.
 */
const regs = new Float64Array(MAX_KEY_FIELDS);

/** Loads a concatenation into the registers, left to right; null when a field breaks the rule. */
export function loadKey(key: readonly KeyExpr[], ctx: RuleContext): Float64Array | null {
  for (let i = 0; i < key.length; i++) {
    const v = loadField(key[i]!, ctx);
    if (v === null) return null;
    regs[i] = v;
  }
  return regs;
}

function loadField(k: KeyExpr, ctx: RuleContext): number | null {
  const p = ctx.skb.pkt;
  switch (k.kind) {
    case 'saddr':
      return p.saddr;
    case 'daddr':
      return p.daddr;
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
  }
}
