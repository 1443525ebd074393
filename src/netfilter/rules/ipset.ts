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
import { parsePrefix, prefixMask } from '../../packet/ipv4-addr.js';
import { isIpv6, ipv6PrefixKey, parseIpv6Prefix } from '../../packet/ipv6-addr.js';
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
  const v6 = set.family === 'inet6';
  for (const shape of shapesOf(set)) {
    let key = '';
    for (let i = 0; i < set.dims.length; i++) {
      const dir = dirs[i] ?? 'src';
      const len = shape.lens[i]!;
      key += `${len < 0 ? portKey(probe.proto, probe.port(dir)) : addrKey(probe.addr(dir), len, v6)} `;
    }
    if (shape.keys.has(key)) return true;
  }
  return false;
}

/**
 * A set's elements grouped as ip_set_test's hashes find them: by the prefix length of each of
 * their addresses (hash:net keeps the lengths its nets have and looks each up in turn), each
 * group a set of keys — the element's parts, an address masked to its length. A packet's key
 * for a group is made the same way from its fields. A walk over every element cost a packet as
 * much as the set is long (a hash:ip of 20,000 addresses in FORWARD: 34× the replay's CPU).
 */
interface Shape {
  /** Per dimension: the address's prefix length, or -1 for a port. */
  readonly lens: readonly number[];
  readonly keys: Set<string>;
}

/** Made at a set's first test: its elements are all in by then (only parseIpsetSave adds them). */
const SHAPES = new WeakMap<IpSet, readonly Shape[]>();

function shapesOf(set: IpSet): readonly Shape[] {
  const known = SHAPES.get(set);
  if (known !== undefined) return known;
  const v6 = set.family === 'inet6';
  const byLens = new Map<string, Shape>();
  for (const element of set.elements) {
    const lens = element.map((part) => ('prefix' in part ? part.prefix.len : -1));
    const id = lens.join(',');
    let shape = byLens.get(id);
    if (shape === undefined) byLens.set(id, (shape = { lens, keys: new Set() }));
    shape.keys.add(element.map((part) => `${'prefix' in part ? addrKey(part.prefix.addr, part.prefix.len, v6) : portKey(part.proto, part.port)} `).join(''));
  }
  const shapes = [...byLens.values()];
  SHAPES.set(set, shapes);
  return shapes;
}

/** A protocol and port as a key part. */
function portKey(proto: number, port: number): string {
  return `${proto}/${port}`;
}

/**
 * An address masked to `len` bits as a key part; an address of the other family than the set's
 * gets one no element has (ip_set_test finds nothing in a set of another family).
 */
function addrKey(addr: number, len: number, v6: boolean): string {
  if (isIpv6(addr) !== v6) return '-';
  return v6 ? ipv6PrefixKey(addr, len) : String((addr & prefixMask(len)) >>> 0);
}
