/**
 * Reads a scenario file into a ScenarioSpec, checking its shape with line-accurate errors.
 */
import { dirname, isAbsolute, join } from 'node:path';
import { parseDocument, isMap, isScalar, isSeq, type Node } from 'yaml';
import { InputError } from '../errors.js';
import { deviceMtu, MAX_MTU, MIN_MTU, parseMac } from '../host/device.js';
import { ipv4IsMulticast, parseIpv4 } from '../packet/ipv4-addr.js';
import { YamlSource, yamlLineCounter, type LineShift } from './yaml-place.js';
import { splitRunList, type RunSlice } from './run-list.js';
import { CLOCK_LIMIT_TEXT, DURATION_HINT, MAX_CLOCK_NS, parseDuration } from '../sim/duration.js';
import type { BridgeSpec, HostSpec, InterfaceSpec, Located, PortSpec, RulesetSpec, RunStep, ScenarioSpec } from './spec.js';
import { DEFAULT_AGEING_TIME_NS, DEFAULT_PORT_FLAGS, type PortFlags } from '../bridge/bridge.js';
import { readCpuCount, withinNrCpus } from '../node/cpu-count.js';
import { CANNOT_READ, readTextInput } from '../text-input.js';
import { rememberText } from '../text-columns.js';
import { DEFAULT_KERNEL, isKernelVersion, KERNEL_VERSIONS, type KernelVersion } from '../kernel/profile.js';
const HOST_KEYS = new Set(['interfaces', 'routes', 'sysctl', 'ruleset', 'ruleset-file', 'ip6tables', 'ip6tables-file', 'ipsets', 'ipsets-file', 'ipvs', 'ipvs-file', 'conntrack-hash-seed']);
const IFACE_KEYS = new Set(['addr', 'link', 'index', 'mac', 'mtu', 'groups', 'kind', 'ageing-time', 'master', 'hairpin', 'learning', 'flood']);

const TOP_KEYS = new Set(['natsim', 'name', 'about', 'seed', 'cpus', 'kernel', 'hosts', 'trace', 'run', 'until']);

export function loadScenario(file: string): ScenarioSpec {
  return parseScenario(readTextInput(file), file);
}

export function parseScenario(text: string, file: string): ScenarioSpec {
  rememberText(file, text);
  const split = splitRunList(text);
  if (split) {
    const head = readDocument(split.head, file, { after: split.runLine, by: split.runLines });
    const run = topField(head, 'run');
    // the head's `run:` must be the key the cut was made under, now empty; else read it whole
    if (run !== undefined && (run[0] === null || (isScalar(run[0]) && run[0].value === null)) && head.place(run[1]).line === split.runLine) {
      const spec = readSpec(head, file, (names) => readSlices(split.slices, file, names));
      if (spec !== null) return spec;
    }
  }
  return readSpec(readDocument(text, file), file, null)!;
}

/** Parses one YAML document; its first error, if any, is the file's. */
function readDocument(text: string, file: string, shift?: LineShift): YamlSource {
  const lines = yamlLineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const src = new YamlSource(file, doc, lines, text, shift);
  const err = doc.errors[0];
  if (err !== undefined) {
    // the yaml reader recurses per nesting level and stops (RESOURCE_EXHAUSTION) when the stack does
    const reason = err.code === 'RESOURCE_EXHAUSTION' ? 'YAML nested too deeply to read (a scenario nests a few levels: hosts, interfaces, addresses)' : err.message.split('\n')[0]!;
    throw new InputError(src.placeAt(err.pos[0]), reason);
  }
  return src;
}

function topField(src: YamlSource, name: string): [Node | null, Node] | undefined {
  if (!isMap(src.doc.contents)) return undefined;
  const entry = src.entries(src.doc.contents, 'scenario').find(([key]) => key === name);
  return entry && [entry[1], entry[2]];
}

/**
 * The run list of a scenario read in slices (scenario/run-list.ts); null when a slice does not
 * hold the items the cut counted (the whole document is read instead).
 */
function readSlices(slices: readonly RunSlice[], file: string, names: Set<string>): RunStep[] | null {
  const run: RunStep[] = [];
  for (const slice of slices) {
    const src = readDocument(slice.text, file, { after: 0, by: slice.firstLine - 1 });
    const items = src.doc.contents;
    if (!isSeq(items) || items.items.length !== slice.items) return null;
    for (const n of items.items) run.push(readStep(src, n as Node, names));
  }
  return run;
}

/**
 * The scenario from its document; `slicedRun`, when the run list was cut out of it, reads the
 * list (null from it: the cut was wrong, read the whole document).
 */
