/**
 * iptables match modules beyond addresses, interfaces, protocols and ports: their options as
 * iptables-save writes them (libxt_mark, libxt_state, libxt_addrtype,
 * libxt_statistic, libxt_tcp --tcp-flags, libxt_icmp, libip6t_icmp6), each turned into one rule-model match.
 */
import { IPPROTO } from '../constants.js';
import { CtState, NFPROTO_IPV4, NFPROTO_IPV6, type Match, type NfProto } from './model.js';
import type { IpSet } from './ipset.js';
import { ADDR_TYPE_NAME, parseU32 } from './syntax.js';
import { ADDRTYPE6_REFUSED } from './addrtype6.js';
import { parseIpv4, prefixMask } from '../../packet/ipv4-addr.js';
import { parseIpv6Prefix } from '../../packet/ipv6-addr.js';
import type { Prefix } from './model.js';

/** The option being read: its words, negation and the protocol the rule named. */
export interface OptionReader {
  readonly option: string;
  /** The host's IP sets (ipset save), for -m set. */
  readonly ipsets: ReadonlyMap<string, IpSet>;
  readonly negate: boolean;
  readonly proto: number;
  /** The family of the table being read: iptables-save's (NFPROTO_IPV4) or ip6tables-save's (NFPROTO_IPV6). */
  readonly nfproto: NfProto;
  /** The next word (the option's value). */
  value(): string;
  fail(reason: string): never;
}

const CT_STATE_NAME: Readonly<Record<string, number>> = {
  INVALID: CtState.Invalid,
  ESTABLISHED: CtState.Established,
  RELATED: CtState.Related,
  NEW: CtState.New,
  UNTRACKED: CtState.Untracked,
  SNAT: CtState.Snat,
  DNAT: CtState.Dnat,
};


/**
 * libxt_tcp's tcp_flag_names: six flags, ALL being those six (iptables-restore refuses ECE and
 * CWR, "Unknown TCP flag", and saves ALL as FIN,SYN,RST,PSH,ACK,URG: fixtures/kernel-experiments/iptables-implicit-proto).
 */
const TCP_FLAG_NAME: Readonly<Record<string, number>> = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ALL: 0x3f, NONE: 0 };

/** libxt_icmp's names (icmp_codes): a type with any code (null), or a type and code; type 0xff is any. */
const ICMP_TYPE_NAME: Readonly<Record<string, [number, number | null]>> = {
  any: [0xff, null],
  'echo-reply': [0, null],
  pong: [0, null],
  'destination-unreachable': [3, null],
  'network-unreachable': [3, 0],
  'host-unreachable': [3, 1],
  'protocol-unreachable': [3, 2],
  'port-unreachable': [3, 3],
  'fragmentation-needed': [3, 4],
  'source-route-failed': [3, 5],
  'network-unknown': [3, 6],
  'host-unknown': [3, 7],
  'network-prohibited': [3, 9],
  'host-prohibited': [3, 10],
  'TOS-network-unreachable': [3, 11],
  'TOS-host-unreachable': [3, 12],
  'communication-prohibited': [3, 13],
  'host-precedence-violation': [3, 14],
  'precedence-cutoff': [3, 15],
  'source-quench': [4, null],
  redirect: [5, null],
  'network-redirect': [5, 0],
  'host-redirect': [5, 1],
  'TOS-network-redirect': [5, 2],
  'TOS-host-redirect': [5, 3],
  'echo-request': [8, null],
  ping: [8, null],
  'router-advertisement': [9, null],
  'router-solicitation': [10, null],
  'time-exceeded': [11, null],
  'ttl-exceeded': [11, null],
  'ttl-zero-during-transit': [11, 0],
  'ttl-zero-during-reassembly': [11, 1],
  'parameter-problem': [12, null],
  'ip-header-bad': [12, 0],
  'required-option-missing': [12, 1],
  'timestamp-request': [13, null],
  'timestamp-reply': [14, null],
  'address-mask-request': [17, null],
  'address-mask-reply': [18, null],
};


