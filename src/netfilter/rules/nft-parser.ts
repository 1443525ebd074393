/**
 * Reads nft text — `nft list ruleset` output and `nft -f` scripts (`add table/chain/rule`,
 * `flush ruleset`) — into the rule model. What natsim does not evaluate is an error that names
 * the token, never a silently ignored rule.
 */
import { InputError } from '../../errors.js';
import { parsePrefix } from '../../packet/ipv4-addr.js';
import { HOOK_NFT_NAME, NFT_NAMED_PRIORITY, type Hook } from '../constants.js';
import { CtState, type Action, type BaseChainSpec, type ChainType, type Effect, type KeyExpr, type MarkOwner, Match, PortRange, Prefix, Rule, Ruleset, Table, TableFamily } from './model.js';
import { datatypeOf, readKey } from './nft-concat.js';
import { readDynset } from './nft-dynset.js';
import { anonymousSet, keyTypeText, type NftSet } from './nft-set.js';
import { readElements, readSetDecl, readVerdict } from './nft-set-syntax.js';
import { readLogStatement } from './nft-log-syntax.js';
import { readTcpFlags } from './nft-tcp-flags.js';
import { NftCursor, tokenize, type Token } from './nft-tokens.js';
import { ADDR_TYPE_NAME, NAT_FLAG_BY_NFT_WORD, parseNatTarget, parsePortRange, parseProto, parseU32 } from './syntax.js';

const NFT_CT_STATE: Readonly<Record<string, number>> = { invalid: CtState.Invalid, established: CtState.Established, related: CtState.Related, new: CtState.New, untracked: CtState.Untracked };
const NFT_CT_STATUS: Readonly<Record<string, number>> = { snat: CtState.Snat, dnat: CtState.Dnat };
const NFT_ICMP_TYPE: Readonly<Record<string, number>> = { 'echo-reply': 0, 'destination-unreachable': 3, 'source-quench': 4, redirect: 5, 'echo-request': 8, 'time-exceeded': 11, 'parameter-problem': 12, 'timestamp-request': 13, 'timestamp-reply': 14 };
/** nft's icmp reject type names (icmp_code_tbl) and their destination unreachable codes. */
const NFT_REJECT_CODE: Readonly<Record<string, number>> = { 'net-unreachable': 0, 'host-unreachable': 1, 'prot-unreachable': 2, 'port-unreachable': 3, 'net-prohibited': 9, 'host-prohibited': 10, 'admin-prohibited': 13 };

const FAMILIES = new Set<TableFamily>(['ip', 'inet', 'ip6', 'arp', 'bridge', 'netdev']);
/** Families whose hooks never see an IPv4 packet on a routed path: their tables are skipped. */
const NOT_IPV4 = new Set<TableFamily>(['ip6', 'arp']);
const CHAIN_TYPES = new Set<ChainType>(['filter', 'nat', 'route']);

/** `onRuleError`: report a rule's error and skip to the end of its line (natsim lint). */
export function parseNft(text: string, file: string, onRuleError: ((e: InputError) => void) | null = null): Ruleset {
  return new NftParser(tokenize(text, file), file, onRuleError).parse();
}

class NftParser extends NftCursor {
  private readonly tables = new Map<string, Table>();
  /** Named sets and maps by "family table name" (one namespace, as in nf_tables). */
  private readonly sets = new Map<string, NftSet>();
  /** The table whose body or rule is being read, for resolving @NAME. */
  private currentTable: Table | null = null;

  constructor(
    tokens: readonly Token[],
    file: string,
    private readonly onRuleError: ((e: InputError) => void) | null,
  ) {
    super(tokens, file);
  }

  parse(): Ruleset {
    for (this.skipSeparators(); this.peek().kind !== 'end'; this.skipSeparators()) this.command(this.next());
    return { tables: [...this.tables.values()] };
  }