function readSpec(src: YamlSource, file: string, slicedRun: ((names: Set<string>) => RunStep[] | null) | null): ScenarioSpec | null {
  const doc = src.doc;
  const fields = new Map<string, [Node | null, Node]>();
  for (const [key, value, keyNode] of src.entries(doc.contents as Node, 'scenario')) {
    if (!TOP_KEYS.has(key)) src.fail(keyNode, `unknown key '${key}' (expected one of: ${[...TOP_KEYS].join(', ')})`);
    fields.set(key, [value, keyNode]);
  }
  const version = fields.get('natsim');
  if (!version) return src.fail(doc.contents as Node, "missing 'natsim: 1' (the scenario format version)");
  if (src.num(version[0], 'natsim') !== 1) src.fail(version[0], 'only scenario format version 1 is known');
  const hostsNode = fields.get('hosts');
  if (!hostsNode) return src.fail(doc.contents as Node, "missing 'hosts'");
  const hosts = src.entries(hostsNode[0], 'hosts').map(([name, node, keyNode]) => readHost(src, name, node, keyNode));
  const names = new Set(hosts.map((h) => h.name));
  const trace = fields.has('trace') ? src.items(fields.get('trace')![0], 'trace').map((n) => hostRef(src, n, names)) : hosts.map((h) => h.name);
  const run = slicedRun ? slicedRun(names) : fields.has('run') ? src.items(fields.get('run')![0], 'run').map((n) => readStep(src, n, names)) : [];
  if (run === null) return null;
  return {
    file,
    name: fields.has('name') ? src.text(fields.get('name')![0], 'name') : file,
    about: fields.has('about') ? src.text(fields.get('about')![0], 'about') : '',
    seed: fields.has('seed') ? src.num(fields.get('seed')![0], 'seed') : 1,
    // without `cpus`, a scenario beside a node snapshot has that node's CPUs (1 otherwise)
    cpus: fields.has('cpus') ? cpuCount(src, fields.get('cpus')![0]) : readCpuCount(dirname(file)),
    kernel: fields.has('kernel') ? kernelVersion(src, fields.get('kernel')![0]) : DEFAULT_KERNEL.version,
    hosts,
    trace,
    run: run.sort((a, b) => a.at - b.at),
    until: fields.has('until') ? duration(src, fields.get('until')![0], 'until') : null,
  };
}

function cpuCount(src: YamlSource, node: Node | null): number {
  return withinNrCpus(positive(src, node, 'cpus'), src.place(node));
}

function positive(src: YamlSource, node: Node | null, what: string): number {
  const n = src.num(node, what);
  if (n < 1) src.fail(node, `${what} must be at least 1`);
  return n;
}

/**
 * `kernel: 4.15` or `kernel: "4.15"`: read as written, since YAML would read 5.10 as the
 * number 5.1.
 */
