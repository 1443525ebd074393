/**
 * Reads nft text — `nft list ruleset` output and `nft -f` scripts (`add table/chain/rule`,
 * `flush ruleset`) — into the rule model. What natsim does not evaluate is an error that names
 * the token, never a silently ignored rule.
 */
import { InputError } from '../../errors.js';
import { parsePrefix } from '../../packet/ipv4-addr.js';
import { HOOK_NFT_NAME, NFT_NAMED_PRIORITY, type Hook } from '../constants.js';
import { IPPROTO } from '../constants.js';
import { type Action, NO_EFFECTS, type NatMap, type BaseChainSpec, type Chain, type ChainType, type Effect, type KeyExpr, type MarkOwner, Match, type NftExpr, NFPROTO_IPV4, NFPROTO_IPV6, type NfProto, PortRange, Prefix, Rule, Ruleset, Table, TableFamily } from './model.js';
import { datatypeOf, readKey } from './nft-concat.js';
import { BITMASK_TYPES, ICMPX_CODE, parseField, type SetDatatype } from './nft-datatype.js';
import { readMaskText } from './nft-expr.js';
import { NftLimit, readLimitSpec } from './nft-limit.js';
import { readQuota } from './nft-quota.js';
import { expandScript } from './nft-script.js';
import { NftCtHelperSet, NftFlowOffload, NftMarkFromMap, NftNote, NftPayloadSet } from './nft-stmt.js';
import { NftMssSet } from './nft-tcpmss.js';
import { readDynset } from './nft-dynset.js';
import { addElement, anonymousSet, flushElements, keyTypeText, removeElementAt, type NftSet } from './nft-set.js';
import { readElements, readSetDecl, readVerdict } from './nft-set-syntax.js';
import { readLogStatement } from './nft-log-syntax.js';
import { NftCursor, type Token } from './nft-tokens.js';
import { ADDR_TYPE_NAME, NAT_FLAG_BY_NFT_WORD, parseNatTarget, parsePortRange, parseProto, parseU32 } from './syntax.js';

const NFT_ICMP_TYPE: Readonly<Record<string, number>> = { 'echo-reply': 0, 'destination-unreachable': 3, 'source-quench': 4, redirect: 5, 'echo-request': 8, 'time-exceeded': 11, 'parameter-problem': 12, 'timestamp-request': 13, 'timestamp-reply': 14 };
/** nft's icmp reject type names (icmp_code_tbl) and their destination unreachable codes. */
const NFT_REJECT_CODE: Readonly<Record<string, number>> = { 'net-unreachable': 0, 'host-unreachable': 1, 'prot-unreachable': 2, 'port-unreachable': 3, 'net-prohibited': 9, 'host-prohibited': 10, 'admin-prohibited': 13 };

/** Stateful object types a table may declare and `delete` may name. */
const OBJECT_TYPES = new Set(['counter', 'quota', 'limit', 'ct', 'secmark', 'synproxy']);

/** nf_tables statements natsim does not model, and why. */
const UNMODELLED_STATEMENT: Readonly<Record<string, string>> = {
  tproxy: 'tproxy (transparent proxying to a local socket, nft_tproxy) is not modelled',
  synproxy: 'synproxy (SYN cookies answered by the firewall, nft_synproxy) is not modelled',
  osf: 'osf (passive OS fingerprinting, nft_osf) is not modelled',
  socket: 'socket (a lookup of the local socket, nft_socket) is not modelled',
  dup: 'dup (packet duplication to another host, nft_dup) is not modelled',
  fwd: 'fwd (forwarding from the ingress hook, nft_fwd) is not modelled',
  xt: 'xt (an x_tables extension that nft cannot translate) is not modelled',
  set: "a bare 'set' statement is not nft syntax here (meta|ct KEY set VALUE, or add|update @SET)",
};

/** nft's relational operators (parser_bison.y relational_op). */
const RELATIONS: Readonly<Record<string, '==' | '!=' | '<' | '>' | '<=' | '>='>> = { '==': '==', eq: '==', '!=': '!=', ne: '!=', '<': '<', lt: '<', '>': '>', gt: '>', '<=': '<=', le: '<=', '>=': '>=', ge: '>=' };
const CT_UNMODELLED: Readonly<Record<string, string>> = {
  timeout: 'per-connection timeout policies would change how long entries live',
  expectation: 'expectations created by rules are not modelled',
  zone: 'conntrack zones are not modelled: natsim keeps every entry in zone 0',
  secmark: 'SELinux labels are not modelled',
  label: 'conntrack labels are not modelled',
  count: 'connection counting (nft_connlimit) is not modelled',
};

/** nft_reject_icmp_code: NFT_REJECT_ICMPX_NO_ROUTE, _PORT_UNREACH, _HOST_UNREACH, _ADMIN_PROHIBITED as ICMP codes. */
const ICMPX_TO_ICMP: readonly number[] = [0, 3, 1, 13];
/** nft's icmpv6 reject codes (icmpv6_code_tbl): ICMPv6 destination unreachable codes. */
const ICMPV6_REJECT: Readonly<Record<string, number>> = { 'no-route': 0, 'admin-prohibited': 1, 'addr-unreachable': 3, 'port-unreachable': 4, 'policy-fail': 5, 'reject-route': 6 };
/** nft_reject_icmpv6_code: NFT_REJECT_ICMPX_NO_ROUTE, _PORT_UNREACH, _HOST_UNREACH, _ADMIN_PROHIBITED as ICMPv6 codes. */
const ICMPX_TO_ICMPV6: readonly number[] = [0, 4, 3, 1];
/** What a plain `reject` answers (nft_reject_inet_eval's default): port unreachable, in each family's code. */
const PORT_UNREACHABLE = { icmpCode: 3, icmpv6Code: 4 } as const;

/**
 * nft's `meta nfproto ipv4|ipv6` dependency of a family's statement in an inet table (in an ip
 * or ip6 table it always holds): a packet of the other family breaks the rule there.
 */
function nfprotoDependency(nfproto: NfProto): Match {
  return { kind: 'lookup', negate: false, key: [{ kind: 'meta', key: 'nfproto' }], set: singleValue('nf_proto', nfproto) };
}

/** The family a key's fields are tied to (ip saddr, ip6 daddr, icmpv6 type, …); null for none. */
function keyFamily(key: readonly KeyExpr[]): NfProto | null {
  for (const k of key) {
    const of = k.kind === 'bitwise' || k.kind === 'mask128' ? k.of : k;
    if (of.kind === 'saddr' || of.kind === 'daddr') return NFPROTO_IPV4;
    if (of.kind === 'payload' && of.nfproto !== null) return of.nfproto;
    if (of.kind === 'exthdr6') return NFPROTO_IPV6;
  }
  return null;
}

/** A set of one value. */
function singleValue(type: SetDatatype, v: number): NftSet {
  const set = anonymousSet([type], false);
  addElement(set, { key: [{ min: v, max: v }], verdict: null, data: null, expiry: null });
  return set;
}

/** Words that start a key expression where a NAT target could also be an address. */
const MAP_KEY_WORDS = new Set(['ip', 'ip6', 'tcp', 'udp', 'th', 'sctp', 'meta', 'ct', 'numgen', 'iifname', 'oifname', 'iif', 'oif', 'mark']);

const FAMILIES = new Set<TableFamily>(['ip', 'inet', 'ip6', 'arp', 'bridge', 'netdev']);
/** Families whose hooks never see an IP packet on a routed path: their tables are skipped. */
const NOT_IP = new Set<TableFamily>(['arp']);
/** The one family the hooks of an ip or ip6 table see. */
const TABLE_NFPROTO: Partial<Record<TableFamily, NfProto>> = { ip: NFPROTO_IPV4, ip6: NFPROTO_IPV6 };
const NFPROTO_WORD: Readonly<Record<NfProto, string>> = { 2: 'ip', 10: 'ip6' };
const CHAIN_TYPES = new Set<ChainType>(['filter', 'nat', 'route']);

/** `onRuleError`: report a rule's error and skip to the end of its line (natsim lint). */
export function parseNft(text: string, file: string, onRuleError: ((e: InputError) => void) | null = null): Ruleset {
  return new NftParser(expandScript(text, file), file, onRuleError).parse();
}

