/**
 * Reads `iptables-save` output into the rule model. On a 6.x kernel iptables is iptables-nft:
 * each `*table` becomes an nft table of family ip whose built-in chains are base chains at the
 * priorities x_tables always used (nft_chain_filter / iptables-nft's builtin_table). Anything
 * natsim does not evaluate is an error naming the line and column, never a skipped rule.
 */
import { InputError, type SourcePlace } from '../../errors.js';
import { parseIpv4, prefixMask } from '../../packet/ipv4-addr.js';
import { Hook, HOOK_IPTABLES_CHAIN, IPPROTO, Priority } from '../constants.js';
import { NatFlag, type Action, type BaseChainSpec, type Chain, type ChainType, type Match, type Effect, type MarkOwner, type NatRange, type PortRange, type Prefix, type Rule, type Ruleset, type Table } from './model.js';
import { parseNatTarget, parsePortRange, parseProto, parseU32 } from './syntax.js';
import { MODULES, parseValueMask, simpleModuleOption, StatisticOptions, type OptionReader } from './iptables-modules.js';
import type { IpSet } from './ipset.js';
import { RecentOptions, type RecentTables } from './xt-recent.js';

interface BuiltinTable {
  readonly type: ChainType;
  readonly priority: number;
  readonly hooks: readonly Hook[];
}

/** The tables iptables-nft creates, their chain type, priority and built-in chains. */
const BUILTIN_TABLES: Readonly<Record<string, BuiltinTable>> = {
  raw: { type: 'filter', priority: Priority.Raw, hooks: [Hook.PreRouting, Hook.LocalOut] },
  mangle: { type: 'filter', priority: Priority.Mangle, hooks: [Hook.PreRouting, Hook.LocalIn, Hook.Forward, Hook.LocalOut, Hook.PostRouting] },
  nat: { type: 'nat', priority: Priority.NatDst, hooks: [Hook.PreRouting, Hook.LocalIn, Hook.LocalOut, Hook.PostRouting] },
  filter: { type: 'filter', priority: Priority.Filter, hooks: [Hook.LocalIn, Hook.Forward, Hook.LocalOut] },
  security: { type: 'filter', priority: Priority.Security, hooks: [Hook.LocalIn, Hook.Forward, Hook.LocalOut] },
};

/** The nat table's source-manip chains sit at NF_IP_PRI_NAT_SRC, its others at NAT_DST. */
function builtinBase(tableName: string, table: BuiltinTable, hook: Hook, policy: BaseChainSpec['policy']): BaseChainSpec {
  const srcNat = tableName === 'nat' && (hook === Hook.PostRouting || hook === Hook.LocalIn);
  // iptables-nft gives mangle OUTPUT the route type, so a changed mark re-routes the packet.
  const type = tableName === 'mangle' && hook === Hook.LocalOut ? 'route' : table.type;
  return { type, hook, priority: srcNat ? Priority.NatSrc : table.priority, policy };
}

/**
 * `onRuleError`: report a rule's error and skip the rule (natsim lint) instead of stopping at
 * the first one.
 */