/** libip6t_icmp6's names (icmpv6_codes): a type with any code (null), or a type and code. */
const ICMPV6_TYPE_NAME: Readonly<Record<string, [number, number | null]>> = {
  'destination-unreachable': [1, null],
  'no-route': [1, 0],
  'communication-prohibited': [1, 1],
  'beyond-scope': [1, 2],
  'address-unreachable': [1, 3],
  'port-unreachable': [1, 4],
  'failed-policy': [1, 5],
  'reject-route': [1, 6],
  'packet-too-big': [2, null],
  'time-exceeded': [3, null],
  'ttl-exceeded': [3, null],
  'ttl-zero-during-transit': [3, 0],
  'ttl-zero-during-reassembly': [3, 1],
  'parameter-problem': [4, null],
  'bad-header': [4, 0],
  'unknown-header-type': [4, 1],
  'unknown-option': [4, 2],
  'echo-request': [128, null],
  ping: [128, null],
  'echo-reply': [129, null],
  pong: [129, null],
  'router-solicitation': [133, null],
  'router-advertisement': [134, null],
  'neighbour-solicitation': [135, null],
  'neighbor-solicitation': [135, null],
  'neighbour-advertisement': [136, null],
  'neighbor-advertisement': [136, null],
  redirect: [137, null],
};

/** libxt_icmp's parse_icmp and libip6t_icmp6's parse_icmpv6: a name or an unambiguous beginning of one, in any case. */
function icmpTypeName(text: string, table: Readonly<Record<string, [number, number | null]>>, what: string, r: OptionReader): [number, number | null] {
  const found = Object.keys(table).filter((name) => name.toLowerCase().startsWith(text.toLowerCase()));
  if (found.length > 1 && !found.some((name) => name.toLowerCase() === text.toLowerCase())) r.fail(`ambiguous ${what} type '${text}': ${found.join(' or ')}?`);
  const name = found.find((n) => n.toLowerCase() === text.toLowerCase()) ?? found[0];
  return name === undefined ? r.fail(`unknown ${what} type '${text}' (${what === 'ICMP' ? 'iptables -p icmp' : 'ip6tables -p ipv6-icmp'} -h lists them)`) : table[name]!;
}

/** --icmp-type / --icmpv6-type TYPE[/CODE] or a name: the type and code icmp_match / icmp6_match compare. */
function icmpTypeOption(r: OptionReader, proto: number): Match {
  const [what, table, family, pOpt] = proto === IPPROTO.ICMP ? (['ICMP', ICMP_TYPE_NAME, NFPROTO_IPV4, '-p icmp'] as const) : (['ICMPv6', ICMPV6_TYPE_NAME, NFPROTO_IPV6, '-p ipv6-icmp'] as const);
  // the module exists for one family only (xt_register_match's family): ip6tables has no icmp, iptables no icmp6
  if (r.nfproto !== family) r.fail(`${r.option} belongs to ${family === NFPROTO_IPV4 ? 'iptables' : 'ip6tables'} (${what}); this is ${r.nfproto === NFPROTO_IPV4 ? 'iptables' : 'ip6tables'}-save text`);
  if (r.proto !== proto) r.fail(`${r.option} needs ${pOpt}`);
  const text = r.value();
  const m = /^(\d{1,3})(?:\/(\d{1,3}))?$/.exec(text);
  if (!m) {
    const [type, code] = icmpTypeName(text, table, what, r);
    return { kind: 'icmptype', negate: r.negate, proto, type, code };
  }
  if (Number(m[1]) > 255 || Number(m[2] ?? 0) > 255) return r.fail(`${what} type and code go up to 255, got '${text}'`);
  return { kind: 'icmptype', negate: r.negate, proto, type: Number(m[1]), code: m[2] === undefined ? null : Number(m[2]) };
}

/** "V" or "V/M" (M defaults to all ones). */
export function parseValueMask(text: string, r: OptionReader): { value: number; mask: number } {
  const [v, m] = text.split('/');
  const value = parseU32(v ?? '');
  const mask = m === undefined ? 0xffffffff : parseU32(m);
  if (value === null || mask === null || text.split('/').length > 2) return r.fail(`bad value '${text}' (expected VALUE[/MASK], decimal or 0x hex)`);
  return { value, mask };
}

function names(text: string, table: Readonly<Record<string, number>>, what: string, r: OptionReader): number {
  let bits = 0;
  for (const name of text.split(',')) {
    const bit = table[name];
    if (bit === undefined) r.fail(`unknown ${what} '${name}' (${Object.keys(table).join(', ')})`);
    bits |= bit;
  }
  return bits;
}

