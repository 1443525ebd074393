/**
 * Sets and maps as `nft list ruleset` prints them and `nft -f` reads them: declarations
 * (`set|map NAME { type A . B [: verdict] | typeof EXPR [. EXPR] [: verdict]; size N; flags …;
 * timeout T; gc-interval T; elements = { … } }`), element lists (`KEY [timeout T] [expires T]
 * [comment "…"] [: VERDICT]`, KEY the fields joined by ` . `), and the anonymous sets and maps
 * written in a rule. Timeouts are checked as nft_add_set_elem checks them; what natsim does not
 * evaluate (non-verdict data) is refused at its token.
 */
import type { VerdictAction } from './model.js';
import { datatypeOf, readKey } from './nft-concat.js';
import { readMaskFrom } from './nft-expr.js';
import { addElement, DEFAULT_GC_INTERVAL, SET_FLAG_BY_WORD, SetFlag, type ElementExpiry, type FieldRange, type NftSet, type SetDatatype, type SetElement } from './nft-set.js';
import { BITMASK_TYPES, DECLARABLE_DATATYPES, parseField } from './nft-datatype.js';
import { parseNftTime } from './nft-time.js';
import { describe, type NftCursor, type Token } from './nft-tokens.js';
import { parseU32 } from './syntax.js';

/** A declaration's properties until its elements (or its end) fix them. */
interface SetDecl {
  key: SetDatatype[] | null;
  verdictMap: boolean;
  data: SetDatatype[] | null;
  flags: number;
  timeout: number;
  size: number;
  gcInterval: number;
  counter: boolean;
}

/** After `set|map NAME`: the `{ … }` body. */
export function readSetDecl(cur: NftCursor, nameTok: Token, kind: 'set' | 'map'): NftSet {
  cur.expectPunct('{');
  const decl: SetDecl = { key: null, verdictMap: false, data: null, flags: 0, timeout: 0, size: 0, gcInterval: DEFAULT_GC_INTERVAL, counter: false };
  let set: NftSet | null = null;
  for (cur.skipSeparators(); !cur.peekPunct('}'); cur.skipSeparators()) {
    const prop = cur.next();
    if (set !== null && prop.text !== 'comment') cur.fail(prop, `'${prop.text}' must come before 'elements'`);
    switch (prop.text) {
      case 'type':
        decl.key = readDeclaredKey(cur);
        Object.assign(decl, readMapData(cur, kind, readDeclaredKey));
        break;
      case 'typeof':
        decl.key = readTypeofKey(cur);
        Object.assign(decl, readMapData(cur, kind, readTypeofKey));
        break;
      case 'flags':
        decl.flags |= readFlags(cur);
        break;
      case 'timeout':
        decl.timeout = readTime(cur);
        break;
      case 'gc-interval':
        decl.gcInterval = readTime(cur);
        if (decl.gcInterval === 0) cur.fail(prop, 'gc-interval must be more than 0');
        break;
      case 'size':
        decl.size = readCount(cur);
        break;
      case 'elements':
        set = declaredSet(cur, nameTok, prop, decl, kind);
        cur.expect('=');
        readElements(cur, set);
        break;
      case 'counter':
        decl.counter = true;
        while (!cur.atRuleEnd()) cur.next();
        break;
      case 'comment':
      case 'policy':
      case 'auto-merge':
        while (!cur.atRuleEnd()) cur.next();
        break;
      default:
        return cur.fail(prop, `unsupported ${kind} property '${prop.text}'`);
    }
  }
  const end = cur.next();
  return set ?? declaredSet(cur, nameTok, end, decl, kind);
}

/**
 * The set a declaration describes. A timeout implies `flags timeout` (nft's set_evaluate); no
 * backend keeps elements added by rules in intervals (only nft_set_rhash has ->update).
 */
function declaredSet(cur: NftCursor, nameTok: Token, at: Token, decl: SetDecl, kind: 'set' | 'map'): NftSet {
  if (decl.key === null) return at.text === 'elements' ? cur.fail(at, "'type' must come before 'elements'") : cur.fail(nameTok, `${kind} ${nameTok.text} has no type`);
  const flags = decl.timeout > 0 ? decl.flags | SetFlag.Timeout : decl.flags;
  if ((flags & SetFlag.Eval) !== 0 && (flags & SetFlag.Interval) !== 0) cur.fail(nameTok, `${kind} ${nameTok.text}: no set backend takes both 'dynamic' and 'interval' (nft_set_rhash, the one rules add to, holds single values)`);
  return { name: nameTok.text, key: decl.key, verdictMap: decl.verdictMap, data: decl.data, flags, timeout: decl.timeout, size: decl.size, gcInterval: decl.gcInterval, counter: decl.counter, elements: [], lastGc: 0, version: 0, index: null };
}