export function parseIptablesSave(text: string, file: string, onRuleError: ((e: InputError) => void) | null = null, ipsets: ReadonlyMap<string, IpSet> = new Map()): Ruleset {
  const tables: Table[] = [];
  // xt_recent's tables belong to the namespace: one per name, whichever rule names it
  const recentTables: RecentTables = new Map();
  let current: Table | null = null;
  let currentLine = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    const at = (col: number): SourcePlace => ({ file, line: i + 1, col });
    const body = line.trimStart();
    const col = line.length - body.length + 1;
    if (body === '' || body.startsWith('#')) continue;
    if (body.startsWith('*')) {
      if (current) throw new InputError(at(col), `table ${current.name} is not closed by COMMIT before *${body.slice(1)}`);
      const name = body.slice(1).trim();
      if (!BUILTIN_TABLES[name]) throw new InputError(at(col + 1), `unknown table '${name}' (raw, mangle, nat, filter, security)`);
      if (tables.some((t) => t.name === name)) throw new InputError(at(col + 1), `table ${name} appears twice`);
      current = { family: 'ip', name, chains: new Map(), source: 'iptables' };
      currentLine = i + 1;
    } else if (current === null) {
      throw new InputError(at(col), "expected a table header such as '*nat' before this line");
    } else if (body.trimEnd() === 'COMMIT') {
      tables.push(current);
      current = null;
    } else if (body.startsWith(':')) {
      declareChain(current, body, at(col));
    } else {
      try {
        const { chain, rule } = parseRuleLine(current, line, file, i + 1, { ipsets, recentTables });
        chain.rules.push(rule);
      } catch (e) {
        if (!onRuleError || !(e instanceof InputError)) throw e;
        onRuleError(e);
      }
    }
  }
  if (current) throw new InputError({ file, line: currentLine, col: 1 }, `table ${current.name} is not closed by COMMIT`);
  return { tables };
}

/** ":NAME POLICY [packets:bytes]" — POLICY is ACCEPT/DROP for built-in chains, '-' for others. */
function declareChain(table: Table, body: string, place: SourcePlace): void {
  const m = /^:(\S+)\s+(\S+)(\s+\[\d+:\d+\])?\s*$/.exec(body);
  if (!m) throw new InputError(place, "bad chain declaration (expected ':NAME POLICY [packets:bytes]')");
  const [, name, policyText] = m as unknown as [string, string, string];
  const builtin = BUILTIN_TABLES[table.name]!;
  const hook = HOOK_IPTABLES_CHAIN.indexOf(name) as Hook;
  if (hook >= 0 && builtin.hooks.includes(hook)) {
    if (policyText !== 'ACCEPT' && policyText !== 'DROP') throw new InputError(place, `built-in chain ${name} needs policy ACCEPT or DROP, not '${policyText}'`);
    table.chains.set(name, { name, base: builtinBase(table.name, builtin, hook, policyText === 'DROP' ? 'drop' : 'accept'), rules: [] });
  } else {
    if (policyText !== '-') throw new InputError(place, `${name} is not a built-in chain of table ${table.name}, so its policy must be '-'`);
    table.chains.set(name, { name, rules: [] });
  }
}

interface Word {
  readonly text: string;
  readonly col: number;
}

/** Splits a rule line as the shell would for iptables-save's quoting: "…" with \" and \\. */
function splitWords(line: string, file: string, lineNo: number): Word[] {
  const words: Word[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ' || line[i] === '\t') {
      i++;
      continue;
    }
    const col = i + 1;
    let text = '';
    while (i < line.length && line[i] !== ' ' && line[i] !== '\t') {
      if (line[i] !== '"') {
        text += line[i++];
        continue;
      }
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length) i++;
        text += line[i++];
      }
      if (i >= line.length) throw new InputError({ file, line: lineNo, col }, 'unterminated quoted string');
      i++;
    }
    words.push({ text, col });
  }
  return words;
}


/** The options that take the same path for source and destination, input and output. */
const ADDR_OPTIONS: Readonly<Record<string, 'saddr' | 'daddr'>> = { '-s': 'saddr', '--source': 'saddr', '-d': 'daddr', '--destination': 'daddr' };
const IFACE_OPTIONS: Readonly<Record<string, 'iifname' | 'oifname'>> = { '-i': 'iifname', '--in-interface': 'iifname', '-o': 'oifname', '--out-interface': 'oifname' };
const PORT_OPTIONS: Readonly<Record<string, 'sport' | 'dport'>> = { '--sport': 'sport', '--source-port': 'sport', '--dport': 'dport', '--destination-port': 'dport' };
const MULTIPORT_OPTIONS: Readonly<Record<string, 'sport' | 'dport'>> = { '--sports': 'sport', '--source-ports': 'sport', '--dports': 'dport', '--destination-ports': 'dport' };

