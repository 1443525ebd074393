/**
 * A node snapshot: the folder a recorder fills on a real Linux machine — `ip -j addr`
 * (ip-addr.json), `ip -j route show table all` (ip-route.json), `sysctl -a` (sysctl.txt) and the
 * ruleset (nft-ruleset.txt from `nft list ruleset` and/or iptables-save.txt, or
 * iptables-legacy-save.txt on an iptables-legacy node), optionally
 * ipset-save.txt, ipvsadm-save.txt (`ipvsadm -Sn`) and the CPU count (cpu-count.ts) — read into the
 * HostSpec a scenario would give, so that a capture taken on that machine can be replayed on it.
 * A dual-stack node's IPv6 addresses and routes are in those files too: the addresses are kept
 * on their devices (with their flags, in the kernel's order: source selection needs both) and
 * the routes in the host's IPv6 FIB, though natsim replays IPv4 packets only; the user is told once.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { InputError, type SourcePlace } from '../errors.js';
import { devConfName } from '../ipv4/devconf.js';
import { Sysctl, SYSCTL_DEFAULTS } from '../host/sysctl.js';
import { deviceMtu, IGMP_ALL_HOSTS, MAX_MTU, MIN_MTU, parseMac } from '../host/device.js';
import { formatIpv4 } from '../packet/ipv4-addr.js';
import { readSockets } from './sockets.js';
import type { HostSpec, InterfaceSpec, Located, RulesetSpec, ScenarioSpec } from '../scenario/spec.js';
import { DEFAULT_KERNEL } from '../kernel/profile.js';
import { readCpuCount } from './cpu-count.js';
import { withBridges } from './bridge-links.js';
import { readTextInput } from '../text-input.js';
import { statInput } from '../fs-refusal.js';

export * from './snapshot-files.js';
import { ADDR_FILE, ROUTE_FILE, SYSCTL_FILE, NFT_FILE, IPSET_FILE, IP6TABLES_FILE, IPTABLES_FILE, IPTABLES_LEGACY_FILE, IPVS_FILE, SOCKETS_FILE, IGMP_FILE } from './snapshot-files.js';
import { readIgmpGroups } from './igmp.js';

export interface NodeSnapshot {
  readonly dir: string;
  readonly host: HostSpec;
  /** The ruleset file used (a path inside dir), or null when the node has none. */
  readonly rulesetFile: string | null;
  /** Why that file: e.g. "using iptables-save.txt (nft-ruleset.txt shows the same tables)". */
  readonly rulesetChoice: string;
  /** CPUs the node has (cpu-online.txt or nproc.txt; 1 without either). */
  readonly cpus: number;
  /** What was read but left out, one line each (routes natsim derives itself, lo's addresses, …). */
  readonly skipped: string[];
  /**
   * What changes the replay and the user may not expect, one line each, for stderr: IPv6 left
   * out, a ruleset file set aside because it does not show the node's rules.
   */
  readonly notes: string[];
}

/** The IPv6 address flags ip -j addr prints as `"nodad": true` and so on (natsim's address flag words). */
const IPV6_FLAGS = ['nodad', 'deprecated', 'tentative', 'optimistic', 'dadfailed', 'home'] as const;

/** Whether DIR holds a node snapshot: the one file a replay cannot do without. */
export function isNodeFolder(dir: string): boolean {
  return existsSync(join(dir, ADDR_FILE));
}

