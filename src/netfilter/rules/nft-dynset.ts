/**
 * `add @set { KEY [timeout T] }`, `update @set { … }` and `delete @set { … }`
 * (net/netfilter/nft_dynset.c on the hash backend's nft_rhash_update / nft_rhash_delete,
 * nft_set_hash.c): the key goes into the set unless a live element holds it already; `update`
 * also restarts a found element's timeout; `delete` takes it out. A new element times out after
 * T, else the set's timeout; a map's element takes its data from `: DATA` (constants or
 * expressions, loaded like the key); a statement in the braces (`limit rate 12/minute`) is
 * copied into each new element (nft_dynset_expr_setup) and run on the element found or added
 * (nft_set_elem_update_expr), where it may end the rule. When the set is full the rule ends
 * (NFT_BREAK). kube-proxy's nftables mode keeps session affinity this way:
 * `update @affinity-… { ip saddr }` in the endpoint chain, `ip saddr @affinity-… goto …` in the
 * service chain.
 */
import { formatIpv4 } from '../../packet/ipv4-addr.js';
import { formatIpv6 } from '../../packet/ipv6-addr.js';
import { ipv6FromRegister } from './nft-datatype.js';
import { L4PROTO_NAME } from '../constants.js';
import type { RuleContext } from './context.js';
import type { KeyExpr, Match, NftElementExpr, Rule } from './model.js';
import { loadKey, readKey } from './nft-concat.js';
import { NftLimit, readLimitSpec } from './nft-limit.js';
import { addElement, collectExpired, elementExprsPass, findElement, replaceElement, SetFlag, type NftSet, type SetDatatype, type SetElement } from './nft-set.js';
import { readElementCounter, readTime } from './nft-set-syntax.js';
import { formatNftTime } from './nft-time.js';
import type { NftCursor, Token } from './nft-tokens.js';

type Dynset = Extract<Match, { kind: 'dynset' }>;

/** nft_dynset_init gives a set bound without a size this one. */
const DEFAULT_SIZE = 0xffff;

/** Element statements natsim does not copy into elements, and why. */
const ELEMENT_STMT_UNMODELLED: Readonly<Record<string, string>> = {
  quota: "an element's own quota (nft_quota_clone) is not modelled",
  ct: "an element's ct count (nft_connlimit: connections counted per element) is not modelled",
  last: "an element's last-used stamp (nft_last) is not modelled",
};

/**
 * After `add`, `update` or `delete`: `@NAME { KEY [timeout T] [STATEMENT…] [: DATA] }`, refused
 * where nft_dynset_init refuses it. `namedSet` finds the set the rule's table declared, keyed as
 * KEY (null: any key); constants in KEY and DATA take the set's types.
 */
export function readDynset(cur: NftCursor, opTok: Token, namedSet: (tok: Token, key: readonly KeyExpr[] | null) => NftSet): Dynset {
  const op = opTok.text === 'add' ? 'add' : opTok.text === 'update' ? 'update' : 'delete';
  const nameTok = cur.next();
  if (!nameTok.text.startsWith('@')) cur.fail(nameTok, `expected '@SET' after '${op}' (natsim reads ${op} @SET { KEY [timeout T] [: DATA] })`);
  cur.expectPunct('{');
  const declared = namedSet(nameTok, null);
  const keyTok = cur.next();
  const key = readKey(cur, keyTok, () => declared.key);
  const set = namedSet(nameTok, key);
  const timeoutTok = cur.peek().text === 'timeout' ? cur.next() : null;
  const timeout = timeoutTok === null ? 0 : readTime(cur);
  const stmtTok = cur.peek();
  const { exprs, kinds } = readElementStatements(cur, set);
  let data: KeyExpr[] | null = null;
  if (cur.peek().text === ':') {
    const colon = cur.next();
    const types = set.data ?? cur.fail(colon, `'${set.name}' is a set: its elements hold no data`);
    data = readKey(cur, cur.next(), () => types);
    if (data.length !== types.length) cur.fail(colon, `'${set.name}' holds ${types.join(' . ')} data`);
  }
  if (!cur.peekPunct('}')) cur.fail(cur.peek(), `natsim reads ${op} @SET { KEY [timeout T] [limit …] [counter] [: DATA] }`);
  cur.next();
  if (set.verdictMap) cur.fail(nameTok, `rules cannot add to verdict map '${set.name}' (the kernel takes no verdict data from rules)`);
  if (set.data && data === null) cur.fail(nameTok, `'${set.name}' is a map: ${op} @${set.name} { KEY : DATA } gives its elements their data (nft_dynset_init: EINVAL)`);
  if ((set.flags & SetFlag.Constant) !== 0) cur.fail(nameTok, `set '${set.name}' is constant: rules cannot ${op === 'delete' ? 'delete from' : 'add to'} it`);
  if ((set.flags & SetFlag.Interval) !== 0) cur.fail(nameTok, `set '${set.name}' has flags interval: rules add only to hash sets (nft_set_rhash)`);
  if (timeoutTok !== null && (set.flags & SetFlag.Timeout) === 0) cur.fail(timeoutTok, `set '${set.name}' has no timeouts ('flags timeout' or a 'timeout')`);
  if (kinds.length > 0 && (set.flags & SetFlag.Eval) === 0) cur.fail(stmtTok, `statements in ${op} @${set.name} { … } need a set with 'flags dynamic' (nft_dynset_init: EINVAL)`);
  // nft_dynset_init: the rule's statements must be the ones the set declares (its elements' set->exprs)
  if (set.counter && kinds.length > 0 && kinds.join() !== 'counter') cur.fail(stmtTok, `set '${set.name}' declares counter: the statements in ${op} @${set.name} { … } must be that counter (nft_dynset_init: EOPNOTSUPP)`);
  return { kind: 'dynset', op, key, data, set, timeout, exprs };
}

