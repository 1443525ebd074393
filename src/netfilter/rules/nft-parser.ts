/**
 * Reads nft text — `nft list ruleset` output and `nft -f` scripts (`add table/chain/rule`,
 * `flush ruleset`) — into the rule model. What natsim does not evaluate is an error that names
 * the token, never a silently ignored rule.
 */
import { InputError } from '../../errors.js';
import { parsePrefix } from '../../packet/ipv4-addr.js';
import { HOOK_NFT_NAME, NFT_NAMED_PRIORITY, type Hook } from '../constants.js';
import type { Action, BaseChainSpec, ChainType, Match, PortRange, Prefix, Rule, Ruleset, Table, TableFamily } from './model.js';
import { NAT_FLAG_BY_NFT_WORD, parseNatTarget, parsePortRange, parseProto } from './syntax.js';
import { tokenize, type Token } from './nft-tokens.js';

const FAMILIES = new Set<TableFamily>(['ip', 'inet', 'ip6', 'arp', 'bridge', 'netdev']);
/** Families whose hooks never see an IPv4 packet on a routed path: their tables are skipped. */
const NOT_IPV4 = new Set<TableFamily>(['ip6', 'arp']);
const CHAIN_TYPES = new Set<ChainType>(['filter', 'nat', 'route']);

export function parseNft(text: string, file: string): Ruleset {
  return new NftParser(tokenize(text, file), file).parse();
}

class NftParser {
  private pos = 0;
  private readonly tables = new Map<string, Table>();