/** Loads DIR; the host is named after the folder. Every problem is an InputError naming the file. */
export function loadNode(dir: string): NodeSnapshot {
  const stat = statInput(dir);
  if (stat === undefined) throw new InputError({ file: dir }, 'no such node folder');
  if (!stat.isDirectory()) throw new InputError({ file: dir }, 'is a file: a node snapshot is a folder (natsim snapshot DIR writes one)');
  const name = basename(resolve(dir));
  const skipped: string[] = [];
  const addrFile = join(dir, ADDR_FILE);
  if (!existsSync(addrFile)) throw new InputError({ file: addrFile }, `a node folder needs ${ADDR_FILE} (ip -j addr)`);
  const masters = new Map<string, string>();
  const interfaces = withGroups(dir, withBridges(dir, readInterfaces(addrFile, skipped, masters), (file) => arrayOf(file, readJson(file), 'ip -j -d link'), masters), skipped);
  const routeFile = join(dir, ROUTE_FILE);
  const routes = existsSync(routeFile) ? readRoutes(routeFile, new Set(interfaces.map((i) => i.name)), skipped) : [];
  if (!existsSync(routeFile)) skipped.push(`${ROUTE_FILE}: not present, only the routes of the addresses`);
  const sysctlFile = join(dir, SYSCTL_FILE);
  const sysctl = existsSync(sysctlFile) ? readSysctl(sysctlFile, new Set(interfaces.map((i) => i.name))) : [];
  const choice = chooseRuleset(dir);
  const ipsets = existsSync(join(dir, IPSET_FILE)) ? readRuleset(join(dir, IPSET_FILE)) : null;
  const ipvs = existsSync(join(dir, IPVS_FILE)) ? readRuleset(join(dir, IPVS_FILE)) : null;
  const sockets = existsSync(join(dir, SOCKETS_FILE)) ? readSockets(join(dir, SOCKETS_FILE)) : null;
  if (sockets) skipped.push(...sockets.skipped);
  const host: HostSpec = { name, interfaces, routes, sysctl, ruleset: choice.ruleset, ip6tables: choice.ip6tables ?? null, ipsets, ipvs, sockets: sockets?.sockets ?? [], place: { file: dir } };
  const notes = choice.note === undefined ? [] : [`${name}: ${choice.note}`];
  return { dir, host, cpus: readCpuCount(dir), rulesetFile: (choice.ruleset ?? choice.ip6tables)?.file ?? null, rulesetChoice: choice.why, skipped, notes };
}


/**
 * The interfaces with the groups igmp.txt lists for them beyond 224.0.0.1 (every device's);
 * lo's others, and a device ip-addr.json does not have, are noted as left out.
 */
function withGroups(dir: string, interfaces: InterfaceSpec[], skipped: string[]): InterfaceSpec[] {
  const file = join(dir, IGMP_FILE);
  if (!existsSync(file)) return interfaces;
  const groups = readIgmpGroups(file);
  const known = new Set(interfaces.map((i) => i.name));
  for (const [name, list] of groups) {
    const extra = list.filter((g) => g !== IGMP_ALL_HOSTS);
    if (extra.length > 0 && !known.has(name)) skipped.push(`${IGMP_FILE}: the groups of ${name} (${extra.map(formatIpv4).join(', ')}): ${name === 'lo' ? "natsim's lo is in 224.0.0.1 only" : `no interface ${name} in ${ADDR_FILE}`}`);
  }
  return interfaces.map((i) => {
    const extra = (groups.get(i.name) ?? []).filter((g) => g !== IGMP_ALL_HOSTS);
    return extra.length > 0 ? { ...i, groups: extra } : i;
  });
}

/** A one-host scenario around the node, for replaying a capture on it. */
export function nodeScenario(node: NodeSnapshot, seed = 1): ScenarioSpec {
  return { file: node.dir, name: node.host.name, about: `node snapshot ${node.dir}`, seed, cpus: node.cpus, kernel: DEFAULT_KERNEL.version, hosts: [node.host], trace: [node.host.name], run: [], until: null };
}

function readJson(file: string): unknown {
  const text = readTextInput(file);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError({ file, ...jsonErrorPlace(text, (e as Error).message) }, `not JSON: ${(e as Error).message}`);
  }
}

/** "… at position N" in V8's JSON errors → line and column. */
function jsonErrorPlace(text: string, message: string): Partial<SourcePlace> {
  const m = /position (\d+)/.exec(message);
  if (!m) return {};
  const before = text.slice(0, Number(m[1]));
  const lines = before.split('\n');
  return { line: lines.length, col: lines[lines.length - 1]!.length + 1 };
}

function arrayOf(file: string, value: unknown, what: string): Record<string, unknown>[] {
  if (!Array.isArray(value)) throw new InputError({ file }, `expected a JSON array (${what})`);
  value.forEach((v, i) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError({ file }, `entry ${i + 1}: expected an object`);
  });
  return value as Record<string, unknown>[];
}

