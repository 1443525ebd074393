/**
 * Sets and maps as `nft list ruleset` prints them and `nft -f` reads them: declarations
 * (`set|map NAME { type A . B [: verdict]; flags …; elements = { … } }`), element lists
 * (`KEY [comment "…"] [: VERDICT]`, KEY the fields joined by ` . `), and the anonymous sets and
 * maps written in a rule. What natsim does not evaluate (typeof declarations, non-verdict
 * data, element timeouts) is refused at its token.
 */
import type { VerdictAction } from './model.js';
import { DECLARABLE_DATATYPES, parseField, SET_FLAGS, type FieldRange, type NftSet, type SetDatatype, type SetElement } from './nft-set.js';
import { describe, type NftCursor, type Token } from './nft-tokens.js';

/** After `set|map NAME`: the `{ … }` body. */
export function readSetDecl(cur: NftCursor, nameTok: Token, kind: 'set' | 'map'): NftSet {
  cur.expectPunct('{');
  let set: NftSet | null = null;
  for (cur.skipSeparators(); !cur.peekPunct('}'); cur.skipSeparators()) {
    const prop = cur.next();
    switch (prop.text) {
      case 'type':
        set = { name: nameTok.text, key: readDeclaredKey(cur), verdictMap: readMapData(cur, kind), elements: [] };
        break;
      case 'flags':
        readFlags(cur);
        break;
      case 'elements':
        if (!set) cur.fail(prop, "'type' must come before 'elements'");
        cur.expect('=');
        readElements(cur, set);
        break;
      case 'comment':
      case 'size':
      case 'policy':
      case 'timeout':
      case 'gc-interval':
      case 'counter':
      case 'auto-merge':
        while (!cur.atRuleEnd()) cur.next();
        break;
      case 'typeof':
        return cur.fail(prop, `'typeof' ${kind} declarations are not modelled (natsim reads 'type ${DECLARABLE_DATATYPES.join('|')} [. …]')`);
      default:
        return cur.fail(prop, `unsupported ${kind} property '${prop.text}'`);
    }
  }
  cur.next();
  return set ?? cur.fail(nameTok, `${kind} ${nameTok.text} has no type`);
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

/** A map's `: verdict` (the only data natsim evaluates); a set has none. */
function readMapData(cur: NftCursor, kind: 'set' | 'map'): boolean {
  if (kind === 'set') {
    if (cur.peek().text === ':') cur.fail(cur.peek(), 'a set holds no data (declare a map)');
    return false;
  }
  cur.expect(':');
  const tok = cur.next();
  if (tok.text !== 'verdict') cur.fail(tok, `map data type '${tok.text}' is not modelled (natsim evaluates verdict maps)`);
  return true;
}

/** `flags F[,F]…`: checked, not needed to evaluate (every backend matches the same elements). */
function readFlags(cur: NftCursor): void {
  do {
    if (cur.peekPunct(',')) cur.next();
    const tok = cur.next();
    if (!SET_FLAGS.includes(tok.text)) cur.fail(tok, `unknown set flag '${tok.text}' (${SET_FLAGS.join(', ')})`);
  } while (cur.peekPunct(','));
}

/** `{ ELEMENT, … }`, or one element (a rule's `th dport 80`, `ip daddr . tcp dport 10.0.0.1 . 80`). */
export function readElements(cur: NftCursor, set: NftSet): void {
  if (!cur.peekPunct('{')) {
    set.elements.push(readElement(cur, set, cur.next()));
    return;
  }
  const open = cur.next();
  for (;;) {
    const tok = cur.next();
    if (tok.kind === 'eol' || (tok.kind === 'punct' && tok.text === ',')) continue;
    if (tok.kind === 'punct' && tok.text === '}') break;
    if (tok.kind === 'end') cur.fail(tok, "missing '}'");
    set.elements.push(readElement(cur, set, tok));
    const after = cur.peek();
    if (after.kind !== 'eol' && !(after.kind === 'punct' && (after.text === ',' || after.text === '}'))) {
      cur.fail(after, `unexpected ${describe(after)} in a ${set.verdictMap ? 'map' : 'set'} element (natsim reads KEY [comment "…"]${set.verdictMap ? ' : VERDICT' : ''})`);
    }
  }
  if (set.name === null && set.elements.length === 0) cur.fail(open, 'empty set');
}

function readElement(cur: NftCursor, set: NftSet, first: Token): SetElement {
  const key: FieldRange[] = [];
  let tok = first;
  for (const type of set.key) {
    if (key.length > 0) {
      cur.expect('.');
      tok = cur.next();
    }
    key.push(parseField(type, tok.text) ?? cur.fail(tok, `bad ${type} '${tok.text}'`));
  }
  if (cur.peek().text === 'comment') {
    cur.next();
    cur.expectString();
  }
  if (!set.verdictMap) return { key, verdict: null };
  cur.expect(':');
  return { key, verdict: readVerdict(cur, cur.next()) };
}

/** A verdict word (and its chain): a rule's last statement, or a verdict map's data. */
export function readVerdict(cur: NftCursor, tok: Token): VerdictAction {
  switch (tok.text) {
    case 'accept':
    case 'drop':
    case 'return':
    case 'continue':
      return { kind: tok.text };
    case 'jump':
    case 'goto':
      return { kind: tok.text, chain: cur.word(cur.next()) };
    default:
      return cur.fail(tok, `unsupported verdict '${tok.text}' (accept, drop, return, continue, jump CHAIN, goto CHAIN)`);
  }
}