class NftParser extends NftCursor {
  private readonly tables = new Map<string, Table>();
  /** Named sets and maps by "family table name" (one namespace, as in nf_tables). */
  private readonly sets = new Map<string, NftSet>();
  /** The table whose body or rule is being read, for resolving @NAME. */
  private currentTable: Table | null = null;
  /** Named stateful objects by "family table type name": their shared state (null: nothing to evaluate). */
  private readonly objects = new Map<string, NftExpr | null>();
  /** Flowtables by "family table name". */
  private readonly flowtables = new Set<string>();
  /** Chain bindings (`jump { … }`) made so far, for their names (nft's __chain%d). */
  private bindings = 0;

  constructor(
    tokens: readonly Token[],
    file: string,
    private readonly onRuleError: ((e: InputError) => void) | null,
  ) {
    super(tokens, file);
  }

  parse(): Ruleset {
    for (this.skipSeparators(); this.peek().kind !== 'end'; this.skipSeparators()) this.guarded(() => this.command(this.next()));
    return { tables: [...this.tables.values()] };
  }

  /**
   * Runs one command or table element; collecting errors (lint), an error is reported and the
   * rest of the element skipped, braces balanced, so that every refusal is listed.
   */
  private guarded(read: () => void): void {
    const start = this.pos;
    if (!this.onRuleError) return read();
    try {
      read();
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      this.onRuleError(e);
      this.skipFrom(start);
    }
  }

  /** From token `start` to the end of its element: its line, or its balanced `{ … }` block. */
  private skipFrom(start: number): void {
    let depth = 0;
    for (let i = start; i < this.pos; i++) {
      const t = this.tokens[i]!;
      if (t.kind === 'punct' && t.text === '{') depth++;
      else if (t.kind === 'punct' && t.text === '}') depth--;
    }
    while (this.peek().kind !== 'end' && (depth > 0 || !this.atRuleEnd())) {
      const t = this.next();
      if (t.kind === 'punct' && t.text === '{') depth++;
      else if (t.kind === 'punct' && t.text === '}') depth--;
    }
    // a closing brace that ended the element belongs to the block around it (unless it was the element)
    if (depth < 0 && this.pos - 1 > start) this.pos--;
  }

  private command(tok: Token): void {
    switch (this.word(tok)) {
      case 'table':
        return this.tableCommand();
      case 'flush':
        return this.flushCommand();
      case 'add':
      case 'create':
        return this.addCommand();
      case 'insert':
        this.expect('rule');
        return this.ruleCommand(true);
      case 'delete':
      case 'destroy':
        return this.deleteCommand(tok);
      default:
        this.fail(tok, `unsupported nft command '${tok.text}' (natsim reads table blocks, add, insert, delete, flush and define/include)`);
    }
  }

  /** flush ruleset | table T | chain T C | set|map T S (nft's do_command_flush). */
  private flushCommand(): void {
    const what = this.next();
    switch (what.text) {
      case 'ruleset':
        this.tables.clear();
        this.sets.clear();
        return;
      case 'table': {
        // flushes the rules of every chain; chains, sets and objects stay
        const table = this.tableRef(false);
        if (table) for (const chain of table.chains.values()) chain.rules.length = 0;
        return;
      }
      case 'chain': {
        const table = this.tableRef(false);
        const nameTok = this.next();
        if (table) this.chainOf(table, nameTok).rules.length = 0;
        return;
      }
      case 'set':
      case 'map': {
        const table = this.tableRef(false);
        const nameTok = this.next();
        if (table) flushElements(this.setOf(table, nameTok));
        return;
      }
      default:
        this.fail(what, `unsupported flush '${what.text}' (ruleset, table, chain, set, map)`);
    }
  }

  /** delete table T | chain T C | set|map T S | element T S { … } | OBJECT T NAME. */
  private deleteCommand(verb: Token): void {
    const what = this.next();
    switch (what.text) {
      case 'table': {
        const table = this.tableRef(false);
        if (table) this.tables.delete(`${table.family} ${table.name}`);
        return;
      }
      case 'chain': {
        const table = this.tableRef(false);
        const nameTok = this.next();
        if (table) {
          this.chainOf(table, nameTok);
          table.chains.delete(nameTok.text);
        }
        return;
      }
      case 'set':
      case 'map': {
        const table = this.tableRef(false);
        const nameTok = this.next();
        if (table) {
          this.setOf(table, nameTok);
          this.sets.delete(`${table.family} ${table.name} ${nameTok.text}`);
        }
        return;
      }
      case 'element': {
        const table = this.tableRef(false);
        const nameTok = this.next();
        if (!table) return this.skipElement(this.next());
        const set = this.setOf(table, nameTok);
        // a map's elements are named by their keys, with their data or without (`{ KEY }`, `{ * }`)
        const withData = this.elementsHoldData();
        const gone = anonymousSet(set.key, withData && set.verdictMap, withData ? set.data : null);
        readElements(this, gone);
        for (const e of gone.elements) {
          const at = set.elements.findIndex((x) => x.key.length === e.key.length && x.key.every((f, i) => f.min === e.key[i]!.min && f.max === e.key[i]!.max));
          if (at < 0) this.fail(nameTok, `${verb.text} element: '${nameTok.text}' holds no such element`);
          removeElementAt(set, at);
        }
        return;
      }
      case 'rule':
        return this.fail(what, `${verb.text} rule needs a rule handle, which natsim does not number for nft text (list the ruleset as it ends up)`);
      default:
        if (OBJECT_TYPES.has(what.text)) {
          this.tableRef(false);
          this.next();
          return;
        }
        this.fail(what, `unsupported ${verb.text} '${what.text}'`);
    }
  }

  /** Whether the `{ … }` element list ahead has a `:` (elements written with their data). */
  private elementsHoldData(): boolean {
    for (let i = 0, depth = 0; ; i++) {
      const t = this.peekAt(i);
      if (t.kind === 'end') return false;
      if (t.kind === 'punct' && t.text === '{') depth++;
      else if (t.kind === 'punct' && t.text === '}' && --depth <= 0) return false;
      else if (t.text === ':') return true;
    }
  }

  private chainOf(table: Table, nameTok: Token): Chain {
    return table.chains.get(this.word(nameTok)) ?? this.fail(nameTok, `no chain '${nameTok.text}' in table ${table.family} ${table.name}`);
  }

  private setOf(table: Table, nameTok: Token): NftSet {
    return this.sets.get(`${table.family} ${table.name} ${this.word(nameTok)}`) ?? this.fail(nameTok, `no set '${nameTok.text}' in table ${table.family} ${table.name}`);
  }

  private addCommand(): void {
    const what = this.next();
    const kind = this.word(what);
    switch (kind) {
      case 'table':
        return this.tableCommand();
      case 'chain': {
        const table = this.tableRef(true);
        if (table) this.chainDecl(table);
        else this.skipElement(this.next());
        return;
      }
      case 'rule':
        return this.ruleCommand(false);
      case 'set':
      case 'map': {
        const table = this.tableRef(false);
        if (table) this.setDecl(table, kind);
        else this.skipElement(this.next());
        return;
      }
      case 'element': {
        const table = this.tableRef(false);
        if (table) this.addElements(table, this.next());
        else this.skipElement(this.next());
        return;
      }
      default: {
        if (!OBJECT_TYPES.has(kind) && kind !== 'flowtable') this.fail(what, `cannot add '${what.text}' (natsim reads tables, chains, rules, sets, maps, their elements, flowtables and stateful objects)`);
        const table = this.tableRef(false);
        if (table) this.tableElement(table, what);
        else this.skipElement(this.next());
      }
    }
  }

  /** table [FAMILY] NAME [{ … }] */
  private tableCommand(): void {
    const table = this.tableRef(true);
    if (this.peekPunct('{')) this.tableBody(table);
  }

  /** add|insert rule [FAMILY] TABLE CHAIN STATEMENTS: the table and chain must exist already. */
  private ruleCommand(insert: boolean): void {
    const table = this.tableRef(false);
    const nameTok = this.next();
    if (table === null) return this.skipElement(nameTok);
    const chain = table.chains.get(this.word(nameTok));
    if (!chain) this.fail(nameTok, `no chain '${nameTok.text}' in table ${table.family} ${table.name}`);
    this.currentTable = table;
    const rule = this.ruleOrSkip();
    if (rule === null) return;
    if (insert) chain.rules.unshift(rule);
    else chain.rules.push(rule);
  }