/** ip -j addr: one interface per link except lo (natsim's implicit index 1), its Ethernet address and IPv4 addresses. */
function readInterfaces(file: string, skipped: string[], masters: Map<string, string>): InterfaceSpec[] {
  const links = arrayOf(file, readJson(file), 'ip -j addr');
  const out: InterfaceSpec[] = [];
  links.forEach((link, i) => {
    const entry = `entry ${i + 1}`;
    const ifname = link.ifname;
    const ifindex = link.ifindex;
    if (typeof ifname !== 'string' || ifname === '') throw new InputError({ file }, `${entry}: no ifname`);
    if (typeof ifindex !== 'number' || !Number.isInteger(ifindex) || ifindex < 1) throw new InputError({ file }, `${entry} (${ifname}): no valid ifindex`);
    const infos = Array.isArray(link.addr_info) ? (link.addr_info as Record<string, unknown>[]) : [];
    const inet = infos.filter((a) => a?.family === 'inet');
    const inet6 = infos.filter((a) => a?.family === 'inet6');
    if (ifname === 'lo') {
      const extra = inet.filter((a) => !(a.local === '127.0.0.1' && a.prefixlen === 8));
      if (extra.length > 0) skipped.push(`${ADDR_FILE}: lo's addresses other than 127.0.0.1/8 (${extra.map((a) => `${String(a.local)}/${String(a.prefixlen)}`).join(', ')}): natsim's lo has only that one`);
      return;
    }
    if (ifindex === 1) throw new InputError({ file }, `${entry} (${ifname}): index 1 is lo's in natsim`);
    if (typeof link.master === 'string') masters.set(ifname, link.master);
    const place: SourcePlace = { file };
    const addrs: Located<string>[] = inet.map((a, j) => {
      if (typeof a.local !== 'string' || typeof a.prefixlen !== 'number') throw new InputError({ file }, `${entry} (${ifname}): address ${j + 1} has no local/prefixlen`);
      return { value: `${a.local}/${a.prefixlen}`, place };
    });
    // ip -j addr lists IPv6 addresses in the kernel's list order; added oldest first they take
    // the same places again (ipv6_link_dev_addr), so they go in reversed
    for (const [j, a] of [...inet6.entries()].reverse()) {
      if (typeof a.local !== 'string' || typeof a.prefixlen !== 'number') throw new InputError({ file }, `${entry} (${ifname}): IPv6 address ${j + 1} has no local/prefixlen`);
      const flags = IPV6_FLAGS.filter((f) => a[f] === true);
      addrs.push({ value: [`${a.local}/${a.prefixlen}`, ...flags].join(' '), place });
    }
    const mac = link.link_type === 'ether' && typeof link.address === 'string' ? parseMac(link.address) : null;
    const mtu = typeof link.mtu === 'number' ? deviceMtu(link.mtu) : null;
    if (link.mtu !== undefined && mtu === null) throw new InputError({ file }, `${entry} (${ifname}): mtu ${String(link.mtu)} is not one natsim models (${MIN_MTU}-${MAX_MTU})`);
    out.push({ name: ifname, index: ifindex, addrs, link: null, mac, mtu, place });
  });
  return out;
}

const ROUTE_TYPES = new Set(['unicast', 'blackhole', 'unreachable', 'prohibit']);

/**
 * ip -j route show table all → `ip route` lines for the main table. The local table and the
 * kernel's connected routes (proto kernel, no gateway) are what natsim derives from the addresses.
 * `table all` lists both families (iproute2 dumps AF_UNSPEC when no one table is asked for).
 */