/** What the namespace holds that rules refer to by name: ipset's sets, xt_recent's tables. */
interface NamedState {
  readonly ipsets: ReadonlyMap<string, IpSet>;
  readonly recentTables: RecentTables;
}

/** Reads "[p:b] -A CHAIN OPTIONS…" for a table whose chains are all declared already. */
function parseRuleLine(table: Table, line: string, file: string, lineNo: number, { ipsets, recentTables }: NamedState): { chain: Chain; rule: Rule } {
  const words = splitWords(line, file, lineNo);
  let w = 0;
  const fail = (word: Word | undefined, reason: string): never => {
    throw new InputError({ file, line: lineNo, col: word?.col ?? line.length + 1 }, reason);
  };
  if (words[w] && /^\[\d+:\d+\]$/.test(words[w]!.text)) w++;
  const cmd = words[w++];
  if (cmd?.text !== '-A' && cmd?.text !== '--append') fail(cmd, `expected '-A CHAIN' (iptables-save writes only appends), found '${cmd?.text ?? ''}'`);
  const chainWord = words[w++] ?? fail(undefined, '-A needs a chain name');
  const chain = table.chains.get(chainWord.text) ?? fail(chainWord, `chain '${chainWord.text}' is not declared in table ${table.name}`);

  const matches: Match[] = [];
  let action: Target | null = null;
  let proto = 0;
  const modules = new Set<string>();
  const statistic = new StatisticOptions();
  // -m recent's options, from its -m to the next -m, the target or the end of the rule
  let recent: { readonly options: RecentOptions; readonly at: Word } | null = null;
  const endRecent = (): void => {
    if (recent === null) return;
    const at = recent.at;
    matches.push(recent.options.build(recentTables, (reason) => fail(at, reason)));
    recent = null;
  };
  let negate = false;
  const value = (opt: Word): Word => words[w++] ?? fail(opt, `option ${opt.text} needs a value`);
  const reader = (opt: Word, neg: boolean): OptionReader => ({ option: opt.text, negate: neg, proto, ipsets, value: () => value(opt).text, fail: (reason) => fail(opt, reason) });
  // xt_check_match: the tcp/udp/multiport matches are only valid with a (not negated) -p of theirs.
  const portProto = (opt: Word): number => (proto === IPPROTO.TCP || proto === IPPROTO.UDP ? proto : fail(opt, `${opt.text} needs -p tcp or -p udp`));

  while (w < words.length) {
    const opt = words[w++]!;
    if (opt.text === '!') {
      negate = true;
      continue;
    }
    const neg = negate;
    negate = false;
    if (neg && (opt.text === '-m' || opt.text === '-j' || opt.text === '-g' || opt.text === '--comment')) fail(opt, `'!' cannot negate ${opt.text}`);
    const addrKind = ADDR_OPTIONS[opt.text];
    const ifaceKind = IFACE_OPTIONS[opt.text];
    const portKind = PORT_OPTIONS[opt.text];
    const multiKind = MULTIPORT_OPTIONS[opt.text];
    if (addrKind) {
      const v = value(opt);
      const prefixes = v.text.split(',').map((t) => parseAddrMask(t) ?? fail(v, `bad address '${t}' (expected A.B.C.D[/LEN or /MASK])`));
      matches.push({ kind: addrKind, negate: neg, prefixes });
    } else if (ifaceKind) {
      const v = value(opt);
      const wildcard = v.text.endsWith('+');
      matches.push({ kind: ifaceKind, negate: neg, name: wildcard ? v.text.slice(0, -1) : v.text, prefix: wildcard });
    } else if (portKind) {
      const p = portProto(opt);
      const v = value(opt);
      const range = parsePortRange(v.text, ':', true) ?? fail(v, `bad port or port range '${v.text}'`);
      matches.push({ kind: portKind, negate: neg, proto: p, ranges: [range] });
    } else if (multiKind) {
      if (!modules.has('multiport')) fail(opt, `${opt.text} needs -m multiport`);
      const p = portProto(opt);
      const v = value(opt);
      const ranges: PortRange[] = v.text.split(',').map((t) => parsePortRange(t, ':', true) ?? fail(v, `bad port or port range '${t}'`));
      if (ranges.length > 15) fail(v, 'multiport takes at most 15 ports');
      matches.push({ kind: multiKind, negate: neg, proto: p, ranges });
    } else switch (opt.text) {
      case '-p':
      case '--protocol': {
        const v = value(opt);
        if (v.text === 'all' || v.text === '0') {
          if (neg) fail(opt, "'! -p all' matches nothing");
          break;
        }
        proto = parseProto(v.text) ?? fail(v, `unknown protocol '${v.text}'`);
        matches.push({ kind: 'l4proto', negate: neg, protos: [proto] });
        if (neg) proto = 0;
        break;
      }
      case '-m':
      case '--match': {
        const v = value(opt);
        if (!MODULES.has(v.text)) fail(v, `match module '${v.text}' is not supported yet (natsim evaluates ${[...MODULES].join(', ')})`);
        endRecent();
        if (v.text === 'recent') recent = { options: new RecentOptions(), at: v };
        modules.add(v.text);
        break;
      }
      case '--comment':
        if (!modules.has('comment')) fail(opt, '--comment needs -m comment');
        value(opt);
        break;
      case '-j':
      case '--jump':
      case '-g':
      case '--goto': {
        const v = value(opt);
        endRecent();
        action = targetAction(table, v, opt.text === '-g' || opt.text === '--goto', fail);
        break;
      }
      default: {
        const r = reader(opt, neg);
        if (action !== null) {
          action = targetOption(action, opt, value, proto, fail);
          break;
        }
        if (recent?.options.read(r)) break;
        const match = simpleModuleOption(modules, r);
        if (match) matches.push(match);
        else if (!modules.has('statistic') || !statistic.read(r)) fail(opt, `unknown or unsupported option '${opt.text}'`);
      }
    }
  }
  if (negate) fail(words[words.length - 1], "'!' at the end of the rule negates nothing");
  endRecent();
  if (modules.has('statistic')) {
    const match = statistic.build();
    matches.push(typeof match === 'string' ? fail(chainWord, match) : match);
  }
  const place = { file, line: lineNo, col: words[0]!.col };
  const done = action !== null && isEffect(action) ? { effects: [action], action: null } : { effects: [], action };
  return { chain, rule: { matches, ...done, place, text: line.trim() } };
}

