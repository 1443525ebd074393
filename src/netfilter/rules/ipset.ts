/**
 * IP sets as `ipset save` writes them (`create NAME TYPE …`, `add NAME ELEMENT …`) for
 * iptables' `-m set --match-set NAME src,dst`. The types natsim evaluates: hash:ip, hash:net,
 * hash:ip,port, hash:net,port, hash:ip,port,ip, hash:ip,port,net and bitmap:port. An element
 * matches when each of its parts matches the packet field the rule's direction flag names
 * (ip_set_test with the flags of xt_set). A set is of one family (`family inet6`: IPv6
 * addresses); ip_set_test finds nothing in a set of the other family (`set->family !=
 * opt->family`), so it never matches a packet of that family (a negated -m set then does).
 */
import { InputError } from '../../errors.js';
import { parsePrefix } from '../../packet/ipv4-addr.js';
import { inInetPrefix } from '../../packet/inet-addr.js';
import { parseIpv6Prefix } from '../../packet/ipv6-addr.js';
import { IPPROTO } from '../constants.js';
import type { Prefix } from './model.js';
import { parseProto } from './syntax.js';

type Dim = 'ip' | 'net' | 'port';

/** One element's part: an address prefix, or a protocol and port. */
type Part = { readonly prefix: Prefix } | { readonly proto: number; readonly port: number };

export interface IpSet {
  readonly name: string;
  readonly type: string;
  readonly dims: readonly Dim[];
  /** `family inet` (the default) or `family inet6`: the family of the set's addresses. */
  readonly family: 'inet' | 'inet6';
  /** hash:ip's netmask: the bits of an address an element keeps (32 or 128 without one). */
  readonly netmask: number;
  /** Added by parseIpsetSave only: setContains indexes them at its first test. */
  readonly elements: readonly (readonly Part[])[];
}

const TYPES: Readonly<Record<string, readonly Dim[]>> = {
  'hash:ip': ['ip'],
  'hash:net': ['net'],
  'hash:ip,port': ['ip', 'port'],
  'hash:net,port': ['net', 'port'],
  'hash:ip,port,ip': ['ip', 'port', 'ip'],
  'hash:ip,port,net': ['ip', 'port', 'net'],
  'bitmap:port': ['port'],
};

export function parseIpsetSave(text: string, file: string): Map<string, IpSet> {
  const sets = new Map<string, IpSet>();
  /** The sets' element lists as this parser fills them (read-only to everyone else). */
  const elements = new Map<string, Part[][]>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const words = line.split(/\s+/);
    const fail = (word: number, reason: string): never => {
      throw new InputError({ file, line: i + 1, col: raw.indexOf(words[word] ?? '') + 1 }, reason);
    };
    const [command, name, arg] = words;
    if (command === 'create') {
      const dims = TYPES[arg ?? ''] ?? fail(2, `ipset type '${arg ?? ''}' is not modelled (${Object.keys(TYPES).join(', ')})`);
      const at = words.indexOf('family');
      const family = at < 0 ? 'inet' : words[at + 1];
      if (family !== 'inet' && family !== 'inet6') return fail(at + 1, `family '${family ?? ''}' (inet or inet6)`);
      const bitmask = words.indexOf('bitmask');
      if (bitmask >= 0) fail(bitmask, 'an ipset bitmask (a mask that is not a prefix) is not modelled by natsim');
      const list: Part[][] = [];
      elements.set(name!, list);
      sets.set(name!, { name: name!, type: arg!, dims, family, netmask: netmaskOf(words, arg!, family, fail), elements: list });
    } else if (command === 'add') {
      const set = sets.get(name ?? '') ?? fail(1, `no set '${name ?? ''}' created before this line`);
      const nomatch = words.indexOf('nomatch');
      if (nomatch >= 0) fail(nomatch, 'a nomatch element (an exception inside a hash:net) is not modelled by natsim');
      elements.get(set.name)!.push(parseElement(arg ?? '', set) ?? fail(2, `bad ${set.type} element '${arg ?? ''}'`));
    } else {
      fail(0, `expected 'create' or 'add' (ipset save format), found '${command}'`);
    }
  });
  return sets;
}

/**
 * hash:ip's `netmask N` (the family's full length without it): elements are stored, and packets
 * looked up, with only their first N bits (hash_ip4_kadt / hash_ip6_kadt mask both), so each
 * element stands for its /N.
 */