function readRoutes(file: string, devices: ReadonlySet<string>, skipped: string[]): Located<string>[] {
  const routes = arrayOf(file, readJson(file), 'ip -j route show table all');
  const out: Located<string>[] = [];
  let derivedConnected = 0;
  let localTable = 0;
  routes.forEach((r, i) => {
    const entry = `entry ${i + 1}`;
    const type = typeof r.type === 'string' ? r.type : 'unicast';
    const table = r.table === undefined ? 'main' : String(r.table);
    const dst = r.dst;
    const shown = `${type === 'unicast' ? '' : `${type} `}${String(dst)}${r.gateway ? ` via ${String(r.gateway)}` : ''}${r.dev ? ` dev ${String(r.dev)}` : ''}`;
    if (isIpv6Route(r)) {
      // what addrconf derives (proto kernel, the local table) and what natsim's FIB6 does not model is left to it
      if (table !== 'main' || !ROUTE_TYPES.has(type) || r.nexthops !== undefined || (r.protocol === 'kernel' && r.gateway === undefined)) return;
    }
    if (table === 'local') return void localTable++;
    if (table !== 'main') return void skipped.push(`${ROUTE_FILE} ${entry}: '${shown}' in table ${table} (natsim models the main and local tables only)`);
    if (!ROUTE_TYPES.has(type)) return void skipped.push(`${ROUTE_FILE} ${entry}: '${shown}': type ${type} is not modelled`);
    if (typeof dst !== 'string' || dst === '') throw new InputError({ file }, `${entry}: route without dst`);
    if (r.protocol === 'kernel' && r.gateway === undefined && r.nexthops === undefined) return void derivedConnected++;
    if (r.nexthops !== undefined) return void skipped.push(`${ROUTE_FILE} ${entry}: '${shown}': multipath routes are not modelled`);
    if (r.dev !== undefined && typeof r.dev === 'string' && r.dev !== 'lo' && !devices.has(r.dev)) {
      return void skipped.push(`${ROUTE_FILE} ${entry}: '${shown}': device ${r.dev} has no entry in ${ADDR_FILE}`);
    }
    const words: string[] = [];
    if (type !== 'unicast') words.push(type);
    words.push(dst);
    if (typeof r.gateway === 'string') words.push('via', r.gateway);
    if (typeof r.dev === 'string' && type === 'unicast') words.push('dev', r.dev);

    if (typeof r.prefsrc === 'string') words.push('src', r.prefsrc);
    if (typeof r.metric === 'number') words.push('metric', String(r.metric));
    if (typeof r.scope === 'string' && type === 'unicast' && ['global', 'link', 'host', 'site'].includes(r.scope)) words.push('scope', r.scope);
    if (typeof r.pref === 'string') words.push('pref', r.pref); // an IPv6 route's mark in the route line (isRoute6)
    out.push({ value: words.join(' '), place: { file } });
  });
  if (derivedConnected > 0) skipped.push(`${ROUTE_FILE}: ${derivedConnected} connected route${derivedConnected === 1 ? '' : 's'} (proto kernel) natsim derives from the addresses`);
  if (localTable > 0) skipped.push(`${ROUTE_FILE}: ${localTable} local-table route${localTable === 1 ? '' : 's'} natsim derives from the addresses`);
  return out;
}

/**
 * ip -j route prints no family; an IPv6 route has an IPv6 destination, gateway or source, or
 * `pref` (RTA_PREF, which only IPv6 routes carry: `default dev wg0` has nothing else to tell).
 */
function isIpv6Route(r: Record<string, unknown>): boolean {
  return 'pref' in r || [r.dst, r.gateway, r.prefsrc].some((v) => typeof v === 'string' && v.includes(':'));
}

/**
 * sysctl -a: `name = value` lines; only the sysctls natsim models are kept, with the per-device
 * conf values of the node's devices (conf.default is left out: it is what a device created
 * later starts with, and the node's devices are listed with their own values).
 */