  constructor(
    private readonly tokens: readonly Token[],
    private readonly file: string,
  ) {}

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
    switch (this.word(what)) {
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
      default:
        this.fail(what, `cannot add '${what.text}' (natsim reads tables, chains and rules)`);
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
    const rule = this.rule();
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
      else if (tok.text === 'comment') this.expectString();
      else this.fail(tok, `unsupported table element '${tok.text}' (natsim reads chains; named sets, maps and flowtables are not modelled)`);
    }
    this.next();
  }

  /** chain NAME [{ [type … hook … priority …; [policy …;]] RULES }] */
  private chainDecl(table: Table): void {
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
        chain.rules.push(this.rule());
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

  /** One rule: statements up to the end of the line, `;` or the chain's closing brace. */
  private rule(): Rule {
    const first = this.peek();
    const matches: Match[] = [];
    let action: Action | null = null;
    while (!this.atRuleEnd()) {
      const tok = this.next();
      if (action !== null && tok.text !== 'comment') this.fail(tok, `nothing may follow a verdict or NAT statement (found '${tok.text}')`);
      action = this.statement(tok, matches) ?? action;
    }
    const text = this.tokens.slice(this.tokens.indexOf(first), this.pos).map((t) => (t.kind === 'string' ? `"${t.text}"` : t.text)).join(' ');
    return { matches, action, place: { file: this.file, line: first.line, col: first.col }, text };
  }

  /** Reads one statement: a match joins `matches`; a verdict or NAT statement is returned. */
  private statement(tok: Token, matches: Match[]): Action | null {
    const word = this.word(tok);
    switch (word) {
      case 'ip':
        matches.push(this.ipMatch());
        return null;
      case 'meta':
        this.metaStatement(matches);
        return null;
      case 'iifname':
      case 'oifname':
      case 'iif':
      case 'oif':
        matches.push(this.ifaceMatch(tok.text));
        return null;
      case 'tcp':
      case 'udp':
        matches.push(this.portMatch(tok));
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
        return { kind: word };
      case 'jump':
      case 'goto':
        return { kind: word, chain: this.word(this.next()) };
      case 'masquerade':
      case 'snat':
      case 'dnat':
        return this.natStatement(word);
      default:
        return this.fail(tok, `unsupported nft statement '${tok.text}'`);
    }
  }

  private ipMatch(): Match {
    const field = this.next();
    const negate = this.relation();
    switch (field.text) {
      case 'saddr':
      case 'daddr':
        return { kind: field.text, negate, prefixes: this.values((t) => this.prefix(t)) };
      case 'protocol':
        return { kind: 'l4proto', negate, protos: this.values((t) => this.proto(t)) };
      default:
        return this.fail(field, `unsupported ip field '${field.text}' (saddr, daddr, protocol)`);
    }
  }

  private metaStatement(matches: Match[]): void {
    const key = this.next();
    switch (key.text) {
      case 'l4proto': {
        const negate = this.relation();
        matches.push({ kind: 'l4proto', negate, protos: this.values((t) => this.proto(t)) });
        return;
      }
      case 'iifname':
      case 'oifname':
      case 'iif':
      case 'oif':
        matches.push(this.ifaceMatch(key.text));
        return;
      case 'nftrace':
        // `meta nftrace set 1` marks packets for `nft monitor trace`; it does not change their path.
        this.expect('set');
        this.number();
        return;
      default:
        return this.fail(key, `unsupported meta key '${key.text}' (l4proto, iifname, oifname, iif, oif, nftrace)`);
    }
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

  private portMatch(protoTok: Token): Match {
    const field = this.next();
    if (field.text !== 'sport' && field.text !== 'dport') this.fail(field, `unsupported ${protoTok.text} field '${field.text}' (sport, dport)`);
    const negate = this.relation();
    const ranges = this.values((t) => this.portRange(t));
    return { kind: field.text as 'sport' | 'dport', negate, proto: parseProto(protoTok.text)!, ranges };
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
  private natStatement(kind: 'snat' | 'dnat' | 'masquerade'): Action {
    if (kind !== 'masquerade' && this.peek().text === 'ip') this.next();
    let targetTok: Token | null = null;
    if (this.peek().text === 'to') {
      this.next();
      targetTok = this.next();
    } else if (kind !== 'masquerade') {
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
    if (kind === 'masquerade' && !targetTok.text.startsWith(':')) this.fail(targetTok, 'masquerade takes only ports: to :PORT[-PORT]');
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
    if (tok.text.startsWith('@')) this.fail(tok, 'named sets are not modelled yet');
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

  // ---- cursor ----

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    const tok = this.tokens[this.pos]!;
    if (this.pos < this.tokens.length - 1) this.pos++;
    return tok;
  }

  private peekPunct(p: string): boolean {
    const tok = this.peek();
    return tok.kind === 'punct' && tok.text === p;
  }

  private atRuleEnd(): boolean {
    const tok = this.peek();
    return tok.kind === 'eol' || tok.kind === 'end' || (tok.kind === 'punct' && (tok.text === ';' || tok.text === '}'));
  }

  private skipSeparators(): void {
    while (this.peek().kind === 'eol' || this.peekPunct(';')) this.next();
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

  private word(tok: Token): string {
    if (tok.kind !== 'word' && tok.kind !== 'string') this.fail(tok, `unexpected ${describe(tok)}`);
    return tok.text;
  }

  private expect(word: string): void {
    const tok = this.next();
    if (tok.text !== word || tok.kind !== 'word') this.fail(tok, `expected '${word}', found ${describe(tok)}`);
  }

  private expectPunct(p: string): void {
    const tok = this.next();
    if (tok.kind !== 'punct' || tok.text !== p) this.fail(tok, `expected '${p}', found ${describe(tok)}`);
  }

  private expectString(): void {
    const tok = this.next();
    if (tok.kind !== 'string' && tok.kind !== 'word') this.fail(tok, 'expected a quoted string');
  }

  private fail(tok: Token, reason: string): never {
    throw new InputError({ file: this.file, line: tok.line, col: tok.col }, reason);
  }
}

function describe(tok: Token): string {
  if (tok.kind === 'end') return 'end of text';
  if (tok.kind === 'eol') return 'end of line';
  return `'${tok.text}'`;
}