const PORT_PROTOS = new Set<number>([IPPROTO.TCP, IPPROTO.UDP, IPPROTO.SCTP, 33 /* DCCP */]);


const EMPTY_RANGE: NatRange = { flags: 0, minAddr: 0, maxAddr: 0, minProto: 0, maxProto: 0, baseProto: 0 };

/** -j TARGET or -g CHAIN: a declared chain of the table, else one of the targets natsim knows. */
/** -j TARGET or -g CHAIN: a declared chain of the table, else one of the targets natsim knows. */
/** What -j names: a terminal action, or an effect after which evaluation goes on. */
type Target = Action | Effect;

function isEffect(t: Target): t is Effect {
  return t.kind === 'mark' || t.kind === 'copymark' || t.kind === 'log' || t.kind === 'notrack' || t.kind === 'nftrace';
}

function targetAction(table: Table, v: Word, isGoto: boolean, fail: (w: Word, reason: string) => never): Target {
  if (table.chains.has(v.text)) return { kind: isGoto ? 'goto' : 'jump', chain: v.text };
  if (isGoto) return fail(v, `chain '${v.text}' is not declared in table ${table.name}`);
  const target = TARGETS[v.text];
  if (!target) return fail(v, `'${v.text}' is neither a declared chain nor a target natsim evaluates (${Object.keys(TARGETS).join(', ')})`);
  if (target.tables && !target.tables.includes(table.name)) return fail(v, `${v.text} is only valid in the ${target.tables.join(' or ')} table`);
  return target.action;
}