function readSysctl(file: string, devices: ReadonlySet<string>): Located<[string, string | number]>[] {
  const text = readTextInput(file);
  const out: Located<[string, string | number]>[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const eq = line.indexOf('=');
    const place: SourcePlace = { file, line: i + 1 };
    if (eq < 0) throw new InputError(place, `expected 'name = value' (sysctl -a output), got '${line}'`);
    const value = line.slice(eq + 1).trim().split(/\s+/).join(' ');
    const conf = devConfName(line.slice(0, eq).trim());
    if (conf) {
      if (!devices.has(conf.dev)) return;
      if (!/^\d+$/.test(value)) throw new InputError(place, `net.ipv4.conf.${conf.dev}.${conf.key}: expected a number, got '${value}'`);
      out.push({ value: [`net.ipv4.conf.${conf.dev}.${conf.key}`, Number(value)], place });
      return;
    }
    const name = line.slice(0, eq).trim().replaceAll('/', '.');
    if (!Sysctl.isKnown(name)) return;
    if (typeof SYSCTL_DEFAULTS[name] === 'number') {
      if (!/^-?\d+$/.test(value)) throw new InputError(place, `${name}: expected a number, got '${value}'`);
      out.push({ value: [name, Number(value)], place });
    } else {
      out.push({ value: [name, value], place });
    }
  });
  return out;
}