  /**
   * [FAMILY] NAME (family ip when left out). Returns null for a family whose hooks never see
   * an IP packet; `create` false means the table must exist already.
   */
  private tableRef(create: boolean): Table | null {
    let family: TableFamily = 'ip';
    let nameTok = this.next();
    if (FAMILIES.has(nameTok.text as TableFamily) && this.peek().kind === 'word') {
      family = nameTok.text as TableFamily;
      if (family === 'bridge' || family === 'netdev') this.fail(nameTok, `family ${family} is not modelled by natsim (its hooks see IPv4 packets before routing)`);
      nameTok = this.next();
    }
    const name = this.word(nameTok);
    if (NOT_IP.has(family)) return null;
    const key = `${family} ${name}`;
    let table = this.tables.get(key);
    if (!table) {
      if (!create) this.fail(nameTok, `no table ${key}`);
      table = { family, name, chains: new Map(), source: 'nft' };
      this.tables.set(key, table);
    }
    return table;
  }

  private tableBody(table: Table | null): void {
    this.expectPunct('{');
    for (this.skipSeparators(); !this.peekPunct('}'); this.skipSeparators()) {
      if (this.peek().kind === 'end') this.fail(this.peek(), "missing '}' at the end of the table");
      this.guarded(() => {
        const tok = this.next();
        if (table === null) this.skipElement(tok);
        else this.tableElement(table, tok);
      });
    }
    this.next();
  }

  /** One element of a table block (or of an `add` command). */
  private tableElement(table: Table, tok: Token): void {
    switch (this.word(tok)) {
      case 'chain':
        return this.chainDecl(table);
      case 'set':
      case 'map':
        return this.setDecl(table, tok.text as 'set' | 'map');
      case 'comment':
        return this.expectString();
      case 'flags': {
        const flag = this.next();
        if (flag.text === 'dormant') this.fail(flag, 'a dormant table runs no chains; natsim does not model table flags that stop it (drop the flag, or the table)');
        return;
      }
      case 'flowtable':
        return this.flowtableDecl(table);
      case 'counter':
      case 'quota':
      case 'limit':
      case 'ct':
      case 'secmark':
      case 'synproxy':
        return this.objectDecl(table, tok);
      default:
        this.fail(tok, `unsupported table element '${tok.text}' (natsim reads chains, sets, maps, flowtables, counter, quota, limit and ct helper objects)`);
    }
  }

  /** flowtable NAME { hook ingress priority P; devices = { … }; [counter;] [flags offload;] } */
  private flowtableDecl(table: Table): void {
    const nameTok = this.next();
    this.flowtables.add(`${table.family} ${table.name} ${this.word(nameTok)}`);
    if (this.peekPunct('{')) this.skipElement(this.next());
  }

  /**
   * A named stateful object: counter, quota, limit (evaluated where a rule names it), ct helper
   * (assigned by `ct helper set`, not modelled itself), ct timeout / expectation, secmark, synproxy
   * (declared; a rule that uses them is refused there).
   */
  private objectDecl(table: Table, typeTok: Token): void {
    let type = typeTok.text;
    if (type === 'ct') {
      const sub = this.next();
      if (sub.text !== 'helper' && sub.text !== 'timeout' && sub.text !== 'expectation') this.fail(sub, `unsupported ct object '${sub.text}' (helper, timeout, expectation)`);
      type = `ct ${sub.text}`;
    }
    const nameTok = this.next();
    const name = this.word(nameTok);
    const key = `${table.family} ${table.name} ${type} ${name}`;
    if (!this.peekPunct('{')) {
      this.objects.set(key, null);
      return;
    }
    this.next();
    let obj: NftExpr | null = null;
    for (this.skipSeparators(); !this.peekPunct('}'); this.skipSeparators()) {
      const prop = this.next();
      if (prop.kind === 'end') this.fail(prop, `${type} ${name} is missing its '}'`);
      if (type === 'limit' && prop.text === 'rate') {
        this.pos--;
        obj = new NftLimit(readLimitSpec(this, `limit name "${name}"`));
      } else if (type === 'quota' && /^(over|until|\d)/.test(prop.text)) {
        this.pos--;
        obj = readQuota(this, `quota name "${name}"`);
      } else {
        while (!this.atRuleEnd()) if (this.next().text === '{') this.skipElement(this.tokens[this.pos - 1]!);
      }
    }
    this.next();
    this.objects.set(key, obj);
  }

  /** `TYPE name "NAME"` in a rule: the table's object, or an error naming what is missing. */
  private objectRef(type: string): NftExpr | null {
    this.expect('name');
    const nameTok = this.next();
    if (nameTok.kind !== 'string' && nameTok.kind !== 'word') this.fail(nameTok, `${type} name takes the object's name (a map of ${type} objects is not modelled)`);
    const table = this.currentTable;
    const key = table ? `${table.family} ${table.name} ${type} ${nameTok.text}` : '';
    if (!this.objects.has(key)) this.fail(nameTok, `no ${type} object '${nameTok.text}' in this table (declare it before the rules that use it)`);
    return this.objects.get(key) ?? null;
  }

  /** chain NAME [{ [type … hook … priority …; [policy …;]] RULES }] */
  private chainDecl(table: Table): void {
    this.currentTable = table;
    const nameTok = this.next();
    const name = this.word(nameTok);
    let chain = table.chains.get(name);
    if (!chain) table.chains.set(name, (chain = { name, rules: [] }));
    if (!this.peekPunct('{')) return;
    this.next();
    this.skipSeparators();
    if (this.peek().kind === 'word' && this.peek().text === 'type') {
      const typeTok = this.next();
      if (chain.base) this.fail(typeTok, `chain ${name} already has a hook`);
      table.chains.set(name, (chain = { ...chain, base: this.baseChain() }));
    }
    this.chainRules(chain);
  }

  /** A chain's rules up to its closing brace (which is read). */
  private chainRules(chain: Chain): void {
    for (this.skipSeparators(); !this.peekPunct('}'); this.skipSeparators()) {
      if (this.peek().kind === 'end') this.fail(this.peek(), `chain ${chain.name} is missing its '}'`);
      if (this.peek().kind === 'word' && this.peek().text === 'comment') {
        this.next();
        this.expectString();
      } else {
        const rule = this.ruleOrSkip();
        if (rule) chain.rules.push(rule);
      }
    }
    this.next();
  }

  /** type TYPE hook HOOK priority PRIO [; policy POLICY] (the `type` word already read). */
  private baseChain(): BaseChainSpec {
    const typeTok = this.next();
    if (!CHAIN_TYPES.has(typeTok.text as ChainType)) this.fail(typeTok, `unknown chain type '${typeTok.text}' (filter, nat or route)`);
    const type = typeTok.text as ChainType;
    this.expect('hook');
    const hookTok = this.next();
    const hook = HOOK_NFT_NAME.indexOf(hookTok.text);
    if (hook < 0) this.fail(hookTok, `unknown hook '${hookTok.text}' (prerouting, input, forward, output or postrouting)`);
    if (type === 'nat' && hook === 2) this.fail(hookTok, 'nat chains cannot hook forward (the kernel has no NAT op there)');
    if (this.peek().text === 'device') this.fail(this.peek(), "'device' belongs to netdev chains and flowtables, which natsim does not model");
    this.expect('priority');
    const priority = this.priority();
    let policy: BaseChainSpec['policy'] = 'accept';
    this.skipSeparators();
    if (this.peek().kind === 'word' && this.peek().text === 'policy') {
      this.next();
      const tok = this.next();
      if (tok.text !== 'accept' && tok.text !== 'drop') this.fail(tok, "policy must be 'accept' or 'drop'");
      policy = tok.text;
    }
    return { type, hook: hook as Hook, priority, policy };
  }

  /** A number, a named priority, or NAME +/- N (nft accepts "srcnat + 10" and "srcnat+10"). */
  private priority(): number {
    const first = this.peek();
    let text = '';
    while (this.peek().kind === 'word') text += this.next().text;
    const m = /^(-?\d+)$|^([a-z]+)(?:([+-])(\d+))?$/.exec(text);
    if (m?.[1] !== undefined) return Number(m[1]);
    const named = m?.[2] === undefined ? undefined : NFT_NAMED_PRIORITY[m[2]];
    if (named === undefined) this.fail(first, `bad priority '${text}' (a number, or raw, mangle, dstnat, filter, security, srcnat with an optional +/- N)`);
    return named + (m![4] === undefined ? 0 : Number(m![4]) * (m![3] === '-' ? -1 : 1));
  }