/** Each target's action before its options (the defaults iptables fills in), and where it is valid. */
const TARGETS: Readonly<Record<string, { readonly action: Target; readonly tables?: readonly string[] }>> = {
  ACCEPT: { action: { kind: 'accept' } },
  DROP: { action: { kind: 'drop' } },
  RETURN: { action: { kind: 'return' } },
  MASQUERADE: { action: { kind: 'masquerade', range: EMPTY_RANGE }, tables: ['nat'] },
  SNAT: { action: { kind: 'snat', range: EMPTY_RANGE }, tables: ['nat'] },
  DNAT: { action: { kind: 'dnat', range: EMPTY_RANGE }, tables: ['nat'] },
  REDIRECT: { action: { kind: 'redirect', range: EMPTY_RANGE }, tables: ['nat'] },
  // REJECT's default answer is port unreachable (ICMP code 3)
  REJECT: { action: { kind: 'reject', with: { icmpCode: 3 } }, tables: ['filter', 'mangle', 'raw', 'security'] },
  MARK: { action: { kind: 'mark', of: 'packet', value: 0, mask: 0 } },
  CONNMARK: { action: { kind: 'mark', of: 'conn', value: 0, mask: 0 } },
  LOG: { action: { kind: 'log', prefix: '' } },
  NOTRACK: { action: { kind: 'notrack' }, tables: ['raw'] },
  CT: { action: { kind: 'notrack' }, tables: ['raw'] },
};

/** REJECT --reject-with names (libipt_REJECT) and the ICMP code each sends. */
const REJECT_WITH: Readonly<Record<string, number | 'tcp-reset'>> = {
  'icmp-net-unreachable': 0,
  'icmp-host-unreachable': 1,
  'icmp-proto-unreachable': 2,
  'icmp-port-unreachable': 3,
  'icmp-net-prohibited': 9,
  'icmp-host-prohibited': 10,
  'icmp-admin-prohibited': 13,
  'tcp-reset': 'tcp-reset',
};

/** A target's options: NAT ranges and flags, MARK's forms, LOG's prefix, REJECT's answer. */
function targetOption(action: Target, opt: Word, value: (o: Word) => Word, proto: number, fail: (w: Word, reason: string) => never): Target {
  const r: OptionReader = { option: opt.text, negate: false, proto, ipsets: new Map(), value: () => value(opt).text, fail: (reason) => fail(opt, reason) };
  switch (action.kind) {
    case 'snat':
    case 'dnat':
    case 'masquerade':
    case 'redirect':
      return natOption(action, opt, value, proto, fail);
    case 'mark':
      return markOption(action.of, opt.text, r);
    case 'copymark':
      return maskOption(action, opt.text, r);
    case 'log':
      if (opt.text === '--log-prefix') return { kind: 'log', prefix: r.value() };
      if (opt.text === '--log-level' || opt.text === '--log-tcp-sequence' || opt.text === '--log-tcp-options' || opt.text === '--log-ip-options' || opt.text === '--log-uid') {
        if (opt.text === '--log-level') r.value();
        return action;
      }
      break;
    case 'reject': {
      if (opt.text !== '--reject-with') break;
      const answer = REJECT_WITH[r.value()];
      if (answer === undefined) return fail(opt, `unknown --reject-with (${Object.keys(REJECT_WITH).join(', ')})`);
      if (answer === 'tcp-reset' && proto !== IPPROTO.TCP) return fail(opt, '--reject-with tcp-reset needs -p tcp');
      return { kind: 'reject', with: answer === 'tcp-reset' ? 'tcp-reset' : { icmpCode: answer } };
    }
    case 'notrack':
      if (opt.text === '--notrack') return action;
      break;
  }
  return fail(opt, `option ${opt.text} does not belong to this target`);
}

/**
 * MARK/CONNMARK --set-xmark V/M, --set-mark V[/M], --or-mark V, --xor-mark V, --and-mark V: all
 * are xmark (libxt_MARK, libxt_CONNMARK); CONNMARK also --save-mark / --restore-mark.
 */