/** Table names of families ip and ip6 in `nft list ruleset` text, and how many tables of any family it has. */
function nftIpTables(text: string): { ip: Set<string>; ip6: Set<string>; any: number } {
  const ip = new Set<string>();
  const ip6 = new Set<string>();
  let any = 0;
  for (const m of text.matchAll(/^\s*table\s+(?:(ip|ip6|inet|arp|bridge|netdev)\s+)?(\S+)\s*\{/gm)) {
    any++;
    const family = m[1] ?? 'ip';
    if (family === 'ip') ip.add(m[2]!);
    if (family === 'ip6') ip6.add(m[2]!);
  }
  return { ip, ip6, any };
}

/** Table names in iptables-save text (`*nat`, `*filter`, …). */
function iptablesTables(text: string): Set<string> {
  return new Set([...text.matchAll(/^\*(\S+)\s*$/gm)].map((m) => m[1]!));
}

function readRuleset(file: string): RulesetSpec {
  return { text: readTextInput(file), file, lineOffset: 0, colOffset: 0 };
}

interface RulesetChoice {
  readonly ruleset: RulesetSpec | null;
  /** ip6tables-save.txt, when it is read (next to iptables-save.txt, or alone). */
  readonly ip6tables?: RulesetSpec | null;
  readonly why: string;
  /** Said on stderr too: a choice the user would not expect from the files alone. */
  readonly note?: string;
}

/**
 * The tables iptables-nft's save says it cannot show (a base chain of its table that nft,
 * not iptables, made): `# Table `nat' contains incompatible base-chains, use 'nft' tool to list
 * them.` (iptables 1.8.10 on), `# Table `nat' is incompatible, use 'nft' tool.` before.
 */
function incompatibleTables(text: string): string[] {
  return [...text.matchAll(/^# Table `([^']+)' (?:contains incompatible base-chains|is incompatible)/gm)].map((m) => m[1]!);
}

/**
 * An iptables-legacy node keeps its rules in x_tables, which only iptables-legacy-save shows;
 * natsim reads one ruleset, so the legacy tables are read when the node has no nf_tables ones.
 */
function chooseRuleset(dir: string): RulesetChoice {
  const legacyPath = join(dir, IPTABLES_LEGACY_FILE);
  const legacy = existsSync(legacyPath) ? readRuleset(legacyPath) : null;
  const other = chooseNfTables(dir);
  if (!legacy || iptablesTables(legacy.text).size === 0) return other;
  if (!other.ruleset || rulesetTables(other.ruleset) === 0) return { ruleset: legacy, why: `using ${IPTABLES_LEGACY_FILE} (x_tables: the node has no nf_tables rules)` };
  return { ...other, why: `${other.why}; ${IPTABLES_LEGACY_FILE} ignored (natsim reads one ruleset, and the node has nf_tables rules too)` };
}

function rulesetTables(spec: RulesetSpec): number {
  return spec.file.endsWith(NFT_FILE) ? nftIpTables(spec.text).any : iptablesTables(spec.text).size;
}

/**
 * On an iptables-nft host `nft list ruleset` and iptables-save (ip6tables-save for the ip6
 * tables) show the same tables: the iptables texts are then the ones to read (they are what
 * was written, and natsim reads them fully).
 */
function chooseNfTables(dir: string): RulesetChoice {
  const nftPath = join(dir, NFT_FILE);
  const iptPath = join(dir, IPTABLES_FILE);
  const ip6Path = join(dir, IP6TABLES_FILE);
  const nft = existsSync(nftPath) ? readRuleset(nftPath) : null;
  const ipt = existsSync(iptPath) ? readRuleset(iptPath) : null;
  const ip6t = existsSync(ip6Path) ? readRuleset(ip6Path) : null;
  const ip6Tables = ip6t ? iptablesTables(ip6t.text) : new Set<string>();
  const ip6tables = ip6Tables.size > 0 ? ip6t : null;
  const with6 = (why: string): string => (ip6tables ? `${why} and ${IP6TABLES_FILE}` : why);
  if (!nft && !ipt) return ip6tables ? { ruleset: null, ip6tables, why: `using ${IP6TABLES_FILE} (no ${NFT_FILE} nor ${IPTABLES_FILE})` } : { ruleset: null, why: `no ruleset (neither ${NFT_FILE} nor ${IPTABLES_FILE}): empty ruleset` };
  const hidden = ipt ? incompatibleTables(ipt.text) : [];
  const unshown = `${IPTABLES_FILE} does not show table${hidden.length === 1 ? '' : 's'} ${hidden.join(', ')} (iptables-nft: "incompatible base-chains")`;
  if (!nft && hidden.length > 0) return { ruleset: ipt, ip6tables, why: with6(`using ${IPTABLES_FILE}`) + `; ${unshown}`, note: `${unshown}, and there is no ${NFT_FILE}: natsim runs without the rules of those tables` };
  if (!nft) return { ruleset: ipt, ip6tables, why: with6(`using ${IPTABLES_FILE}`) };
  const ip6Aside = ip6tables ? `; ${IP6TABLES_FILE} ignored (natsim reads the ip6 tables of ${NFT_FILE})` : '';
  if (!ipt && !ip6tables) return { ruleset: nft, why: `using ${NFT_FILE}` };
  if (hidden.length > 0) return { ruleset: nft, why: `using ${NFT_FILE} (${unshown})${ip6Aside}`, note: `using ${NFT_FILE}: ${unshown}` };
  const iptTables = ipt ? iptablesTables(ipt.text) : new Set<string>();
  const nftTables = nftIpTables(nft.text);
  if (iptTables.size === 0 && !ip6tables) return { ruleset: nft, why: `using ${NFT_FILE} (${IPTABLES_FILE} has no tables)` };
  const read = [...(iptTables.size > 0 ? [IPTABLES_FILE] : []), ...(ip6tables ? [IP6TABLES_FILE] : [])].join(' and ');
  const iptRuleset = iptTables.size > 0 ? ipt : null;
  if (nftTables.any === 0) return { ruleset: iptRuleset, ip6tables, why: `using ${read} (${NFT_FILE} has no tables: iptables-legacy?)` };
  const sameSet = (a: Set<string>, b: Set<string>): boolean => a.size === b.size && [...a].every((t) => b.has(t));
  const same = nftTables.any === nftTables.ip.size + nftTables.ip6.size && sameSet(iptTables, nftTables.ip) && sameSet(ip6Tables, nftTables.ip6);
  if (same) return { ruleset: iptRuleset, ip6tables, why: `using ${read} (${NFT_FILE} shows the same tables)` };
  return {
    ruleset: nft,
    why: `using ${NFT_FILE} (it differs from ${[IPTABLES_FILE, ...(ip6tables ? [IP6TABLES_FILE] : [])].join(' and ')}: nft tables ${describeNft(nft.text)}, iptables tables ${[...iptTables, ...[...ip6Tables].map((t) => `ip6 ${t}`)].join(', ')}; ${[IPTABLES_FILE, ...(ip6tables ? [IP6TABLES_FILE] : [])].join(' and ')} ignored)`,
  };
}

function describeNft(text: string): string {
  const names = [...text.matchAll(/^\s*table\s+(?:(ip|ip6|inet|arp|bridge|netdev)\s+)?(\S+)\s*\{/gm)].map((m) => `${m[1] ?? 'ip'} ${m[2]!}`);
  return names.join(', ');
}