function netmaskOf(words: readonly string[], type: string, family: 'inet' | 'inet6', fail: (word: number, reason: string) => never): number {
  const full = family === 'inet6' ? 128 : 32;
  const at = words.indexOf('netmask');
  if (at < 0) return full;
  const n = Number(words[at + 1]);
  if (type !== 'hash:ip') fail(at, `netmask is a hash:ip option, not ${type}'s`);
  if (!/^\d{1,3}$/.test(words[at + 1] ?? '') || n < 1 || n > full) fail(at + 1, `netmask '${words[at + 1] ?? ''}' (1 to ${full} for family ${family})`);
  return n;
}

/** "10.0.0.1", "10.0.0.0/8", "10.0.0.1,tcp:80", "10.0.0.1,80,10.0.0.2", "8080", "fd00::/64,udp:53" … */
function parseElement(text: string, set: IpSet): Part[] | null {
  const parts = text.split(',');
  if (parts.length !== set.dims.length) return null;
  const out: Part[] = [];
  for (const [i, dim] of set.dims.entries()) {
    const part = parts[i]!;
    if (dim === 'port') {
      const colon = part.indexOf(':');
      const proto = colon < 0 ? IPPROTO.TCP : parseProto(part.slice(0, colon));
      const port = Number(colon < 0 ? part : part.slice(colon + 1));
      if (proto === null || !Number.isInteger(port) || port < 0 || port > 65535) return null;
      out.push({ proto, port });
    } else {
      const prefix = set.family === 'inet6' ? parseIpv6Prefix(part) : parsePrefix(part);
      if (!prefix || (dim === 'ip' && prefix.len !== (set.family === 'inet6' ? 128 : 32) && !part.includes('/'))) return null;
      out.push({ prefix: dim === 'ip' ? { addr: prefix.addr, len: Math.min(prefix.len, set.netmask) } : prefix });
    }
  }
  return out;
}

/** The packet fields a set looks at, per dimension: source or destination. */
export interface SetProbe {
  readonly addr: (dir: 'src' | 'dst') => number;
  readonly port: (dir: 'src' | 'dst') => number;
  readonly proto: number;
}

/** ip_set_test: fewer direction flags than the set has dimensions never match. */
export function setContains(set: IpSet, dirs: readonly ('src' | 'dst')[], probe: SetProbe): boolean {
  if (dirs.length < set.dims.length) return false;
  const index = indexOf(set);
  if (index.exact.size > 0 && index.exact.has(probeKey(set, dirs, probe))) return true;
  return index.rest.some((element) =>
    element.every((part, i) => {
      const dir = dirs[i] ?? 'src';
      return 'prefix' in part ? inInetPrefix(probe.addr(dir), part.prefix) : part.proto === probe.proto && part.port === probe.port(dir);
    }),
  );
}

/**
 * A set's elements as ip_set_test's hash finds them: those whose addresses are whole (hash:ip
 * without a netmask, hash:ip,port, hash:ip,port,ip) by their values, the others (nets, a
 * netmask's prefixes) to test in turn. A walk over every element cost a packet as much as the
 * set is long (a hash:ip of 20,000 addresses in FORWARD: 34× the replay's CPU).
 */
interface SetIndex {
  readonly exact: ReadonlySet<string>;
  readonly rest: readonly (readonly Part[])[];
}

const INDEXES = new WeakMap<IpSet, SetIndex>();

function indexOf(set: IpSet): SetIndex {
  let index = INDEXES.get(set);
  if (index !== undefined) return index;
  const whole = set.family === 'inet6' ? 128 : 32;
  const exact = new Set<string>();
  const rest: (readonly Part[])[] = [];
  for (const element of set.elements) {
    if (element.every((part) => !('prefix' in part) || part.prefix.len === whole)) exact.add(element.map(partKey).join(' '));
    else rest.push(element);
  }
  index = { exact, rest };
  INDEXES.set(set, index);
  return index;
}

/** A part's value in an exact element's key: the address (an IPv6 one's interned handle), or protocol/port. */
function partKey(part: Part): string {
  return 'prefix' in part ? String(part.prefix.addr) : `${part.proto}/${part.port}`;
}

/** The key of the element that would hold the packet's fields, as partKey makes an element's. */
function probeKey(set: IpSet, dirs: readonly ('src' | 'dst')[], probe: SetProbe): string {
  let key = '';
  for (let i = 0; i < set.dims.length; i++) {
    const dir = dirs[i] ?? 'src';
    if (i > 0) key += ' ';
    key += set.dims[i] === 'port' ? `${probe.proto}/${probe.port(dir)}` : String(probe.addr(dir));
  }
  return key;
}