/** `A [. B]…` of declarable datatypes. */
function readDeclaredKey(cur: NftCursor): SetDatatype[] {
  const key: SetDatatype[] = [];
  do {
    if (key.length > 0) cur.next();
    const tok = cur.next();
    const type = DECLARABLE_DATATYPES.find((t) => t === tok.text) ?? cur.fail(tok, `set type '${tok.text}' is not modelled (${DECLARABLE_DATATYPES.join(', ')})`);
    key.push(type);
  } while (cur.peek().text === '.');
  return key;
}

/** `typeof EXPR [. EXPR]…`: the datatypes of the expressions, as nft derives them. */
function readTypeofKey(cur: NftCursor): SetDatatype[] {
  return readKey(cur, cur.next()).map(datatypeOf);
}

/**
 * A map's data after `:` — `verdict`, or datatypes (`[interval] ipv4_addr . inet_service`,
 * `mark`), read as the key is; a set has none. Maps of stateful objects are not modelled.
 */
function readMapData(cur: NftCursor, kind: 'set' | 'map', readTypes: (cur: NftCursor) => SetDatatype[]): { verdictMap: boolean; data: SetDatatype[] | null } {
  if (kind === 'set') {
    if (cur.peek().text === ':') cur.fail(cur.peek(), 'a set holds no data (declare a map)');
    return { verdictMap: false, data: null };
  }
  cur.expect(':');
  const tok = cur.peek();
  if (tok.text === 'verdict') {
    cur.next();
    return { verdictMap: true, data: null };
  }
  // `ct helper|timeout|expectation` names objects; `typeof … : ct mark|zone` is a value
  const objects = tok.text === 'ct' ? CT_OBJECTS.has(cur.peekAt(1).text) : OBJECT_DATA.has(tok.text);
  if (objects) cur.fail(tok, `maps of ${tok.text} objects are not modelled (natsim evaluates verdict maps and maps of values)`);
  if (tok.text === 'interval') cur.next();
  return { verdictMap: false, data: readTypes(cur) };
}

/** Map data that names stateful objects (nft_objref). */
const OBJECT_DATA = new Set(['counter', 'quota', 'limit', 'secmark', 'synproxy']);
/** The ct object types (nft_ct_helper_obj, nft_ct_timeout_obj, nft_ct_expect_obj). */
const CT_OBJECTS = new Set(['helper', 'timeout', 'expectation']);

/** `flags F[,F]…`: their SetFlag bits. */
function readFlags(cur: NftCursor): number {
  let flags = 0;
  do {
    if (cur.peekPunct(',')) cur.next();
    const tok = cur.next();
    const bit = SET_FLAG_BY_WORD[tok.text] ?? cur.fail(tok, `unknown set flag '${tok.text}' (${Object.keys(SET_FLAG_BY_WORD).join(', ')})`);
    flags |= bit;
  } while (cur.peekPunct(','));
  return flags;
}

/** A relative time (`3h`, `10800s`, `1d2h3m4s5ms`, `30`), in ns. */
export function readTime(cur: NftCursor): number {
  const tok = cur.next();
  return parseNftTime(tok.text) ?? cur.fail(tok, `bad time '${tok.text}' (nft writes e.g. 3h, 10800s, 1d2h3m4s5ms)`);
}

function readCount(cur: NftCursor): number {
  const tok = cur.next();
  return parseU32(tok.text) ?? cur.fail(tok, `expected a number, found ${describe(tok)}`);
}

/** `{ ELEMENT, … }`, or one element (a rule's `th dport 80`, `ip daddr . tcp dport 10.0.0.1 . 80`). */
export function readElements(cur: NftCursor, set: NftSet): void {
  if (!cur.peekPunct('{')) {
    addElement(set, readElement(cur, set, cur.next()));
    return;
  }
  const open = cur.next();
  // a `$set` inside braces brings its own braces: nft merges the inner set into the outer one
  let depth = 1;
  for (;;) {
    const tok = cur.next();
    if (tok.kind === 'eol' || (tok.kind === 'punct' && tok.text === ',')) continue;
    if (tok.kind === 'punct' && tok.text === '{') {
      depth++;
      continue;
    }
    if (tok.kind === 'punct' && tok.text === '}') {
      if (--depth === 0) break;
      continue;
    }
    if (tok.kind === 'end') cur.fail(tok, "missing '}'");
    addElement(set, readElement(cur, set, tok));
    const after = cur.peek();
    if (after.kind !== 'eol' && !(after.kind === 'punct' && (after.text === ',' || after.text === '}'))) {
      cur.fail(after, `unexpected ${describe(after)} in a ${set.verdictMap || set.data ? 'map' : 'set'} element (natsim reads KEY [timeout T] [expires T] [counter] [comment "…"]${set.verdictMap ? ' : VERDICT' : set.data ? ' : DATA' : ''})`);
    }
  }
  if (set.name === null && set.elements.length === 0) cur.fail(open, 'empty set');
}