function markOption(of: MarkOwner, option: string, r: OptionReader): Effect {
  switch (option) {
    case '--set-xmark': {
      const { value, mask } = parseValueMask(r.value(), r);
      return { kind: 'mark', of, value, mask };
    }
    case '--set-mark': {
      const { value, mask } = parseValueMask(r.value(), r);
      return { kind: 'mark', of, value, mask: (mask | value) >>> 0 };
    }
    case '--or-mark':
    case '--xor-mark':
    case '--and-mark': {
      const v = parseU32(r.value()) ?? r.fail(`${option} needs a number`);
      if (option === '--or-mark') return { kind: 'mark', of, value: v, mask: v };
      if (option === '--xor-mark') return { kind: 'mark', of, value: v, mask: 0 };
      return { kind: 'mark', of, value: 0, mask: ~v >>> 0 };
    }
    case '--save-mark':
    case '--restore-mark':
      if (of === 'conn') return { kind: 'copymark', to: option === '--save-mark' ? 'conn' : 'packet', nfmask: 0xffffffff, ctmask: 0xffffffff };
      return r.fail(`option ${option} belongs to CONNMARK`);
    default:
      return r.fail(`option ${option} does not belong to ${of === 'conn' ? 'CONNMARK' : 'MARK'}`);
  }
}

/** CONNMARK --save-mark/--restore-mark's --nfmask / --ctmask (--mask sets both). */
function maskOption(action: Extract<Effect, { kind: 'copymark' }>, option: string, r: OptionReader): Effect {
  const v = parseU32(r.value()) ?? r.fail(`${option} needs a number`);
  if (option === '--nfmask') return { ...action, nfmask: v };
  if (option === '--ctmask') return { ...action, ctmask: v };
  if (option === '--mask') return { ...action, nfmask: v, ctmask: v };
  return r.fail(`option ${option} does not belong to CONNMARK`);
}

/** --to-ports / --to-source / --to-destination / --random / --random-fully / --persistent. */
function natOption(action: Extract<Action, { kind: 'snat' | 'dnat' | 'masquerade' | 'redirect' }>, opt: Word, value: (o: Word) => Word, proto: number, fail: (w: Word, reason: string) => never): Action {
  const flag = { '--random': NatFlag.ProtoRandom, '--random-fully': NatFlag.ProtoRandomFully, '--persistent': NatFlag.Persistent }[opt.text];
  if (flag !== undefined) return { ...action, range: { ...action.range, flags: action.range.flags | flag } };
  const portsOnly = action.kind === 'masquerade' || action.kind === 'redirect';
  const wanted = portsOnly ? '--to-ports' : action.kind === 'snat' ? '--to-source' : '--to-destination';
  if (opt.text !== wanted) return fail(opt, `option ${opt.text} does not belong to ${action.kind.toUpperCase()}`);
  const v = value(opt);
  const range = parseNatTarget(portsOnly ? `:${v.text}` : v.text, action.range.flags);
  if (typeof range === 'string') return fail(v, range);
  if ((range.flags & NatFlag.ProtoSpecified) !== 0 && !PORT_PROTOS.has(proto)) return fail(v, 'a port range needs -p tcp, udp, sctp or dccp');
  return { ...action, range };
}

/** A.B.C.D, A.B.C.D/LEN or A.B.C.D/MASK (a contiguous dotted mask). */
function parseAddrMask(text: string): Prefix | null {
  const slash = text.indexOf('/');
  const addr = parseIpv4(slash < 0 ? text : text.slice(0, slash));
  if (addr === null) return null;
  if (slash < 0) return { addr, len: 32 };
  const maskText = text.slice(slash + 1);
  if (/^\d{1,2}$/.test(maskText)) return Number(maskText) <= 32 ? { addr, len: Number(maskText) } : null;
  const mask = parseIpv4(maskText);
  if (mask === null) return null;
  for (let len = 0; len <= 32; len++) if (prefixMask(len) === mask) return { addr, len };
  return null;
}