function kernelVersion(src: YamlSource, node: Node | null): KernelVersion {
  src.text(node, 'kernel');
  const written = src.source.slice(node!.range![0], node!.range![1]).trim().replace(/^(["'])(.*)\1$/, '$2');
  if (!isKernelVersion(written)) src.fail(node, `unknown kernel '${written}' (natsim has profiles for Linux ${KERNEL_VERSIONS.join(', ')})`);
  return written;
}

function hostRef(src: YamlSource, node: Node, names: Set<string>): string {
  const name = src.text(node, 'host name');
  if (!names.has(name)) src.fail(node, `no host '${name}'`);
  return name;
}

function readHost(src: YamlSource, name: string, node: Node | null, keyNode: Node): HostSpec {
  const host: { interfaces: InterfaceSpec[]; routes: Located<string>[]; sysctl: Located<[string, string | number]>[]; ruleset: RulesetSpec | null; ip6tables: RulesetSpec | null; ipsets: RulesetSpec | null; ipvs: RulesetSpec | null; conntrackHashSeed: number | null } = {
    interfaces: [],
    routes: [],
    sysctl: [],
    ruleset: null,
    ip6tables: null,
    ipsets: null,
    ipvs: null,
    conntrackHashSeed: null,
  };
  for (const [key, value, k] of node === null ? [] : src.entries(node, `host ${name}`)) {
    if (!HOST_KEYS.has(key)) src.fail(k, `unknown key '${key}' in host ${name} (expected one of: ${[...HOST_KEYS].join(', ')})`);
    if (key === 'interfaces') host.interfaces = checkBridges(src.entries(value, 'interfaces').map(([n, v, kn]) => readInterface(src, n, v, kn)));
    if (key === 'routes') host.routes = src.items(value, 'routes').map((r) => ({ value: src.text(r, 'route'), place: src.place(r) }));
    if (key === 'sysctl') host.sysctl = src.entries(value, 'sysctl').map(([n, v, kn]) => ({ value: [n, scalar(src, v, n)], place: src.place(kn) }));
    if (key === 'ruleset') host.ruleset = inlineRuleset(src, value);
    if (key === 'ruleset-file') host.ruleset = rulesetFile(src, value);
    if (key === 'ip6tables') host.ip6tables = inlineRuleset(src, value);
    if (key === 'ip6tables-file') host.ip6tables = rulesetFile(src, value);
    if (key === 'ipsets') host.ipsets = inlineRuleset(src, value);
    if (key === 'ipsets-file') host.ipsets = rulesetFile(src, value);
    if (key === 'ipvs') host.ipvs = inlineRuleset(src, value);
    if (key === 'ipvs-file') host.ipvs = rulesetFile(src, value);
    if (key === 'conntrack-hash-seed') host.conntrackHashSeed = src.num(value, key) >>> 0;
  }
  return { name, ...host, place: src.place(keyNode) };
}

function scalar(src: YamlSource, node: Node | null, what: string): string | number {
  if (!isScalar(node) || (typeof node.value !== 'string' && typeof node.value !== 'number')) src.fail(node, `${what} must be a number or a string`);
  return node.value;
}

function readInterface(src: YamlSource, name: string, node: Node | null, keyNode: Node): InterfaceSpec {
  let addrs: Located<string>[] = [];
  let link: string | null = null;
  let index: number | null = null;
  let mac: Uint8Array | null = null;
  let mtu: number | null = null;
  let groups: number[] = [];
  const bridge = new BridgeKeys();
  for (const [key, value, k] of node === null ? [] : src.entries(node, `interface ${name}`)) {
    if (!IFACE_KEYS.has(key)) src.fail(k, `unknown key '${key}' in interface ${name} (expected one of: ${[...IFACE_KEYS].join(', ')})`);
    if (key === 'addr') addrs = src.items(value, 'addr').map((a) => ({ value: src.text(a, 'address'), place: src.place(a) }));
    if (key === 'link') link = src.text(value, 'link');
    if (key === 'index') index = positive(src, value, 'index');
    if (key === 'mac') mac = parseMac(src.text(value, 'mac')) ?? src.fail(value, 'mac must be six hex bytes joined by colons (aa:bb:cc:dd:ee:ff)');
    if (key === 'mtu') mtu = deviceMtu(positive(src, value, 'mtu')) ?? src.fail(value, `mtu must be from ${MIN_MTU} to ${MAX_MTU} (IPv4's minimum, the largest an Ethernet-like device takes)`);
    if (key === 'groups') groups = src.items(value, 'groups').map((g) => group(src, g));
    bridge.read(src, key, value, k);
  }
  return { name, index, addrs, link, mac, mtu, groups, ...bridge.spec(src, name), place: src.place(keyNode) };
}

/** An IPv4 group an interface is in (`groups:`, as a socket's IP_ADD_MEMBERSHIP joins it). */
function group(src: YamlSource, node: Node): number {
  const addr = parseIpv4(src.text(node, 'group'));
  return addr !== null && ipv4IsMulticast(addr) ? addr : src.fail(node, 'a group must be an IPv4 multicast address (224.0.0.0/4)');
}

/** An interface's bridge keys: `kind: bridge` with `ageing-time`, or `master` with the port flags. */
class BridgeKeys {
  private kind: Node | null = null;
  private ageing: [Node | null, Node] | null = null;
  private master: [string, Node] | null = null;
  private readonly flags: Partial<Record<keyof PortFlags, boolean>> = {};
  private readonly flagNodes: Node[] = [];

  read(src: YamlSource, key: string, value: Node | null, keyNode: Node): void {
    if (key === 'kind') {
      if (src.text(value, 'kind') !== 'bridge') src.fail(value, "kind must be 'bridge' (the only device kind natsim models besides a plain interface)");
      this.kind = keyNode;
    }
    if (key === 'ageing-time') this.ageing = [value, keyNode];
    if (key === 'master') this.master = [src.text(value, 'master'), value ?? keyNode];
    if (key === 'hairpin' || key === 'learning' || key === 'flood') {
      if (!isScalar(value) || typeof value.value !== 'boolean') src.fail(value ?? keyNode, `${key} must be true or false`);
      this.flags[key] = value.value;
      this.flagNodes.push(keyNode);
    }
  }

  spec(src: YamlSource, name: string): { bridge: BridgeSpec | null; port: PortSpec | null } {
    if (this.ageing !== null && this.kind === null) src.fail(this.ageing[1], `ageing-time is a bridge's: interface ${name} needs 'kind: bridge'`);
    if (this.flagNodes.length > 0 && this.master === null) src.fail(this.flagNodes[0]!, `hairpin, learning and flood are a bridge port's: interface ${name} needs 'master: BRIDGE'`);
    if (this.kind !== null && this.master !== null) src.fail(this.master[1], `interface ${name} is a bridge: natsim models no bridge as a port of another`);
    const bridge = this.kind === null ? null : { ageingTime: this.ageing === null ? DEFAULT_AGEING_TIME_NS : duration(src, this.ageing[0], 'ageing-time') };
    const port = this.master === null ? null : { master: this.master[0], flags: { ...DEFAULT_PORT_FLAGS, ...this.flags }, place: src.place(this.master[1]) };
    return { bridge, port };
  }
}

/**
 * The bridges of a host as `ip link` would take them: a port's master is a bridge of the same
 * host, not itself; a port has no IPv4 address (the bridge takes all its frames, so ip_rcv
 * never sees one on it); a bridge plugs into no link of its own (its ports do).
 */
function checkBridges(interfaces: InterfaceSpec[]): InterfaceSpec[] {
  const byName = new Map(interfaces.map((i) => [i.name, i]));
  for (const i of interfaces) {
    if (i.bridge && i.link !== null) throw new InputError(i.place, `bridge ${i.name} has a link: a bridge joins the links of its ports ('master: ${i.name}' on them), not one of its own`);
    if (!i.port) continue;
    const master = byName.get(i.port.master);
    if (master === undefined) throw new InputError(i.port.place, `interface ${i.name}: master '${i.port.master}' is not an interface of this host`);
    if (!master.bridge) throw new InputError(i.port.place, `interface ${i.name}: master '${i.port.master}' is not a bridge (give it 'kind: bridge')`);
    if (i.addrs.length > 0) throw new InputError(i.addrs[0]!.place, `interface ${i.name} is a port of ${master.name}: its frames go to the bridge, so an IPv4 address on it is never used (put it on ${master.name})`);
  }
  return interfaces;
}

/** A block scalar: its text starts on the line after its indicator, indented. */
function inlineRuleset(src: YamlSource, node: Node | null): RulesetSpec {
  const text = src.text(node, 'ruleset');
  const place = src.place(node);
  const block = isScalar(node) && (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED');
  const indent = block ? firstIndent(src.source, node!.range![0]) : place.col! - 1;
  return { text, file: src.file, lineOffset: block ? place.line! : place.line! - 1, colOffset: indent };
}

/** The indentation of the line after the one `offset` is on. */
function firstIndent(source: string, offset: number): number {
  const nl = source.indexOf('\n', offset);
  if (nl < 0) return 0;
  let i = nl + 1;
  while (source[i] === ' ' || source[i] === '\t') i++;
  return i - nl - 1;
}

function rulesetFile(src: YamlSource, node: Node | null): RulesetSpec {
  const rel = src.text(node, 'ruleset-file');
  const path = isAbsolute(rel) ? rel : join(dirname(src.file), rel);
  try {
    return { text: readTextInput(path), file: path, lineOffset: 0, colOffset: 0 };
  } catch (e) {
    // a file too large is said about the file itself; one that is not there, where it is named
    if (!(e instanceof InputError) || !e.reason.startsWith(CANNOT_READ)) throw e;
    src.fail(node, `cannot read ruleset file '${rel}': ${e.reason.slice(CANNOT_READ.length)}`);
  }
}

function readStep(src: YamlSource, node: Node, names: Set<string>): RunStep {
  let at = 0;
  let on: string | null = null;
  let action: string | null = null;
  for (const [key, value, k] of src.entries(node, 'run step')) {
    if (key === 'at') at = duration(src, value, 'at');
    else if (key === 'on') on = hostRef(src, value as Node, names);
    else if (key === 'do') action = src.text(value, 'do');
    else src.fail(k, `unknown key '${key}' in run step (expected at, on, do)`);
  }
  if (on === null) src.fail(node, "run step needs 'on: HOST'");
  if (action === null) src.fail(node, "run step needs 'do: ACTION'");
  return { at, on, action, place: src.place(node) };
}

/** A duration (sim/duration.ts) to nanoseconds. */
function duration(src: YamlSource, node: Node | null, what: string): number {
  const text = String(scalar(src, node, what));
  const ns = parseDuration(text) ?? src.fail(node, `bad time '${text}' (expected ${DURATION_HINT})`);
  if (ns > MAX_CLOCK_NS) src.fail(node, `time '${text}' is too late: ${CLOCK_LIMIT_TEXT}`);
  return ns;
}