/** --state's or --ctstate's value: the states' bits (CtState). */
export function ctStateOption(r: OptionReader): number {
  return names(r.value(), CT_STATE_NAME, 'conntrack state', r);
}

/** --src-type / --dst-type's names; addrtype_mt_checkentry refuses BROADCAST, BLACKHOLE and PROHIBIT for IPv6. */
function addrTypes(r: OptionReader): number {
  const types = names(r.value(), ADDR_TYPE_NAME, 'address type', r);
  if (r.nfproto === NFPROTO_IPV6 && types & ADDRTYPE6_REFUSED) r.fail(`${r.option}: the kernel refuses BROADCAST, BLACKHOLE and PROHIBIT matching for IPv6 (addrtype_mt_checkentry)`);
  return types;
}

/** The options of the simple modules: one option, one match. */
const SIMPLE: Readonly<Record<string, Readonly<Record<string, (r: OptionReader) => Match>>>> = {
  mark: {
    '--mark': (r) => ({ kind: 'mark', of: 'packet', negate: r.negate, ...parseValueMask(r.value(), r) }),
  },
  connmark: {
    '--mark': (r) => ({ kind: 'mark', of: 'conn', negate: r.negate, ...parseValueMask(r.value(), r) }),
  },
  state: {
    '--state': (r) => ({ kind: 'ctstate', negate: r.negate, states: ctStateOption(r) }),
  },
  addrtype: {
    '--src-type': (r) => ({ kind: 'addrtype', negate: r.negate, which: 'src', types: addrTypes(r), by: 'xt' }),
    '--dst-type': (r) => ({ kind: 'addrtype', negate: r.negate, which: 'dst', types: addrTypes(r), by: 'xt' }),
  },
  tcp: {
    '--tcp-flags': (r) => {
      if (r.proto !== IPPROTO.TCP) r.fail('--tcp-flags needs -p tcp');
      const mask = names(r.value(), TCP_FLAG_NAME, 'TCP flag', r);
      return { kind: 'tcpflags', negate: r.negate, mask, comp: names(r.value(), TCP_FLAG_NAME, 'TCP flag', r) };
    },
    '--syn': (r) => {
      if (r.proto !== IPPROTO.TCP) r.fail('--syn needs -p tcp');
      return { kind: 'tcpflags', negate: r.negate, mask: 0x17, comp: 0x02 };
    },
  },
  set: {
    '--match-set': (r) => {
      const name = r.value();
      const set = r.ipsets.get(name) ?? r.fail(`no ip set '${name}' (give the host's \`ipset save\` output as ipsets: or ipsets-file:)`);
      const dirs = r.value().split(',');
      if (!dirs.every((d) => d === 'src' || d === 'dst')) r.fail(`--match-set directions must be src or dst, comma-separated`);
      return { kind: 'ipset', negate: r.negate, set, dirs: dirs as ('src' | 'dst')[] };
    },
  },
  // xt_physdev: the bridge ports of a frame br_netfilter handed to the IPv4 hooks (eval.ts physdevMatches)
  physdev: {
    '--physdev-in': (r) => ({ kind: 'physdev', negate: r.negate, option: 'in', port: r.value() }),
    '--physdev-out': (r) => ({ kind: 'physdev', negate: r.negate, option: 'out', port: r.value() }),
    '--physdev-is-in': (r) => ({ kind: 'physdev', negate: r.negate, option: 'is-in', port: null }),
    '--physdev-is-out': (r) => ({ kind: 'physdev', negate: r.negate, option: 'is-out', port: null }),
    '--physdev-is-bridged': (r) => ({ kind: 'physdev', negate: r.negate, option: 'is-bridged', port: null }),
  },
  icmp: { '--icmp-type': (r) => icmpTypeOption(r, IPPROTO.ICMP) },
  icmp6: { '--icmpv6-type': (r) => icmpTypeOption(r, IPPROTO.ICMPV6) },
};

/**
 * The modules natsim evaluates here (tcp/udp ports and multiport are read by the parser itself,
 * recent by xt-recent.ts, and the ones of xt-registry.ts by their own files).
 */