  private command(tok: Token): void {
    switch (this.word(tok)) {
      case 'table':
        return this.tableCommand();
      case 'flush':
        this.expect('ruleset');
        this.tables.clear();
        return;
      case 'add':
      case 'create':
        return this.addCommand();
      case 'insert':
        this.expect('rule');
        return this.ruleCommand(true);
      default:
        this.fail(tok, `unsupported nft command '${tok.text}' (natsim reads table blocks, add/insert and flush ruleset)`);
    }
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
      default:
        this.fail(what, `cannot add '${what.text}' (natsim reads tables, chains, rules, sets, maps and their elements)`);
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
   * an IPv4 packet; `create` false means the table must exist already.
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
    if (NOT_IPV4.has(family)) return null;
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
      const tok = this.next();
      if (table === null) this.skipElement(tok);
      else if (this.word(tok) === 'chain') this.chainDecl(table);
      else if (tok.text === 'set' || tok.text === 'map') this.setDecl(table, tok.text);
      else if (tok.text === 'comment') this.expectString();
      else this.fail(tok, `unsupported table element '${tok.text}' (natsim reads chains, sets and maps; flowtables and stateful objects are not modelled)`);
    }
    this.next();
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
    for (this.skipSeparators(); !this.peekPunct('}'); this.skipSeparators()) {
      if (this.peek().kind === 'end') this.fail(this.peek(), `chain ${name} is missing its '}'`);
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

  /** `@NAME` in a rule: the named set or map of the table being read, keyed as the rule's key. */
  private namedSet(tok: Token, key: readonly KeyExpr[]): NftSet {
    const table = this.currentTable;
    const set = table ? this.sets.get(`${table.family} ${table.name} ${tok.text.slice(1)}`) : undefined;
    if (!set) return this.fail(tok, `no set '${tok.text.slice(1)}' in this table (define it before the rules that use it)`);
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
    const first = this.peek();
    const matches: Match[] = [];
    const effects: Effect[] = [];
    let action: Action | null = null;
    while (!this.atRuleEnd()) {
      const tok = this.next();
      if (action !== null && tok.text !== 'comment') this.fail(tok, `nothing may follow a verdict or NAT statement (found '${tok.text}')`);
      action = this.statement(tok, matches, effects) ?? action;
    }
    const text = this.tokens.slice(this.tokens.indexOf(first), this.pos).map((t) => (t.kind === 'string' ? `"${t.text}"` : t.text)).join(' ');
    return { matches, effects, action, place: { file: this.file, line: first.line, col: first.col }, text };
  }

  /**
   * Reads one statement: a match joins `matches`, a statement that lets evaluation go on
   * (mark set, log, notrack) joins `effects`, a verdict or NAT statement is returned.
   */
  private statement(tok: Token, matches: Match[], effects: Effect[]): Action | null {
    const word = this.word(tok);
    switch (word) {
      case 'tcp':
        if (this.peek().text !== 'flags') return this.keyStatement(tok, matches);
        this.next();
        matches.push(readTcpFlags(this, () => this.relation()));
        return null;
      case 'ip':
      case 'th':
      case 'udp':
      case 'sctp':
      case 'udplite':
      case 'numgen':
        return this.keyStatement(tok, matches);
      case 'meta':
        if (this.peek().text === 'l4proto') return this.keyStatement(tok, matches);
        this.metaStatement(matches, effects);
        return null;
      case 'mark':
        this.markStatement(matches, effects, 'packet');
        return null;
      case 'ct':
        if (this.peek().text === 'mark') {
          this.next();
          this.markStatement(matches, effects, 'conn');
        } else {
          matches.push(this.ctMatch());
        }
        return null;
      case 'fib':
        matches.push(this.fibMatch());
        return null;
      case 'icmp':
        matches.push(this.icmpMatch());
        return null;
      case 'add':
      case 'update':
        matches.push(readDynset(this, tok, (t, key) => this.namedSet(t, key)));
        return null;
      case 'log':
        effects.push(readLogStatement(this));
        return null;
      case 'notrack':
        effects.push({ kind: 'notrack' });
        return null;
      case 'reject':
        return this.rejectStatement();
      case 'iifname':
      case 'oifname':
      case 'iif':
      case 'oif':
        matches.push(this.ifaceMatch(tok.text));
        return null;
      case 'counter':
        this.counter();
        return null;
      case 'comment':
        this.expectString();
        return null;
      case 'accept':
      case 'drop':
      case 'return':
      case 'continue':
      case 'jump':
      case 'goto':
        return readVerdict(this, tok);
      case 'masquerade':
      case 'snat':
      case 'dnat':
      case 'redirect':
        return this.natStatement(word);
      default:
        return this.fail(tok, `unsupported nft statement '${tok.text}'`);
    }
  }

  /**
   * A statement that starts with a key (one field or a concatenation): `KEY vmap MAP`, an
   * action, or `KEY [!=] VALUE|{ … }|@SET`, a match. The single-field comparisons iptables also
   * has keep their match kinds; the rest are set lookups (nft_lookup).
   */
  private keyStatement(first: Token, matches: Match[]): Action | null {
    const key = readKey(this, first);
    if (this.peek().text === 'vmap') {
      this.next();
      return { kind: 'vmap', key, map: this.setOperand(key, true) };
    }
    const negate = this.relation();
    const field = key.length === 1 && !this.peek().text.startsWith('@') ? this.fieldMatch(key[0]!, negate) : null;
    matches.push(field ?? { kind: 'lookup', negate, key, set: this.setOperand(key, false) });
    return null;
  }

  /** `@NAME`, or an anonymous set or map: `{ … }` or a single value. */
  private setOperand(key: readonly KeyExpr[], verdictMap: boolean): NftSet {
    if (this.peek().text.startsWith('@')) {
      const tok = this.next();
      const set = this.namedSet(tok, key);
      if (verdictMap && !set.verdictMap) this.fail(tok, `'${set.name}' is not a verdict map`);
      return set;
    }
    const set = anonymousSet(key.map(datatypeOf), verdictMap);
    readElements(this, set);
    return set;
  }

  /** ip saddr|daddr, ip protocol, meta l4proto, tcp|udp|… sport|dport against values; null for th and numgen. */
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
      case 'numgen':
        return null;
    }
  }

  private metaStatement(matches: Match[], effects: Effect[]): void {
    const key = this.next();
    switch (key.text) {
      case 'mark':
        return this.markStatement(matches, effects, 'packet');
      case 'iifname':
      case 'oifname':
      case 'iif':
      case 'oif':
        matches.push(this.ifaceMatch(key.text));
        return;
      case 'nftrace': {
        // `meta nftrace set 1` marks the packet for `nft monitor trace`; its path does not change
        this.expect('set');
        effects.push({ kind: 'nftrace', on: this.number() !== 0 });
        return;
      }
      case 'ibrname':
      case 'obrname':
        // nft_meta_bridge registers these keys for the bridge family only: nft_meta_get_init
        // refuses them in an ip or inet table (EOPNOTSUPP), where a bridged packet's in/out
        // are the bridge itself (iifname "docker0")
        return this.fail(key, `meta ${key.text} is the bridge family's (nft_meta_bridge): the kernel refuses it in an ip or inet table, where iifname/oifname name the bridge of a bridged packet`);
      default:
        return this.fail(key, `unsupported meta key '${key.text}' (l4proto, iifname, oifname, iif, oif, mark, nftrace)`);
    }
  }

  /**
   * `meta mark [!=] V`, `meta mark and M == V` (a match), or `meta mark set V`,
   * `meta mark set mark or|xor|and V` (an effect: the xmark forms of nft_meta_set/bitwise).
   */
  /**
   * A mark expression of the packet (`meta mark`) or its connection (`ct mark`): a match
   * (`… [and M] [==|!=] V`), or an effect — `set V`, `set <same mark> or|xor|and V` (the xmark
   * forms of nft_bitwise), or `set <the other mark>` (CONNMARK's save / restore).
   */
  private markStatement(matches: Match[], effects: Effect[], of: MarkOwner): void {
    if (this.peek().text === 'set') {
      this.next();
      const first = this.next();
      const source = first.text === 'ct' ? 'conn' : first.text === 'meta' || first.text === 'mark' ? 'packet' : null;
      if (source === null) {
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
      const op = this.next();
      const v = this.u32(this.next());
      if (op.text === 'or' || op.text === '|') effects.push({ kind: 'mark', of, value: v, mask: v });
      else if (op.text === 'xor' || op.text === '^') effects.push({ kind: 'mark', of, value: v, mask: 0 });
      else if (op.text === 'and' || op.text === '&') effects.push({ kind: 'mark', of, value: 0, mask: ~v >>> 0 });
      else this.fail(op, `unsupported mark operation '${op.text}' (or, xor, and)`);
      return;
    }
    let mask = 0xffffffff;
    if (this.peek().text === 'and' || this.peek().text === '&') {
      this.next();
      mask = this.u32(this.next());
    }
    const negate = this.relation();
    matches.push({ kind: 'mark', of, negate, value: this.u32(this.next()), mask });
  }


  /** `ct state [!=] NAMES` and `ct status [!=] snat|dnat`. */
  private ctMatch(): Match {
    const key = this.next();
    if (key.text !== 'state' && key.text !== 'status') this.fail(key, `unsupported ct key '${key.text}' (state, status, mark)`);
    const negate = this.relation();
    const table = key.text === 'state' ? NFT_CT_STATE : NFT_CT_STATUS;
    const states = this.commaValues((t) => table[t.text] ?? this.fail(t, `unknown ct ${key.text} '${t.text}' (${Object.keys(table).join(', ')})`));
    return { kind: 'ctstate', negate, states: states.reduce((a, b) => a | b, 0) };
  }

  /** `fib saddr|daddr type [!=] TYPES` (nft_fib's address type, as inet_addr_type). */
  private fibMatch(): Match {
    const which = this.next();
    if (which.text !== 'saddr' && which.text !== 'daddr') this.fail(which, "natsim reads 'fib saddr type' and 'fib daddr type'");
    this.expect('type');
    const negate = this.relation();
    const types = this.commaValues((t) => ADDR_TYPE_NAME[t.text.toUpperCase()] ?? this.fail(t, `unknown address type '${t.text}'`));
    return { kind: 'addrtype', negate, which: which.text === 'saddr' ? 'src' : 'dst', types: types.reduce((a, b) => a | b, 0) };
  }

  /** `icmp type [!=] NAME|N` */
  private icmpMatch(): Match {
    this.expect('type');
    const negate = this.relation();
    const tok = this.next();
    const type = NFT_ICMP_TYPE[tok.text] ?? (/^\d{1,3}$/.test(tok.text) && Number(tok.text) < 256 ? Number(tok.text) : this.fail(tok, `unknown icmp type '${tok.text}'`));
    return { kind: 'icmptype', negate, type, code: null };
  }

  /** `reject [with icmp [type] NAME | with tcp reset]` (nft_reject; the default is port unreachable). */
  private rejectStatement(): Action {
    if (this.peek().text !== 'with') return { kind: 'reject', with: { icmpCode: 3 } };
    this.next();
    const family = this.next();
    if (family.text === 'tcp') {
      this.expect('reset');
      return { kind: 'reject', with: 'tcp-reset' };
    }
    if (family.text !== 'icmp') this.fail(family, "expected 'icmp' or 'tcp' after 'reject with'");
    if (this.peek().text === 'type') this.next();
    const tok = this.next();
    const code = NFT_REJECT_CODE[tok.text] ?? this.fail(tok, `unknown icmp reject type '${tok.text}' (${Object.keys(NFT_REJECT_CODE).join(', ')})`);
    return { kind: 'reject', with: { icmpCode: code } };
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

  /** counter [packets N bytes M]: the recorded figures are not the simulation's. */
  private counter(): void {
    if (this.peek().text !== 'packets') return;
    this.next();
    this.number();
    this.expect('bytes');
    this.number();
  }

  /**
   * masquerade [to :P[-Q]] [FLAGS], snat|dnat [ip] to ADDR[-ADDR][:P[-Q]] [FLAGS], with FLAGS
   * a comma-separated list of random, fully-random, persistent.
   */
  private natStatement(kind: 'snat' | 'dnat' | 'masquerade' | 'redirect'): Action {
    if (kind !== 'masquerade' && this.peek().text === 'ip') this.next();
    let targetTok: Token | null = null;
    if (this.peek().text === 'to') {
      this.next();
      targetTok = this.next();
    } else if (kind === 'snat' || kind === 'dnat') {
      this.fail(this.peek(), `${kind} needs 'to ADDRESS'`);
    }
    let flags = 0;
    while (!this.atRuleEnd() && this.peek().text !== 'comment') {
      const tok = this.next();
      if (tok.kind === 'punct' && tok.text === ',') continue;
      const flag = NAT_FLAG_BY_NFT_WORD[tok.text];
      if (flag === undefined) this.fail(tok, `unknown ${kind} flag '${tok.text}' (random, fully-random, persistent)`);
      flags |= flag;
    }
    if (targetTok === null) return { kind, range: { flags, minAddr: 0, maxAddr: 0, minProto: 0, maxProto: 0, baseProto: 0 } };
    if ((kind === 'masquerade' || kind === 'redirect') && !targetTok.text.startsWith(':')) this.fail(targetTok, `${kind} takes only ports: to :PORT[-PORT]`);
    const range = parseNatTarget(targetTok.text, flags);
    if (typeof range === 'string') this.fail(targetTok, range);
    return { kind, range };
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