function readElement(cur: NftCursor, set: NftSet, first: Token): SetElement {
  // `*`: the catch-all element (NFT_SET_ELEM_CATCHALL), which has no key
  const key = first.text === '*' ? [] : readFields(cur, set.key, first);
  const expiry = readElementOptions(cur, set);
  if (!set.verdictMap && !set.data) return { key, verdict: null, data: null, expiry };
  cur.expect(':');
  if (set.verdictMap) return { key, verdict: readVerdict(cur, cur.next()), data: null, expiry };
  return { key, verdict: null, data: readFields(cur, set.data!, cur.next()), expiry };
}

/** FIELD [. FIELD]… of the given datatypes, from its first token. */
function readFields(cur: NftCursor, types: readonly SetDatatype[], first: Token): FieldRange[] {
  const out: FieldRange[] = [];
  let tok = first;
  for (const type of types) {
    if (out.length > 0) {
      cur.expect('.');
      tok = cur.next();
    }
    let text = tok.text;
    // `syn | ack`, `(syn | ack )`: one bitmask value written with spaces
    if (BITMASK_TYPES.has(type)) text = readMaskFrom(cur, text);
    const lo = parseField(type, text) ?? cur.fail(tok, `bad ${type} '${text}'`);
    if (cur.peek().text === '-') {
      // `"21:51:23"-"23:51:23"`: a range of two quoted values
      cur.next();
      const hiTok = cur.next();
      const hi = parseField(type, hiTok.text) ?? cur.fail(hiTok, `bad ${type} '${hiTok.text}'`);
      if (hi.max < lo.min) cur.fail(hiTok, `the range ${tok.text}-${hiTok.text} is empty`);
      out.push({ min: lo.min, max: hi.max });
    } else out.push(lo);
  }
  return out;
}

/**
 * `[timeout T] [expires E] [comment "…"]` after a key, checked as nft_add_set_elem does: a
 * timeout needs a set with the timeout flag, which also gives its elements the set's timeout;
 * `expires` (the time left, as `nft list` prints it) needs a timeout and cannot exceed it.
 * The ruleset is loaded at virtual time 0, so the element runs out at E (or T).
 */
function readElementOptions(cur: NftCursor, set: NftSet): ElementExpiry | null {
  let timeout = (set.flags & SetFlag.Timeout) !== 0 ? set.timeout : 0;
  let expires: { tok: Token; ns: number } | null = null;
  for (;;) {
    const word = cur.peek().text;
    if (word === 'comment') {
      cur.next();
      cur.expectString();
    } else if (word === 'counter') {
      readElementCounter(cur);
    } else if (word === 'timeout' || word === 'expires') {
      const tok = cur.next();
      if ((set.flags & SetFlag.Timeout) === 0) cur.fail(tok, `'${word}' needs a set with timeouts (${set.name ?? 'an anonymous set'} has no 'flags timeout' and no 'timeout')`);
      const ns = readTime(cur);
      if (word === 'timeout') timeout = ns;
      else expires = { tok, ns };
    } else {
      break;
    }
  }
  if (expires !== null && timeout === 0) cur.fail(expires.tok, "'expires' needs a timeout (the element's or the set's)");
  if (expires !== null && expires.ns > timeout) cur.fail(expires.tok, "'expires' cannot exceed the element's timeout");
  return timeout === 0 ? null : { timeout, expiration: expires?.ns || timeout };
}

/** `counter [packets N bytes M]`, an element's counter extension (NFT_SET_EXT_EXPRESSIONS): it counts and changes nothing. */
export function readElementCounter(cur: NftCursor): void {
  cur.expect('counter');
  if (cur.peek().text !== 'packets') return;
  cur.next();
  cur.next();
  cur.expect('bytes');
  cur.next();
}

/** The verdicts without a chain, one object each: a million rules need not hold a million of them. */
const VERDICTS = {
  accept: { kind: 'accept' },
  drop: { kind: 'drop' },
  return: { kind: 'return' },
  continue: { kind: 'continue' },
} as const satisfies Record<string, VerdictAction>;

/** A verdict word (and its chain): a rule's last statement, or a verdict map's data. */
export function readVerdict(cur: NftCursor, tok: Token): VerdictAction {
  switch (tok.text) {
    case 'accept':
    case 'drop':
    case 'return':
    case 'continue':
      return VERDICTS[tok.text];
    case 'jump':
    case 'goto':
      return { kind: tok.text, chain: cur.word(cur.next()) };
    default:
      return cur.fail(tok, `unsupported verdict '${tok.text}' (accept, drop, return, continue, jump CHAIN, goto CHAIN)`);
  }
}