export const MODULES = new Set(['tcp', 'udp', 'multiport', 'comment', 'statistic', 'recent', ...Object.keys(SIMPLE)]);

/**
 * The match module libxtables loads for a rule's protocol when it meets an option no loaded
 * module has (command_default → load_proto): `-p tcp --syn` is `-p tcp -m tcp --syn`, as
 * iptables-save writes it back; icmpv6 and ipv6-icmp name ip6tables' icmp6 (xtables_find_match).
 * Null when the protocol has no match natsim reads options of.
 */
export function protocolModule(proto: number, nfproto: NfProto): string | null {
  if (proto === IPPROTO.TCP) return 'tcp';
  if (proto === IPPROTO.UDP) return 'udp';
  if (proto === IPPROTO.ICMP && nfproto === NFPROTO_IPV4) return 'icmp';
  if (proto === IPPROTO.ICMPV6 && nfproto === NFPROTO_IPV6) return 'icmp6';
  return null;
}

/** The match for a simple module's option, or null when no loaded module has this option. */
export function simpleModuleOption(modules: ReadonlySet<string>, r: OptionReader): Match | null {
  for (const module of modules) {
    const read = SIMPLE[module]?.[r.option];
    if (read) return read(r);
  }
  return null;
}

/**
 * -m statistic: its options arrive one by one (--mode, --probability, --every, --packet) and
 * make one match at the end of the rule.
 */
export class StatisticOptions {
  private mode: 'random' | 'nth' | null = null;
  private probability: number | null = null;
  private every: number | null = null;
  private packet = 0;
  private negate = false;

  /** True when the option was one of -m statistic's. */
  read(r: OptionReader): boolean {
    switch (r.option) {
      case '--mode': {
        const mode = r.value();
        if (mode !== 'random' && mode !== 'nth') r.fail(`unknown statistic mode '${mode}' (random, nth)`);
        this.mode = mode;
        return true;
      }
      case '--probability': {
        const text = r.value();
        const p = Number(text);
        if (!/^[\d.]+$/.test(text) || !(p >= 0 && p <= 1)) r.fail(`--probability needs a number from 0 to 1, got '${text}'`);
        this.probability = p;
        this.negate = r.negate;
        return true;
      }
      case '--every':
      case '--packet': {
        const text = r.value();
        const n = Number(text);
        if (!/^\d+$/.test(text)) r.fail(`${r.option} needs a whole number, got '${text}'`);
        if (r.option === '--every') {
          if (n < 1) r.fail('--every needs a number of at least 1');
          this.every = n;
          this.negate = r.negate;
        } else {
          this.packet = n;
        }
        return true;
      }
      default:
        return false;
    }
  }

  /**
   * The match (libxt_statistic stores the probability as 0x80000000 × p, `--every N` as N - 1,
   * and starts the counter at every - packet, so that the first packet is the one `--packet`
   * names), or the reason the options do not make one.
   */
  build(): Match | string {
    if (this.mode === 'random') {
      if (this.probability === null) return '--mode random needs --probability';
      return { kind: 'random', negate: this.negate, threshold: Math.round(0x80000000 * this.probability) };
    }
    if (this.mode === 'nth') {
      if (this.every === null) return '--mode nth needs --every';
      if (this.packet > this.every - 1) return '--packet must be less than --every';
      const every = this.every - 1;
      return { kind: 'nth', negate: this.negate, every, packet: this.packet, counter: { count: every - this.packet } };
    }
    return '-m statistic needs --mode random or --mode nth';
  }
}

/**
 * An address option's value (-s, -d, --ctorigsrc, …): for iptables A.B.C.D, A.B.C.D/LEN or
 * A.B.C.D/MASK (a contiguous dotted mask), for ip6tables an IPv6 address[/LEN].
 */
export function parseXtAddress(text: string, nfproto: NfProto): Prefix | null {
  return nfproto === NFPROTO_IPV6 ? parseIpv6Prefix(text) : parseAddrMask(text);
}

/** Why parseXtAddress refused `text`. */
export function badAddress(text: string, nfproto: NfProto): string {
  return `bad address '${text}' (expected ${nfproto === NFPROTO_IPV6 ? 'an IPv6 address[/LEN]' : 'A.B.C.D[/LEN or /MASK]'})`;
}

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