  /** set|map NAME { … } */
  private setDecl(table: Table, kind: 'set' | 'map'): void {
    const nameTok = this.next();
    this.word(nameTok);
    this.sets.set(`${table.family} ${table.name} ${nameTok.text}`, readSetDecl(this, nameTok, kind));
  }

  /** add element [FAMILY] TABLE SET { … } */
  private addElements(table: Table, nameTok: Token): void {
    const set = this.sets.get(`${table.family} ${table.name} ${this.word(nameTok)}`) ?? this.fail(nameTok, `no set '${nameTok.text}' in table ${table.family} ${table.name}`);
    readElements(this, set);
  }

  /** The key types of the `@SET` the key being read is looked up in (`ip saddr . "lo" @s`), or null. */
  private setTypesAhead(): readonly SetDatatype[] | null {
    for (let i = this.pos; i < this.tokens.length; i++) {
      const t = this.tokens[i]!;
      if (t.kind === 'eol' || t.kind === 'end' || (t.kind === 'punct' && t.text !== ',')) return null;
      // @nh,OFFSET,LENGTH is a raw payload, not a set
      if (t.text.startsWith('@') && this.tokens[i + 1]?.text !== ',') return this.namedSet(t, null).key;
    }
    return null;
  }

  /** `@NAME` in a rule: the named set or map of the table being read, keyed as the rule's key (null: not checked). */
  private namedSet(tok: Token, key: readonly KeyExpr[] | null): NftSet {
    const table = this.currentTable;
    const set = table ? this.sets.get(`${table.family} ${table.name} ${tok.text.slice(1)}`) : undefined;
    if (!set) return this.fail(tok, `no set '${tok.text.slice(1)}' in this table (define it before the rules that use it)`);
    if (key === null) return set;
    const want = keyTypeText(key.map(datatypeOf));
    if (keyTypeText(set.key) !== want) return this.fail(tok, `set '${tok.text.slice(1)}' holds ${keyTypeText(set.key)}, not ${want}`);
    return set;
  }

  /** A rule, or (collecting errors) null after reporting its error and skipping its line. */
  private ruleOrSkip(): Rule | null {
    if (!this.onRuleError) return this.rule();
    try {
      return this.rule();
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      this.onRuleError(e);
      while (this.peek().kind !== 'eol' && this.peek().kind !== 'end') this.next();
      return null;
    }
  }

  /** One rule: statements up to the end of the line, `;` or the chain's closing brace. */
  private rule(): Rule {
    const start = this.pos;
    const first = this.peek();
    const matches: Match[] = [];
    const effects: Effect[] = [];
    let action: Action | null = null;
    while (!this.atRuleEnd()) {
      const tok = this.next();
      if (action !== null && tok.text !== 'comment') this.fail(tok, `nothing may follow a verdict or NAT statement (found '${tok.text}')`);
      action = this.statement(tok, matches, effects) ?? action;
    }
    const text = this.tokens.slice(start, this.pos).map((t) => (t.kind === 'string' ? `"${t.text}"` : t.text)).join(' ');
    // arrays of their exact length (one grown by push keeps room for 17): a ruleset's rules are held whole
    return { matches: matches.slice(), effects: effects.length === 0 ? NO_EFFECTS : effects.slice(), action, place: { file: first.file, line: first.line, col: first.col }, text };
  }

  /**
   * Reads one statement: a match joins `matches`, a statement that lets evaluation go on
   * (mark set, log, notrack) joins `effects`, a verdict or NAT statement is returned.
   */
  private statement(tok: Token, matches: Match[], effects: Effect[]): Action | null {
    const word = this.word(tok);
    switch (word) {
      case 'tcp':
      case 'ip':
      case 'ip6':
      case 'icmpv6':
      case 'th':
      case 'udp':
      case 'sctp':
      case 'udplite':
      case 'numgen':
      case '@nh':
      case '@th':
      case '@ih':
      case 'rt':
        return this.keyStatement(tok, matches);
      case 'meta':
        return this.metaStatement(tok, matches, effects);
      case 'mark':
        this.markStatement(matches, effects, 'packet');
        return null;
      case 'ct':
        return this.ctStatement(tok, matches, effects);
      case 'fib':
        // `fib saddr|daddr type …` is the address type; the route's device is a key (nft-fib.ts)
        if (this.peekAt(1).text !== 'type') return this.keyStatement(tok, matches);
        matches.push(this.fibMatch());
        return null;
      case 'icmp':
        if (this.peek().text !== 'type' || this.tokens[this.pos + 1]?.kind !== 'word' || !(this.tokens[this.pos + 1]!.text in NFT_ICMP_TYPE) || this.tokens[this.pos + 2]?.text === 'vmap') return this.keyStatement(tok, matches);
        this.checkFamily(tok, NFPROTO_IPV4);
        matches.push(this.icmpMatch());
        return null;
      case 'add':
      case 'update':
      case 'delete':
        matches.push(readDynset(this, tok, (t, key) => this.namedSet(t, key)));
        return null;
      case 'log':
        effects.push(readLogStatement(this));
        return null;
      case 'notrack':
        effects.push({ kind: 'notrack' });
        return null;
      case 'reject':
        return this.rejectStatement(matches);
      case 'iifname':
      case 'oifname':
      case 'iif':
      case 'oif':
        if (this.operandIsSetOrMap()) return this.keyStatement(tok, matches);
        matches.push(this.ifaceMatch(tok.text));
        return null;
      case 'counter':
        this.counter();
        return null;
      case 'limit':
        matches.push({ kind: 'nft', expr: this.peek().text === 'name' ? (this.objectRef('limit') ?? this.fail(tok, 'limit object without a rate')) : new NftLimit(readLimitSpec(this, null)) });
        return null;
      case 'quota':
        matches.push({ kind: 'nft', expr: this.peek().text === 'name' ? (this.objectRef('quota') ?? this.fail(tok, 'quota object without a quota')) : readQuota(this, null) });
        return null;
      case 'flow':
        matches.push({ kind: 'nft', expr: this.flowStatement() });
        return null;
      case 'queue':
        return this.queueStatement();
      case 'comment':
        this.expectString();
        return null;
      case 'jump':
      case 'goto':
        if (this.peekPunct('{')) return { kind: word, chain: this.chainBinding() };
        return readVerdict(this, tok);
      case 'accept':
      case 'drop':
      case 'return':
      case 'continue':
        return readVerdict(this, tok);
      case 'masquerade':
      case 'snat':
      case 'dnat':
      case 'redirect':
        return this.natStatement(word, matches);
      default:
        return this.fail(tok, UNMODELLED_STATEMENT[word] ?? `unsupported nft statement '${tok.text}'`);
    }
  }

  /** `jump { RULES }` (a chain binding): an anonymous chain, named as nft names it (__chain%d). */
  private chainBinding(): string {
    const table = this.currentTable!;
    this.next();
    const name = `__chain${this.bindings++}`;
    const chain: Chain = { name, rules: [] };
    table.chains.set(name, chain);
    this.chainRules(chain);
    this.currentTable = table;
    return name;
  }

  /** `flow add|offload @FT`. */
  private flowStatement(): NftExpr {
    const op = this.next();
    if (op.text !== 'add' && op.text !== 'offload') this.fail(op, "expected 'flow add @FLOWTABLE'");
    const ft = this.next();
    const table = this.currentTable;
    if (!ft.text.startsWith('@') || !table || !this.flowtables.has(`${table.family} ${table.name} ${ft.text.slice(1)}`)) this.fail(ft, `no flowtable '${ft.text.replace(/^@/, '')}' in this table`);
    return new NftFlowOffload(ft.text.slice(1));
  }

  /** `queue [flags bypass[,fanout]] [num N[-M] | to N[-M]] [bypass] [fanout]`. */
  private queueStatement(): Action {
    let bypass = false;
    let num = 0;
    while (!this.atRuleEnd() && this.peek().text !== 'comment') {
      const t = this.next();
      if (t.text === 'flags') {
        do {
          if (this.peekPunct(',')) this.next();
          const f = this.next();
          if (f.text === 'bypass') bypass = true;
          else if (f.text !== 'fanout') this.fail(f, `unknown queue flag '${f.text}' (bypass, fanout)`);
        } while (this.peekPunct(','));
      } else if (t.text === 'num' || t.text === 'to') {
        const n = this.next();
        if (n.text === 'symhash' || n.text === 'jhash' || n.text === 'numgen') {
          // the queue is chosen by a hash or numgen (nft_queue_sreg_eval); no queue has a listener, so which does not matter
          if (n.text === 'jhash') readKey(this, this.next());
          if (n.text === 'numgen') readKey(this, n);
          else {
            this.expect('mod');
            this.number();
          }
          continue;
        }
        const r = parsePortRange(n.text, '-');
        if (r === null) this.fail(n, `bad queue number '${n.text}'`);
        num = r.min;
      } else if (t.text === 'bypass') bypass = true;
      else if (t.text !== 'fanout') this.fail(t, `unexpected '${t.text}' in a queue statement`);
    }
    return { kind: 'queue', num, bypass };
  }