/**
 * `[counter [packets N bytes M]] [limit rate …]` after a key: the statements each new element
 * gets that change what rules do, and the kinds of all of them in order.
 */
function readElementStatements(cur: NftCursor, set: NftSet): { exprs: NftElementExpr[]; kinds: string[] } {
  const exprs: NftElementExpr[] = [];
  const kinds: string[] = [];
  for (;;) {
    const word = cur.peek().text;
    if (word === 'limit' || word === 'counter') kinds.push(word);
    if (word === 'limit') {
      cur.next();
      exprs.push(new NftLimit(readLimitSpec(cur, null)));
    } else if (word === 'counter') {
      readElementCounter(cur);
    } else if (ELEMENT_STMT_UNMODELLED[word] !== undefined) {
      return cur.fail(cur.peek(), `${ELEMENT_STMT_UNMODELLED[word]} (set '${set.name}')`);
    } else return { exprs, kinds };
  }
}

/** nft_dynset_eval (NFT_DYNSET_OP_ADD / _UPDATE / _DELETE): false when the rule ends here. */
export function dynsetEval(d: Dynset, rule: Rule, ctx: RuleContext): boolean {
  const regs = loadKey(d.key, ctx);
  if (regs === null) return false;
  const now = ctx.skb.time;
  const found = findElement(d.set, regs, now);
  if (d.op === 'delete') {
    if (found !== undefined) dynsetDelete(d, found, regs, rule, ctx);
    return true;
  }
  if (found === undefined) {
    const added = dynsetNew(d, regs, rule, ctx);
    return added !== null && elementExprsPass(added, ctx, rule);
  }
  if (d.op === 'update' && found.expiry !== null) {
    found.expiry.expiration = now + (d.timeout || d.set.timeout);
    ctx.state.notes?.push(`SET @${d.set.name}: ${keyText(d.set.key, regs)} timeout restarted, expires in ${formatNftTime(found.expiry.expiration - now)} (rule "${rule.text}")`);
  }
  return elementExprsPass(found, ctx, rule);
}

/**
 * nft_rhash_delete: the element is marked dead (nft_set_elem_dead), which no lookup finds; it
 * counts against the set's size until nft_rhash_gc takes it out, as an expired one does.
 */
function dynsetDelete(d: Dynset, found: SetElement, regs: readonly (number | string)[], rule: Rule, ctx: RuleContext): void {
  const now = ctx.skb.time;
  replaceElement(d.set, found, { ...found, expiry: { timeout: found.expiry?.timeout ?? 0, expiration: now } });
  ctx.state.notes?.push(`SET @${d.set.name}: ${keyText(d.set.key, regs)} deleted (rule "${rule.text}")`);
}

/**
 * nft_dynset_new: a new element, if the set has room (expired elements count until
 * nft_rhash_gc has collected them), with a timeout when the set has timeouts and one is set,
 * a map's data loaded from DATA (a field that does not load ends the rule), and its own copy of
 * each statement; null when the rule ends.
 */
function dynsetNew(d: Dynset, regs: readonly (number | string)[], rule: Rule, ctx: RuleContext): SetElement | null {
  const set = d.set;
  const now = ctx.skb.time;
  const keyValues = regs.slice(0, d.key.length);
  const dataValues = d.data === null ? null : loadKey(d.data, ctx)?.slice(0, d.data.length);
  if (dataValues === undefined) return null;
  collectExpired(set, now);
  const size = set.size || DEFAULT_SIZE;
  if (set.elements.length >= size) {
    ctx.state.notes?.push(`SET @${set.name}: full (${size} elements), the rule ends (rule "${rule.text}")`);
    return null;
  }
  const timeout = d.timeout || set.timeout;
  const expiry = (set.flags & SetFlag.Timeout) !== 0 && timeout > 0 ? { timeout, expiration: now + timeout } : null;
  const exact = (v: number | string) => ({ min: v, max: v });
  const element: SetElement = { key: keyValues.map(exact), verdict: null, data: dataValues?.map(exact) ?? null, expiry, ...(d.exprs.length > 0 ? { exprs: d.exprs.map((x) => x.clone(now)) } : {}) };
  addElement(set, element);
  const dataShown = dataValues ? ` : ${keyText(set.data!, dataValues)}` : '';
  ctx.state.notes?.push(`SET @${set.name}: ${keyText(set.key, keyValues)}${dataShown} added${expiry ? `, expires in ${formatNftTime(timeout)}` : ''} (rule "${rule.text}")`);
  return element;
}

/** The key as nft prints an element: fields joined by ` . `. */
function keyText(types: readonly SetDatatype[], regs: readonly (number | string)[]): string {
  return types.map((t, i) => fieldText(t, regs[i]!)).join(' . ');
}

function fieldText(type: SetDatatype, v: number | string): string {
  // an IPv6 address is held as its register's hex (nft-datatype.ts), an ifname as its text
  if (type === 'ipv6_addr' && typeof v === 'string') return formatIpv6(ipv6FromRegister(v));
  if (typeof v === 'string') return `"${v}"`;
  if (type === 'ipv4_addr') return formatIpv4(v);
  return type === 'inet_proto' ? (L4PROTO_NAME[v] ?? String(v)) : String(v);
}
