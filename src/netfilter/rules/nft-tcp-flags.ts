/**
 * nft's `tcp flags` match as `nft list ruleset` prints it, read into the rule model's
 * (flags & mask) == comp: `tcp flags syn / syn,rst,ack` (iptables-nft's --tcp-flags),
 * `tcp flags & fin == fin`, `tcp flags == syn` and a single flag alone (`tcp flags syn`, any
 * packet with it set), each with `!=` for the negation. An implicit match of several flags
 * (any of them set) is not one equality, and is refused.
 */
import type { Match } from './model.js';
import { describe, type NftCursor, type Token } from './nft-tokens.js';

/** nft's tcp_flag_type names. */
const TCP_FLAG: Readonly<Record<string, number>> = { fin: 0x01, syn: 0x02, rst: 0x04, psh: 0x08, ack: 0x10, urg: 0x20, ecn: 0x40, cwr: 0x80 };

/** After `tcp flags`. */
export function readTcpFlags(cur: NftCursor, relation: () => boolean): Match {
  if (cur.peek().text === '&') {
    cur.next();
    const mask = readFlagList(cur);
    const negate = relation();
    return { kind: 'tcpflags', negate, mask, comp: readFlagList(cur) };
  }
  const relTok = cur.peek();
  const negate = relation();
  // relation() took a token: == or != was written
  const explicit = relTok !== cur.peek();
  const comp = readFlagList(cur);
  if (cur.peek().text === '/') {
    cur.next();
    return { kind: 'tcpflags', negate, mask: readFlagList(cur), comp };
  }
  if (explicit) return { kind: 'tcpflags', negate, mask: 0xff, comp };
  if ((comp & (comp - 1)) !== 0) cur.fail(relTok, "'tcp flags' with several flags and no mask matches any of them, which natsim does not model (write FLAGS / MASK)");
  return { kind: 'tcpflags', negate, mask: comp, comp };
}

/** `syn,ack`, `0`, or a hex/decimal number. */
function readFlagList(cur: NftCursor): number {
  let bits = 0;
  for (;;) {
    bits |= flagValue(cur, cur.next());
    if (!cur.peekPunct(',')) return bits;
    cur.next();
  }
}

function flagValue(cur: NftCursor, tok: Token): number {
  const named = TCP_FLAG[tok.text];
  if (named !== undefined) return named;
  if (/^(0x[0-9a-f]{1,2}|\d{1,3})$/i.test(tok.text) && Number(tok.text) < 256) return Number(tok.text);
  return cur.fail(tok, `unknown tcp flag ${describe(tok)} (${Object.keys(TCP_FLAG).join(', ')})`);
}