  /** Whether the operand after a key is a set, map or `.` concatenation (a lookup, not a name). */
  private operandIsSetOrMap(): boolean {
    let i = this.pos;
    if (this.tokens[i]?.text === '!=' || this.tokens[i]?.text === '==') i++;
    const t = this.tokens[i];
    return t !== undefined && ((t.kind === 'punct' && t.text === '{') || t.text === 'vmap' || t.text === '.' || t.text === 'map' || t.text.startsWith('@'));
  }

  /**
   * A statement that starts with a key (one field or a concatenation): `KEY vmap MAP`, an
   * action, or `KEY [OP] VALUE|{ … }|@SET`, a match. The single-field comparisons iptables also
   * has keep their match kinds; the rest are set lookups (nft_lookup) — a `<`/`>` comparison is
   * a lookup in the one range it leaves (nft_cmp and nft_range agree with it), and a bitmask
   * type with a value alone (`ct status dnat`, `tcp flags syn,ack`) is `KEY & VALUE != 0`, as
   * nft writes it (a `VALUE / MASK` is `KEY & MASK == VALUE`).
   */
  private keyStatement(first: Token, matches: Match[]): Action | null {
    const key = readKey(this, first, () => this.setTypesAhead());
    this.checkFamily(first, keyFamily(key));
    if (this.peek().text === 'vmap') {
      this.next();
      return { kind: 'vmap', key, map: this.setOperand(key, 'verdict') };
    }
    if (this.peek().text === 'set') {
      matches.push(this.setStatement(key, this.next()));
      return null;
    }
    const opTok = this.peek();
    const op = RELATIONS[opTok.text] ?? null;
    if (op !== null) this.next();
    const negate = op === '!=';
    const only = key.length === 1 ? key[0]! : null;
    if (op !== null && op !== '==' && op !== '!=') {
      if (only === null) this.fail(opTok, `'${opTok.text}' compares one field, not a concatenation`);
      matches.push({ kind: 'lookup', negate: false, key, set: this.orderedRange(only, op) });
      return null;
    }
    const type = only === null ? null : datatypeOf(only);
    if (only !== null && (op === null || this.slashAhead()) && type !== null && BITMASK_TYPES.has(type) && !this.peekPunct('{') && !this.peek().text.startsWith('@')) {
      matches.push(this.bitmaskMatch(only, type, negate));
      return null;
    }
    const field = only !== null && !this.peek().text.startsWith('@') && !this.operandHasAddressRange() ? this.fieldMatch(only, negate) : null;
    matches.push(field ?? { kind: 'lookup', negate, key, set: this.setOperand(key, 'set') });
    return null;
  }

  /**
   * A statement of one family's fields (ip …, ip6 …, icmpv6 …) in a table of the other: nft
   * refuses it ("conflicting protocols specified"). In an inet table nft puts its `meta
   * nfproto` dependency first; natsim's loads of such fields check the family themselves
   * (nft-expr.ts loadPayload, nft-concat.ts loadField), so the IPv4 path has no extra match.
   */
  private checkFamily(at: Token, nfproto: NfProto | null): void {
    if (nfproto === null) return;
    const table = this.currentTable;
    const own = table ? TABLE_NFPROTO[table.family] : undefined;
    if (own !== undefined && own !== nfproto) this.fail(at, `conflicting protocols specified: ${NFPROTO_WORD[own]} vs. ${NFPROTO_WORD[nfproto]} ('${at.text}' in table ${table!.family} ${table!.name})`);
  }

  /** checkFamily, and in an inet table nft's `meta nfproto` dependency, for a statement no load guards (reject, NAT). */
  private familyDependency(at: Token, nfproto: NfProto, matches: Match[]): void {
    this.checkFamily(at, nfproto);
    if (this.currentTable?.family === 'inet') matches.push(nfprotoDependency(nfproto));
  }

  /** `KEY set VALUE` for a header field: `ip dscp set 0x1`, `tcp option maxseg size set rt mtu`. */
  private setStatement(key: readonly KeyExpr[], setTok: Token): Match {
    const k = key.length === 1 ? key[0]! : null;
    const valueTok = this.next();
    if (k?.kind === 'tcpopt' && k.option === 2 && k.field === 'value') {
      if (valueTok.text === 'rt') {
        this.expect('mtu');
        return { kind: 'nft', expr: new NftMssSet('rt') };
      }
      return { kind: 'nft', expr: new NftMssSet(this.u32(valueTok)) };
    }
    if (k?.kind === 'payload' && k.base === 'network') {
      const v = this.u32(valueTok);
      if (v >= 2 ** k.bits) this.fail(valueTok, `${k.name} has ${k.bits} bits`);
      return { kind: 'nft', expr: new NftPayloadSet(k, v) };
    }
    return this.fail(setTok, 'setting this field is not modelled (natsim sets ip header fields, tcp option maxseg size, meta mark and ct mark)');
  }

  /** A `/` before the end of the rule: the `VALUE / MASK` form. */
  private slashAhead(): boolean {
    for (let i = this.pos; i < this.tokens.length; i++) {
      const t = this.tokens[i]!;
      if (t.text === '/') return true;
      if (t.kind !== 'word' && !(t.kind === 'punct' && t.text === ',')) return false;
    }
    return false;
  }

  /** `KEY [!=] A[,B…]` of a bitmask type: any of the bits (KEY & V != 0), or `V / MASK`: KEY & MASK == V. */
  private bitmaskMatch(k: KeyExpr, type: SetDatatype, negate: boolean): Match {
    const at = this.peek();
    const value = this.bitmaskValue(type);
    if (this.peek().text === '/') {
      this.next();
      const mask = this.bitmaskValue(type);
      return { kind: 'lookup', negate, key: [{ kind: 'bitwise', of: k, mask, xor: 0 }], set: singleValue(type, value) };
    }
    if (value === 0) this.fail(at, 'a bitmask of 0 matches nothing');
    return { kind: 'lookup', negate: !negate, key: [{ kind: 'bitwise', of: k, mask: value, xor: 0 }], set: singleValue(type, 0) };
  }

  /** `a,b`, `a|b`, `(a | b)` or a number, of a bitmask type. */
  private bitmaskValue(type: SetDatatype): number {
    let bits = 0;
    for (;;) {
      const tok = this.peek();
      const text = readMaskText(this);
      for (const part of text.replace(/[()]/g, '').split('|')) {
        const v = parseField(type, part);
        if (v === null || typeof v.min !== 'number') this.fail(tok, part === '' ? `bad ${type} '${text}': a value is missing beside '|'` : `bad ${type} '${part}'`);
        bits |= v.min;
      }
      if (!this.peekPunct(',')) return bits;
      this.next();
    }
  }

  /** `< V`, `> V`, `<= V`, `>= V`: the range of values that holds. */
  private orderedRange(k: KeyExpr, op: '<' | '>' | '<=' | '>='): NftSet {
    const type = datatypeOf(k);
    const tok = this.next();
    const v = parseField(type, tok.text);
    // an IPv6 address is held as its 128-bit register's text (nft-datatype.ts): ordered, but `< V` needs V − 1, which natsim does not work out on it
    if (v !== null && type === 'ipv6_addr') return this.fail(tok, `comparing an IPv6 address with '${op}' is not modelled by natsim (use a range: ADDR-ADDR)`);
    if (v === null || typeof v.min !== 'number' || typeof v.max !== 'number') return this.fail(tok, `bad ${type} '${tok.text}' to compare with '${op}'`);
    const top = type === 'ipv4_addr' || type === 'integer' || type === 'mark' ? 0xffffffff : type === 'inet_service' ? 0xffff : type === 'time' ? Number.POSITIVE_INFINITY : 0xffffffff;
    const [min, max] = op === '<' ? [0, v.min - 1] : op === '<=' ? [0, v.max] : op === '>' ? [v.max + 1, top] : [v.min, top];
    const set = anonymousSet([type], false);
    if (min <= max) addElement(set, { key: [{ min, max }], verdict: null, data: null, expiry: null });
    return set;
  }

