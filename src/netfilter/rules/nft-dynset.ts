/**
 * `add @set { KEY [timeout T] }` and `update @set { KEY [timeout T] }` (net/netfilter/nft_dynset.c
 * on the hash backend's nft_rhash_update, nft_set_hash.c): the key goes into the set unless a
 * live element holds it already; `update` also restarts a found element's timeout. A new
 * element times out after T, else the set's timeout. When the set is full the rule ends
 * (NFT_BREAK). kube-proxy's nftables mode keeps session affinity this way:
 * `update @affinity-… { ip saddr }` in the endpoint chain, `ip saddr @affinity-… goto …` in the
 * service chain.
 */
import { formatIpv4 } from '../../packet/ipv4-addr.js';
import { L4PROTO_NAME } from '../constants.js';
import type { RuleContext } from './context.js';
import type { KeyExpr, Match, Rule } from './model.js';
import { loadKey, readKey } from './nft-concat.js';
import { collectExpired, SetFlag, setLookup, type NftSet, type SetDatatype, type SetElement } from './nft-set.js';
import { readTime } from './nft-set-syntax.js';
import { formatNftTime } from './nft-time.js';
import type { NftCursor, Token } from './nft-tokens.js';

type Dynset = Extract<Match, { kind: 'dynset' }>;

/** nft_dynset_init gives a set bound without a size this one. */
const DEFAULT_SIZE = 0xffff;

/**
 * After `add` or `update`: `@NAME { KEY [timeout T] }`, refused where nft_dynset_init refuses
 * it. `namedSet` finds the set the rule's table declared, keyed as KEY.
 */
export function readDynset(cur: NftCursor, opTok: Token, namedSet: (tok: Token, key: readonly KeyExpr[]) => NftSet): Dynset {
  const op = opTok.text === 'add' ? 'add' : 'update';
  const nameTok = cur.next();
  if (!nameTok.text.startsWith('@')) cur.fail(nameTok, `expected '@SET' after '${op}' (natsim reads ${op} @SET { KEY [timeout T] })`);
  cur.expectPunct('{');
  const key = readKey(cur, cur.next());
  const timeoutTok = cur.peek().text === 'timeout' ? cur.next() : null;
  const timeout = timeoutTok === null ? 0 : readTime(cur);
  if (!cur.peekPunct('}')) cur.fail(cur.peek(), `natsim reads ${op} @SET { KEY [timeout T] } (no data, counters or limits)`);
  cur.next();
  const set = namedSet(nameTok, key);
  if (set.verdictMap) cur.fail(nameTok, `rules cannot add to verdict map '${set.name}' (the kernel takes no verdict data from rules)`);
  if ((set.flags & SetFlag.Constant) !== 0) cur.fail(nameTok, `set '${set.name}' is constant: rules cannot add to it`);
  if ((set.flags & SetFlag.Interval) !== 0) cur.fail(nameTok, `set '${set.name}' has flags interval: rules add only to hash sets (nft_set_rhash)`);
  if (timeoutTok !== null && (set.flags & SetFlag.Timeout) === 0) cur.fail(timeoutTok, `set '${set.name}' has no timeouts ('flags timeout' or a 'timeout')`);
  return { kind: 'dynset', op, key, set, timeout };
}

/** nft_dynset_eval (NFT_DYNSET_OP_ADD / _UPDATE): false when the rule ends here. */
export function dynsetEval(d: Dynset, rule: Rule, ctx: RuleContext): boolean {
  const regs = loadKey(d.key, ctx);
  if (regs === null) return false;
  const now = ctx.skb.time;
  const found = setLookup(d.set, regs, now);
  if (found === undefined) return dynsetNew(d, regs, rule, ctx);
  if (d.op === 'update' && found.expiry !== null) {
    found.expiry.expiration = now + (d.timeout || d.set.timeout);
    ctx.state.notes?.push(`SET @${d.set.name}: ${keyText(d.set.key, regs)} timeout restarted, expires in ${formatNftTime(found.expiry.expiration - now)} (rule "${rule.text}")`);
  }
  return true;
}

/**
 * nft_dynset_new: a new element, if the set has room (expired elements count until
 * nft_rhash_gc has collected them), with a timeout when the set has timeouts and one is set.
 */
function dynsetNew(d: Dynset, regs: readonly (number | string)[], rule: Rule, ctx: RuleContext): boolean {
  const set = d.set;
  const now = ctx.skb.time;
  collectExpired(set, now);
  const size = set.size || DEFAULT_SIZE;
  if (set.elements.length >= size) {
    ctx.state.notes?.push(`SET @${set.name}: full (${size} elements), the rule ends (rule "${rule.text}")`);
    return false;
  }
  const timeout = d.timeout || set.timeout;
  const expiry = (set.flags & SetFlag.Timeout) !== 0 && timeout > 0 ? { timeout, expiration: now + timeout } : null;
  const element: SetElement = { key: regs.slice(0, d.key.length).map((v) => ({ min: v, max: v })), verdict: null, data: null, expiry };
  set.elements.push(element);
  ctx.state.notes?.push(`SET @${set.name}: ${keyText(set.key, regs)} added${expiry ? `, expires in ${formatNftTime(timeout)}` : ''} (rule "${rule.text}")`);
  return true;
}

/** The key as nft prints an element: fields joined by ` . `. */
function keyText(types: readonly SetDatatype[], regs: readonly (number | string)[]): string {
  return types.map((t, i) => fieldText(t, regs[i]!)).join(' . ');
}

function fieldText(type: SetDatatype, v: number | string): string {
  if (typeof v === 'string') return `"${v}"`;
  if (type === 'ipv4_addr') return formatIpv4(v);
  return type === 'inet_proto' ? (L4PROTO_NAME[v] ?? String(v)) : String(v);
}