  /** Whether the operand holds an address range (`10.0.0.1-10.0.0.9`), which only a set lookup reads. */
  private operandHasAddressRange(): boolean {
    let depth = 0;
    for (let i = this.pos; i < this.tokens.length; i++) {
      const t = this.tokens[i]!;
      if (t.kind === 'punct' && t.text === '{') depth++;
      else if (t.kind === 'punct' && t.text === '}') depth--;
      else if (/^\d+\.\d+\.\d+\.\d+-/.test(t.text)) return true;
      if (depth <= 0 && (t.kind !== 'punct' || t.text === '}')) return false;
    }
    return false;
  }

  /** `@NAME`, or an anonymous set or map: `{ … }` or a single value. */
  private setOperand(key: readonly KeyExpr[], want: 'set' | 'verdict' | 'data', data: readonly SetDatatype[] | null = null): NftSet {
    if (this.peek().text.startsWith('@')) {
      const tok = this.next();
      const set = this.namedSet(tok, key);
      if (want === 'verdict' && !set.verdictMap) this.fail(tok, `'${set.name}' is not a verdict map`);
      if (want === 'data' && !set.data) this.fail(tok, `'${set.name}' is not a map of values`);
      return set;
    }
    const set = anonymousSet(key.map(datatypeOf), want === 'verdict', want === 'data' ? data : null);
    readElements(this, set);
    return set;
  }

  /** ip saddr|daddr, ip protocol, meta l4proto, tcp|udp|… sport|dport against values; null for the rest (a lookup). */
  private fieldMatch(k: KeyExpr, negate: boolean): Match | null {
    switch (k.kind) {
      case 'saddr':
      case 'daddr':
        return { kind: k.kind, negate, prefixes: this.values((t) => this.prefix(t)) };
      case 'l4proto':
        return { kind: 'l4proto', negate, protos: this.values((t) => this.proto(t)) };
      case 'sport':
      case 'dport':
        return k.proto === null ? null : { kind: k.kind, negate, proto: k.proto, ranges: this.values((t) => this.portRange(t)) };
      default:
        return null;
    }
  }

  /** `meta KEY …`: a comparison, or `meta mark|nftrace set …`. */
  private metaStatement(first: Token, matches: Match[], effects: Effect[]): Action | null {
    const key = this.peek();
    if (key.text === 'mark' && this.tokens[this.pos + 1]?.text === 'set') {
      this.next();
      this.markStatement(matches, effects, 'packet');
      return null;
    }
    if (key.text === 'nftrace') {
      // `meta nftrace set 1` marks the packet for `nft monitor trace`; its path does not change
      this.next();
      this.expect('set');
      effects.push({ kind: 'nftrace', on: this.number() !== 0 });
      return null;
    }
    if (key.text === 'secmark' && this.tokens[this.pos + 1]?.text === 'set') return this.secmarkSet(matches);
    if (key.text === 'ibrname' || key.text === 'obrname') {
      // nft_meta_bridge registers these keys for the bridge family only: nft_meta_get_init
      // refuses them in an ip or inet table (EOPNOTSUPP), where a bridged packet's in/out
      // are the bridge itself (iifname "docker0")
      this.fail(key, `meta ${key.text} is the bridge family's (nft_meta_bridge): the kernel refuses it in an ip or inet table, where iifname/oifname name the bridge of a bridged packet`);
    }
    if (this.tokens[this.pos + 1]?.text === 'set') this.fail(key, `meta ${key.text} set is not modelled (natsim sets meta mark and nftrace)`);
    if ((key.text === 'iifname' || key.text === 'oifname' || key.text === 'iif' || key.text === 'oif') && !this.nextOperandIsSetOrMap(1)) {
      this.next();
      matches.push(this.ifaceMatch(key.text));
      return null;
    }
    return this.keyStatement(first, matches);
  }

  /** operandIsSetOrMap, `skip` tokens ahead. */
  private nextOperandIsSetOrMap(skip: number): boolean {
    this.pos += skip;
    const yes = this.operandIsSetOrMap();
    this.pos -= skip;
    return yes;
  }

  /**
   * A mark expression of the packet (`meta mark`) or its connection (`ct mark`): a match
   * (`… [and M] [==|!=] V`), or an effect — `set V`, `set <same mark> or|xor|and V` (the xmark
   * forms of nft_bitwise), `set <the other mark>` (CONNMARK's save / restore), or
   * `set EXPR map M` (the data of the element the key finds).
   */
  private markStatement(matches: Match[], effects: Effect[], of: MarkOwner): void {
    if (this.peek().text === 'set') {
      const setTok = this.next();
      const first = this.next();
      const source = first.text === 'ct' && this.peek().text === 'mark' ? 'conn' : (first.text === 'meta' && this.peek().text === 'mark') || first.text === 'mark' ? 'packet' : null;
      if (source === null) {
        if (parseU32(first.text) === null && !this.atRuleEnd()) return this.markFromMap(matches, of, first, setTok);
        effects.push({ kind: 'mark', of, value: this.u32(first), mask: 0xffffffff });
        return;
      }
      if (first.text !== 'mark') this.expect('mark');
      // `set <other mark> [op V]`: copy it over, then apply the operation where it landed
      if (source !== of) effects.push({ kind: 'copymark', to: of, nfmask: 0xffffffff, ctmask: 0xffffffff });
      if (this.atRuleEnd() || !['or', '|', 'xor', '^', 'and', '&'].includes(this.peek().text)) {
        if (source === of) this.fail(this.peek(), 'expected or, xor or and');
        return;
      }
      // nft folds a chain of operations (`and M xor V`) into one nft_bitwise; applied in turn they give the same
      while (['or', '|', 'xor', '^', 'and', '&'].includes(this.peek().text)) {
        const op = this.next();
        const v = this.u32(this.next());
        if (op.text === 'or' || op.text === '|') effects.push({ kind: 'mark', of, value: v, mask: v });
        else if (op.text === 'xor' || op.text === '^') effects.push({ kind: 'mark', of, value: v, mask: 0 });
        else effects.push({ kind: 'mark', of, value: 0, mask: ~v >>> 0 });
      }
      return;
    }
    let mask = 0xffffffff;
    if (this.peek().text === 'and' || this.peek().text === '&') {
      this.next();
      mask = this.u32(this.next());
    }
    if (this.operandIsSetOrMap() || (RELATIONS[this.peek().text] !== undefined && this.peek().text !== '==' && this.peek().text !== '!=')) {
      const mark: KeyExpr = of === 'packet' ? { kind: 'meta', key: 'mark' } : { kind: 'ct', key: 'mark' };
      this.keyTail([mask === 0xffffffff ? mark : { kind: 'bitwise', of: mark, mask, xor: 0 }], matches, this.peek());
      return;
    }
    const negate = this.relation();
    matches.push({ kind: 'mark', of, negate, value: this.u32(this.next()), mask });
  }

  /** A key already read: the rest of keyStatement (its operator and operand). */
  private keyTail(key: KeyExpr[], matches: Match[], at: Token): void {
    const negate = this.relation();
    if (RELATIONS[this.peek().text] !== undefined) {
      const op = RELATIONS[this.next().text]! as '<' | '>' | '<=' | '>=';
      matches.push({ kind: 'lookup', negate: false, key, set: this.orderedRange(key[0]!, op) });
      return;
    }
    if (this.peek().text === 'vmap') this.fail(at, 'a mark verdict map is not modelled here (write meta mark vmap …)');
    matches.push({ kind: 'lookup', negate, key, set: this.setOperand(key, 'set') });
  }

  /** `meta|ct mark set EXPR map M` (its first word read). */
  private markFromMap(matches: Match[], of: MarkOwner, first: Token, setTok: Token): void {
    const start = this.pos - 1;
    const key = readKey(this, first);
    this.expect('map');
    const map = this.setOperand(key, 'data', ['mark']);
    if (map.data?.length !== 1 || (map.data[0] !== 'mark' && map.data[0] !== 'integer')) this.fail(setTok, `map '${map.name ?? '{…}'}' does not hold marks`);
    const text = this.tokens.slice(start - 2, this.pos).map((t) => t.text).join(' ');
    matches.push({ kind: 'nft', expr: new NftMarkFromMap(of, key, map, `${of === 'packet' ? 'meta' : 'ct'} mark set ${text.split(' set ')[1] ?? text}`) });
  }

  /** `ct …`: ct mark, ct state lists, ct helper set, or a comparison of another key. */
  private ctStatement(first: Token, matches: Match[], effects: Effect[]): Action | null {
    const key = this.peek();
    switch (key.text) {
      case 'mark':
        this.next();
        this.markStatement(matches, effects, 'conn');
        return null;
      case 'helper':
        if (this.tokens[this.pos + 1]?.text !== 'set') break;
        this.next();
        this.next();
        {
          const name = this.next();
          if (name.kind !== 'string') this.fail(name, 'ct helper set takes the name of a ct helper object (a map of helpers is not modelled)');
          const table = this.currentTable;
          if (!table || !this.objects.has(`${table.family} ${table.name} ct helper ${name.text}`)) this.fail(name, `no ct helper object '${name.text}' in this table (declare it with ct helper ${name.text} { type … protocol …; })`);
          matches.push({ kind: 'nft', expr: new NftCtHelperSet(name.text) });
        }
        return null;
      case 'state':
        if (this.operandIsSetOrMap() || this.nextOperandIsSetOrMap(1)) break;
        this.next();
        matches.push(this.ctMatch());
        return null;
      case 'secmark':
        if (this.tokens[this.pos + 1]?.text === 'set') return this.secmarkSet(matches);
        return this.fail(key, `ct secmark is not modelled (${CT_UNMODELLED.secmark})`);
      case 'zone':
        // reading the zone is a key (nft-expr.ts); setting one is not modelled
        if (this.peekAt(1).text === 'set') return this.fail(key, `ct zone set is not modelled (${CT_UNMODELLED.zone})`);
        break;
      case 'timeout':
      case 'expectation':
      case 'label':
      case 'count':
        return this.fail(key, `ct ${key.text} is not modelled (${CT_UNMODELLED[key.text]})`);
      default:
        if (this.tokens[this.pos + 1]?.text === 'set') this.fail(key, `ct ${key.text} set is not modelled (natsim sets ct mark and ct helper)`);
    }
    return this.keyStatement(first, matches);
  }

  /** `meta|ct secmark set …` (SELinux's label, nft_secmark / nft_meta_set_eval): nothing natsim models reads it. */
  private secmarkSet(matches: Match[]): null {
    const start = this.pos - 1;
    this.next();
    this.next();
    while (!this.atRuleEnd() && this.peek().text !== 'comment') this.next();
    const text = this.tokens.slice(start, this.pos).map((t) => (t.kind === 'string' ? `"${t.text}"` : t.text)).join(' ');
    matches.push({ kind: 'nft', expr: new NftNote(text, `${text}: SELinux labels are not modelled; nothing on the packet's path reads them`, this.tokens[start]!.text === 'ct') });
    return null;
  }

  /** `ct state [!=] NAMES` (any of them). */
  private ctMatch(): Match {
    const negate = this.relation();
    return { kind: 'ctstate', negate, states: this.bitmaskValue('ct_state') };
  }

  /** `fib saddr|daddr type [!=] TYPES` (nft_fib's address type, as inet_addr_type). */
  private fibMatch(): Match {
    const which = this.next();
    if (which.text !== 'saddr' && which.text !== 'daddr') this.fail(which, "natsim reads 'fib saddr type' and 'fib daddr type'");
    this.expect('type');
    const negate = this.relation();
    const types = this.commaValues((t) => ADDR_TYPE_NAME[t.text.toUpperCase()] ?? this.fail(t, `unknown address type '${t.text}'`));
    return { kind: 'addrtype', negate, which: which.text === 'saddr' ? 'src' : 'dst', types: types.reduce((a, b) => a | b, 0), by: 'fib' };
  }

  /** `icmp type [!=] NAME|N` */
  private icmpMatch(): Match {
    this.expect('type');
    const negate = this.relation();
    const tok = this.next();
    const type = NFT_ICMP_TYPE[tok.text] ?? (/^\d{1,3}$/.test(tok.text) && Number(tok.text) < 256 ? Number(tok.text) : this.fail(tok, `unknown icmp type '${tok.text}'`));
    return { kind: 'icmptype', negate, proto: IPPROTO.ICMP, type, code: null };
  }

  /**
   * `reject [with icmp|icmpx|icmpv6 [type] NAME | with tcp reset]` (nft_reject_inet_eval; the
   * default is port unreachable). nft adds the dependency each form needs to the rule: `meta
   * l4proto tcp` for a reset, `meta nfproto ipv4|ipv6` for icmp and icmpv6 in an inet table (so
   * such a rule never rejects a packet of the other family); icmpx picks the code for the
   * packet's family (nft_reject_icmp_code, nft_reject_icmpv6_code). The answer holds a code for
   * each family: the family the dependency rules out gets its default, never sent.
   */
  private rejectStatement(matches: Match[]): Action {
    if (this.peek().text !== 'with') return { kind: 'reject', with: PORT_UNREACHABLE };
    this.next();
    const family = this.next();
    if (family.text === 'tcp') {
      this.expect('reset');
      matches.push({ kind: 'l4proto', negate: false, protos: [IPPROTO.TCP] });
      return { kind: 'reject', with: 'tcp-reset' };
    }
    if (family.text !== 'icmp' && family.text !== 'icmpx' && family.text !== 'icmpv6') this.fail(family, "expected 'icmp', 'icmpx', 'icmpv6' or 'tcp' after 'reject with'");
    if (this.peek().text === 'type') this.next();
    const tok = this.next();
    if (family.text === 'icmpv6') {
      const code = ICMPV6_REJECT[tok.text] ?? (/^\d{1,3}$/.test(tok.text) && Number(tok.text) < 256 ? Number(tok.text) : this.fail(tok, `unknown icmpv6 reject type '${tok.text}' (${Object.keys(ICMPV6_REJECT).join(', ')})`));
      this.familyDependency(family, NFPROTO_IPV6, matches);
      return { kind: 'reject', with: { ...PORT_UNREACHABLE, icmpv6Code: code } };
    }
    if (family.text === 'icmpx') {
      const x = ICMPX_CODE[tok.text] ?? this.fail(tok, `unknown icmpx reject type '${tok.text}' (${Object.keys(ICMPX_CODE).join(', ')})`);
      return { kind: 'reject', with: { icmpCode: ICMPX_TO_ICMP[x]!, icmpv6Code: ICMPX_TO_ICMPV6[x]! } };
    }
    const code = NFT_REJECT_CODE[tok.text] ?? this.fail(tok, `unknown icmp reject type '${tok.text}' (${Object.keys(NFT_REJECT_CODE).join(', ')})`);
    this.familyDependency(family, NFPROTO_IPV4, matches);
    return { kind: 'reject', with: { ...PORT_UNREACHABLE, icmpCode: code } };
  }

  /** Comma-separated values, or an anonymous set of them. */
  private commaValues<T>(parse: (tok: Token) => T): T[] {
    if (this.peekPunct('{')) return this.values(parse);
    const out = [parse(this.next())];
    while (this.peekPunct(',')) {
      this.next();
      out.push(parse(this.next()));
    }
    return out;
  }

  private u32(tok: Token): number {
    const v = parseU32(tok.text);
    if (v === null) this.fail(tok, `expected a 32-bit number, found '${tok.text}'`);
    return v;
  }

  /** iif/oif compare the device index; natsim's devices never change, so the name is equivalent. */
  private ifaceMatch(key: string): Match {
    const negate = this.relation();
    const tok = this.next();
    if (tok.kind !== 'string' && tok.kind !== 'word') this.fail(tok, 'expected an interface name');
    const wildcard = tok.text.endsWith('*') && (key === 'iifname' || key === 'oifname');
    const name = wildcard ? tok.text.slice(0, -1) : tok.text;
    return { kind: key.startsWith('i') ? 'iifname' : 'oifname', negate, name, prefix: wildcard };
  }

  /** counter [packets N bytes M] | counter name "NAME": the recorded figures are not the simulation's. */
  private counter(): void {
    if (this.peek().text === 'name') {
      this.objectRef('counter');
      return;
    }
    if (this.peek().text !== 'packets') return;
    this.next();
    this.number();
    this.expect('bytes');
    this.number();
  }

  /**
   * masquerade [to :P[-Q]] [FLAGS], redirect [to [:]P[-Q]] [FLAGS], snat|dnat [ip|ip6] [addr .
   * port] [to] TARGET [FLAGS], with TARGET `ADDR[-ADDR][:P[-Q]]` or `EXPR map MAP` (the address,
   * or address . port, of the element the key finds) and FLAGS a comma-separated list of
   * random, fully-random, persistent. The target's family is the word's, else the address's
   * (`[fd00::1]:80` is ip6), else the table's; a snat or dnat to an address in an inet table
   * carries nft's `meta nfproto` dependency on it (NFTA_NAT_FAMILY), so it never NATs a packet
   * of the other family; masquerade and redirect, without an address, NAT both.
   */
  private natStatement(kind: 'snat' | 'dnat' | 'masquerade' | 'redirect', matches: Match[]): Action {
    const famTok = this.peek();
    const worded = kind !== 'masquerade' && (famTok.text === 'ip' || famTok.text === 'ip6');
    if (worded) this.next();
    const tableFamily = this.currentTable ? TABLE_NFPROTO[this.currentTable.family] : undefined;
    const fam: NfProto = worded ? (famTok.text === 'ip6' ? NFPROTO_IPV6 : NFPROTO_IPV4) : this.ipv6Target() ? NFPROTO_IPV6 : (tableFamily ?? NFPROTO_IPV4);
    const addressed = (kind === 'snat' || kind === 'dnat') && (worded || !this.atRuleEnd());
    if (addressed) this.familyDependency(worded ? famTok : this.peek(), fam, matches);
    if (this.peek().text === 'addr' && this.tokens[this.pos + 1]?.text === '.') {
      this.next();
      this.next();
      this.expect('port');
    }
    let targetTok: Token | null = null;
    let map: NatMap | null = null;
    if (this.peek().text === 'to') {
      this.next();
      const portKey = kind === 'redirect' ? this.portMapKey() : null;
      if (portKey !== null) map = this.natMap(kind, portKey);
      else if (MAP_KEY_WORDS.has(this.peek().text)) map = this.natMap(kind, this.next());
      else targetTok = this.next();
    } else if (kind === 'snat' || kind === 'dnat') {
      if (this.atRuleEnd() || this.peek().text === 'comment') this.fail(this.peek(), `${kind} needs 'to ADDRESS'`);
      targetTok = this.next();
    }
    let flags = 0;
    while (!this.atRuleEnd() && this.peek().text !== 'comment') {
      const tok = this.next();
      if (tok.kind === 'punct' && tok.text === ',') continue;
      const flag = NAT_FLAG_BY_NFT_WORD[tok.text];
      if (flag === undefined) this.fail(tok, `unknown ${kind} flag '${tok.text}' (random, fully-random, persistent)`);
      flags |= flag;
    }
    if (map !== null) {
      if (fam === NFPROTO_IPV6) this.fail(famTok, `${kind} ip6 to a map is not modelled (natsim maps IPv4 NAT targets)`);
      if (kind === 'masquerade') this.fail(this.peek(), `${kind} to a map is not modelled (snat, dnat and redirect are)`);
      return { kind, range: { flags, minAddr: 0, maxAddr: 0, minProto: 0, maxProto: 0, baseProto: 0 }, map };
    }
    if (targetTok === null) return { kind, range: { flags, minAddr: 0, maxAddr: 0, minProto: 0, maxProto: 0, baseProto: 0 } };
    // `redirect to 26` (a bare port) is `redirect to :26`
    const target = (kind === 'masquerade' || kind === 'redirect') && /^\d+(-\d+)?$/.test(targetTok.text) ? `:${targetTok.text}` : targetTok.text;
    if ((kind === 'masquerade' || kind === 'redirect') && !target.startsWith(':')) this.fail(targetTok, `${kind} takes only ports: to :PORT[-PORT]`);
    const range = parseNatTarget(target, flags, fam === NFPROTO_IPV6 ? 'ipv6' : 'ipv4');
    if (typeof range === 'string') this.fail(targetTok, range);
    return { kind, range };
  }

  /** Whether the NAT target ahead is an IPv6 address (`[2001:db8::1]:25`, `2001:db8::1`, `::99`). */
  private ipv6Target(): boolean {
    const t = this.peek().text === 'to' ? this.tokens[this.pos + 1] : this.peek();
    return t !== undefined && (/^\[/.test(t.text) || /^[0-9a-f]*:[0-9a-f]*:/i.test(t.text));
  }

  /**
   * `redirect to :EXPR map MAP` (the port of the element the key finds): the key's first word
   * without its colon (`:tcp`), or null for a port target (`:8080`).
   */
  private portMapKey(): Token | null {
    const t = this.peek();
    const word = t.text.slice(1);
    if (!t.text.startsWith(':') || !MAP_KEY_WORDS.has(word)) return null;
    this.next();
    return { ...t, text: word, col: t.col + 1 };
  }

  /**
   * `EXPR map MAP` as a NAT target (its first token read): the data are an address or range, and
   * maybe a port or range; for redirect a port or range.
   */
  private natMap(kind: string, first: Token): NatMap {
    const key = readKey(this, first);
    this.expect('map');
    const ports = kind === 'redirect';
    const set = this.setOperand(key, 'data', ports ? ['inet_service'] : this.natDataShape());
    const data = set.data ?? [];
    const fits = ports ? data.length === 1 && data[0] === 'inet_service' : data[0] === 'ipv4_addr' && (data.length === 1 || (data.length === 2 && data[1] === 'inet_service'));
    if (!fits) this.fail(first, `${kind} to a map needs data ${ports ? 'inet_service' : 'ipv4_addr [. inet_service]'} (this map holds ${data.join(' . ') || 'verdicts'})`);
    return { key, set };
  }

  /** An anonymous NAT map's data, from its first element: an address, or address . port. */
  private natDataShape(): SetDatatype[] {
    for (let i = this.pos; i < this.tokens.length; i++) {
      const t = this.tokens[i]!;
      if (t.text === ':') return this.tokens[i + 2]?.text === '.' ? ['ipv4_addr', 'inet_service'] : ['ipv4_addr'];
      if (t.kind === 'punct' && t.text === '}') break;
    }
    return ['ipv4_addr'];
  }

  /** A single value or an anonymous set `{ a, b, … }`. */
  private values<T>(parse: (tok: Token) => T): T[] {
    if (!this.peekPunct('{')) return [parse(this.next())];
    this.next();
    const out: T[] = [];
    for (;;) {
      const tok = this.next();
      if (tok.kind === 'eol' || (tok.kind === 'punct' && tok.text === ',')) continue;
      if (tok.kind === 'punct' && tok.text === '}') break;
      out.push(parse(tok));
    }
    if (out.length === 0) this.fail(this.tokens[this.pos - 1]!, 'empty set');
    return out;
  }

  /** An optional relational operator; true for `!=`. */
  private relation(): boolean {
    const tok = this.peek();
    if (tok.kind !== 'word' || (tok.text !== '!=' && tok.text !== '==' && tok.text !== 'eq' && tok.text !== 'ne')) return false;
    this.next();
    return tok.text === '!=' || tok.text === 'ne';
  }

  private prefix(tok: Token): Prefix {
    const p = parsePrefix(tok.text);
    if (p === null) this.fail(tok, `bad IPv4 address or prefix '${tok.text}'`);
    return p;
  }

  private proto(tok: Token): number {
    const p = parseProto(tok.text);
    if (p === null) this.fail(tok, `unknown protocol '${tok.text}'`);
    return p;
  }

  private portRange(tok: Token): PortRange {
    const r = parsePortRange(tok.text, '-');
    if (r === null) this.fail(tok, `bad port or port range '${tok.text}'`);
    return r;
  }

  private number(): number {
    const tok = this.next();
    if (!/^\d+$/.test(tok.text)) this.fail(tok, `expected a number, found '${tok.text}'`);
    return Number(tok.text);
  }

  /** Skips one element of a skipped table or command, braces balanced. */
  private skipElement(first: Token): void {
    let depth = first.kind === 'punct' && first.text === '{' ? 1 : 0;
    while (depth > 0 || !this.atRuleEnd()) {
      const tok = this.next();
      if (tok.kind === 'end') this.fail(tok, "missing '}'");
      if (tok.kind === 'punct' && tok.text === '{') depth++;
      else if (tok.kind === 'punct' && tok.text === '}') depth--;
    }
  }
}
