/**
 * Generators shared by the property tests (test/properties) and `npm run fuzz`:
 *   - random small worlds (clients on a LAN behind a NAT router, servers on a WAN), as
 *     scenario YAML text, with the facts the invariant checks need (who should reach whom);
 *   - mutated scenario texts, starting from fixtures/seeds/*.yaml;
 *   - mutated captures, starting from fixtures/kernel/*\/capture.pcap.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { hostileScenarioArb } from './hostile.js';

/** The checkout's fixtures directory, from src/fuzz (vitest) and from dist/fuzz alike. */
export const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Random worlds

export const LAN_PREFIX = '10.0.1';
export const ROUTER_LAN = '10.0.1.1';
export const ROUTER_WAN = ['203.0.113.1', '203.0.113.2'] as const;
export const VIP = '198.51.100.80';
export const DEAD = '203.0.113.200';
export const clientAddr = (i: number): string => `${LAN_PREFIX}.${10 + i}`;
export const serverAddr = (j: number): string => `203.0.113.${100 + j}`;

export type NatKind =
  | { readonly kind: 'masquerade'; readonly fully: boolean; readonly ports: PortRange | null }
  | { readonly kind: 'snat'; readonly twoAddrs: boolean; readonly fully: boolean; readonly ports: PortRange | null };

export interface PortRange {
  readonly lo: number;
  readonly n: number;
}

export type Target = 'server' | 'vip' | 'dead' | 'router';

export interface Flow {
  readonly client: number;
  readonly kind: 'tcp' | 'udp' | 'ping';
  readonly target: Target;
  readonly server: number;
  /** false: the port nobody listens on (81 for TCP, 54 for UDP). */
  readonly openPort: boolean;
  readonly atMs: number;
  /** A fixed source port (41000, 41001, … numbered per client, so different clients collide on purpose). */
  readonly fixedFrom: boolean;
  readonly holdS: number | null;
  readonly send: number;
  readonly count: number;
  /** Ping: a fixed echo id (collides across clients on purpose), else the world's random one. */
  readonly pingId: number | null;
}

export interface WorldCase {
  readonly seed: number;
  readonly cpus: number;
  readonly syntax: 'nft' | 'iptables';
  readonly nat: NatKind;
  /**
   * What answers at the VIP: nothing, an nft/iptables DNAT to server 0, or the router's IPVS
   * (NAT mode over every server; the router owns the VIP) with or without net.ipv4.vs.conntrack.
   */
  readonly vip: 'none' | 'dnat' | 'ipvs';
  readonly ipvs: { readonly scheduler: 'rr' | 'wlc' | 'sh'; readonly conntrack: boolean };
  readonly clients: number;
  readonly servers: number;
  /** Clients' net.ipv4.ip_local_port_range, narrowed to force equal source ports. */
  readonly clientPorts: PortRange | null;
  readonly synRetries: number;
  readonly reply: number;
  readonly flows: readonly Flow[];
}

const portRange = fc.record({ lo: fc.integer({ min: 1024, max: 60000 }), n: fc.integer({ min: 1, max: 6 }) });

const natKind: fc.Arbitrary<NatKind> = fc.oneof(
  fc.record({ kind: fc.constant('masquerade' as const), fully: fc.boolean(), ports: fc.option(portRange, { freq: 2 }) }),
  fc.record({ kind: fc.constant('snat' as const), twoAddrs: fc.boolean(), fully: fc.boolean(), ports: fc.option(portRange, { freq: 2 }) }),
);

const flow = (clients: number, servers: number): fc.Arbitrary<Flow> =>
  fc.record({
    client: fc.integer({ min: 0, max: clients - 1 }),
    kind: fc.constantFrom('tcp' as const, 'tcp' as const, 'udp' as const, 'ping' as const),
    target: fc.constantFrom<Target>('server', 'server', 'server', 'vip', 'dead', 'router'),
    server: fc.integer({ min: 0, max: servers - 1 }),
    openPort: fc.constantFrom(true, true, true, false),
    atMs: fc.integer({ min: 1, max: 3000 }),
    fixedFrom: fc.boolean(),
    holdS: fc.option(fc.constantFrom(0.05, 0.2, 1, 2), { freq: 2 }),
    send: fc.constantFrom(0, 0, 10, 100),
    count: fc.integer({ min: 1, max: 3 }),
    pingId: fc.option(fc.constantFrom(7, 8), { freq: 2 }),
  });

export const worldArb: fc.Arbitrary<WorldCase> = fc
  .record({ clients: fc.integer({ min: 1, max: 3 }), servers: fc.integer({ min: 1, max: 2 }) })
  .chain(({ clients, servers }) =>
    fc.record({
      seed: fc.integer({ min: 1, max: 1_000_000 }),
      cpus: fc.constantFrom(1, 1, 2),
      syntax: fc.constantFrom('nft' as const, 'iptables' as const),
      nat: natKind,
      vip: fc.constantFrom('none' as const, 'dnat' as const, 'ipvs' as const),
      ipvs: fc.record({ scheduler: fc.constantFrom('rr' as const, 'wlc' as const, 'sh' as const), conntrack: fc.boolean() }),
      clients: fc.constant(clients),
      servers: fc.constant(servers),
      clientPorts: fc.option(fc.record({ lo: fc.constant(40000), n: fc.integer({ min: 1, max: 4 }) }), { freq: 3 }),
      synRetries: fc.integer({ min: 1, max: 3 }),
      reply: fc.constantFrom(0, 21),
      flows: fc.array(flow(clients, servers), { minLength: 1, maxLength: 8 }),
    }),
  );

/** Where a flow goes, as an address. */
export function flowTarget(_w: WorldCase, f: Flow): string {
  switch (f.target) {
    case 'server':
      return serverAddr(f.server);
    case 'vip':
      return VIP;
    case 'dead':
      return DEAD;
    case 'router':
      return ROUTER_WAN[0];
  }
}

export function flowPort(f: Flow): number {
  if (f.kind === 'tcp') return f.openPort ? 80 : 81;
  return f.openPort ? 53 : 54;
}

/** The fixed source port of each flow that has one: 41000, 41001, … per client (outside the narrowed ephemeral range 40000+). */
export function fixedPorts(w: WorldCase): (number | null)[] {
  const next = new Map<number, number>();
  return w.flows.map((f) => {
    if (!f.fixedFrom || f.kind === 'ping') return null;
    const n = next.get(f.client) ?? 0;
    next.set(f.client, n + 1);
    return 41000 + n;
  });
}

function natRules(w: WorldCase): { nft: string[]; ipt: string[] } {
  const nat = w.nat;
  const flags = nat.fully ? ' fully-random' : '';
  const iflags = nat.fully ? ' --random-fully' : '';
  const match = `ip saddr ${LAN_PREFIX}.0/24 oif "eth1"`;
  const imatch = `-s ${LAN_PREFIX}.0/24 -o eth1`;
  const ports = nat.ports ? `${nat.ports.lo}-${nat.ports.lo + nat.ports.n - 1}` : null;
  const nft: string[] = [];
  const ipt: string[] = [];
  const protos = ports ? ['tcp', 'udp', null] : [null];
  for (const p of protos) {
    const np = p ? ` meta l4proto ${p}` : '';
    const ip = p ? ` -p ${p}` : '';
    if (nat.kind === 'masquerade') {
      nft.push(`${match}${np} masquerade${p && ports ? ` to :${ports}` : ''}${flags}`);
      ipt.push(`-A POSTROUTING ${imatch}${ip} -j MASQUERADE${p && ports ? ` --to-ports ${ports}` : ''}${iflags}`);
    } else {
      const addrs = nat.twoAddrs ? `${ROUTER_WAN[0]}-${ROUTER_WAN[1]}` : ROUTER_WAN[0];
      nft.push(`${match}${np} snat to ${addrs}${p && ports ? `:${ports}` : ''}${flags}`);
      ipt.push(`-A POSTROUTING ${imatch}${ip} -j SNAT --to-source ${addrs}${p && ports ? `:${ports}` : ''}${iflags}`);
    }
  }
  return { nft, ipt };
}

function ruleset(w: WorldCase): string {
  const post = natRules(w);
  const server0 = serverAddr(0);
  if (w.syntax === 'nft') {
    const lines = ['table ip nat {'];
    if (w.vip === 'dnat') {
      lines.push('  chain prerouting {', '    type nat hook prerouting priority dstnat; policy accept;', `    ip daddr ${VIP} tcp dport 80 dnat to ${server0}:80`, '  }');
    }
    lines.push('  chain postrouting {', '    type nat hook postrouting priority srcnat; policy accept;', ...post.nft.map((r) => `    ${r}`), '  }', '}');
    return lines.join('\n');
  }
  const lines = ['*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]'];
  if (w.vip === 'dnat') lines.push(`-A PREROUTING -d ${VIP}/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination ${server0}:80`);
  lines.push(...post.ipt, 'COMMIT');
  return lines.join('\n');
}

/** The world as scenario YAML (the same text always for the same case). */
export function worldYaml(w: WorldCase): string {
  const out: string[] = ['natsim: 1', 'name: generated', `seed: ${w.seed}`, `cpus: ${w.cpus}`, 'hosts:'];
  for (let i = 0; i < w.clients; i++) {
    out.push(`  c${i}:`);
    const sysctl = [`net.ipv4.tcp_syn_retries: ${w.synRetries}`];
    if (w.clientPorts) sysctl.push(`net.ipv4.ip_local_port_range: "${w.clientPorts.lo} ${w.clientPorts.lo + w.clientPorts.n - 1}"`);
    out.push(`    sysctl: { ${sysctl.join(', ')} }`);
    out.push(`    interfaces: { eth0: { addr: [${clientAddr(i)}/24], link: lan } }`);
    out.push(`    routes: [default via ${ROUTER_LAN}]`);
  }
  const ipvs = w.vip === 'ipvs';
  out.push('  router:', `    sysctl: { net.ipv4.ip_forward: 1${ipvs ? `, net.ipv4.vs.conntrack: ${w.ipvs.conntrack ? 1 : 0}` : ''} }`, '    interfaces:');
  out.push(`      eth0: { addr: [${ROUTER_LAN}/24], link: lan }`);
  out.push(`      eth1: { addr: [${ROUTER_WAN[0]}/24, ${ROUTER_WAN[1]}/24${ipvs ? `, ${VIP}/32` : ''}], link: wan }`);
  out.push('    ruleset: |');
  for (const l of ruleset(w).split('\n')) out.push(`      ${l}`);
  if (ipvs) {
    out.push('    ipvs: |', `      -A -t ${VIP}:80 -s ${w.ipvs.scheduler}`);
    for (let j = 0; j < w.servers; j++) out.push(`      -a -t ${VIP}:80 -r ${serverAddr(j)}:80 -m`);
  }
  for (let j = 0; j < w.servers; j++) {
    out.push(`  s${j}:`, `    interfaces: { eth0: { addr: [${serverAddr(j)}/24], link: wan } }`);
    // With IPVS and no conntrack the client's own address reaches the server (the LVS seed).
    if (ipvs) out.push(`    routes: [${LAN_PREFIX}.0/24 via ${ROUTER_WAN[0]}]`);
  }
  out.push('run:');
  for (let j = 0; j < w.servers; j++) {
    out.push(`  - { at: 0s, on: s${j}, do: tcp listen 80${w.reply ? ` reply ${w.reply}` : ''} }`);
    out.push(`  - { at: 0s, on: s${j}, do: udp listen 53 echo }`);
  }
  const fixed = fixedPorts(w);
  w.flows.forEach((f, k) => {
    const dst = flowTarget(w, f);
    let action: string;
    if (f.kind === 'ping') action = `ping ${dst} count ${f.count} interval 0.3${f.pingId !== null ? ` id ${f.pingId}` : ''}`;
    else if (f.kind === 'tcp') {
      action = `tcp connect ${dst}:${flowPort(f)}`;
      if (fixed[k] !== null) action += ` from :${fixed[k]}`;
      if (f.send) action += ` send ${f.send}`;
      if (f.holdS !== null) action += ` hold ${f.holdS}`;
    } else {
      action = `udp send ${dst}:${flowPort(f)}`;
      if (fixed[k] !== null) action += ` from ${fixed[k]}`;
      action += ` count ${f.count} interval 0.2`;
    }
    out.push(`  - { at: ${f.atMs}ms, on: c${f.client}, do: ${action} }`);
  });
  out.push('until: 60s', '');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Mutated scenario texts

export interface SeedText {
  readonly file: string;
  readonly text: string;
}

export function seedScenarios(): SeedText[] {
  const dir = `${FIXTURES}seeds/`;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ file: `${dir}${f}`, text: readFileSync(`${dir}${f}`, 'utf8') }));
}

export type TextMutation =
  | { readonly op: 'insert-char'; readonly at: number; readonly char: string }
  | { readonly op: 'delete-chars'; readonly at: number; readonly len: number }
  | { readonly op: 'replace-char'; readonly at: number; readonly char: string }
  | { readonly op: 'delete-line'; readonly line: number }
  | { readonly op: 'duplicate-line'; readonly line: number }
  | { readonly op: 'swap-lines'; readonly line: number; readonly other: number }
  | { readonly op: 'replace-token'; readonly at: number; readonly token: string };

/** Characters and words that matter to YAML, addresses, ports, times and rule syntax. */
const CHARS = [' ', '\n', '\t', ':', '-', '{', '}', '[', ']', ',', '"', "'", '|', '>', '#', '&', '*', '!', '%', '@', '/', '.', '0', '1', '9', 'a', 'x', 'é', '\u0000', '\r'];
const TOKENS = ['0', '-1', '65536', '99999999999', '1e309', 'NaN', '0.0001', '255.255.255.255', '0.0.0.0/0', '1.2.3.4/33', 'null', '~', '[]', '{}', 'true', '1000000', 'lo', 'eth0', 'tcp', 'udp', 'icmp', ':0', ':65535-1', '0s', '3600', '"', 'ping', 'via', 'dev', 'hold', 'count 1000000', '&a', '*a', '<<: *a', '!!binary', '--random-fully', 'fully-random', 'masquerade', 'snat to 1.2.3.4:1-0', 'COMMIT', '-j', '}', 'policy drop;'];

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ op: fc.constant('insert-char' as const), at: fc.nat(), char: fc.constantFrom(...CHARS) }),
  fc.record({ op: fc.constant('delete-chars' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ op: fc.constant('replace-char' as const), at: fc.nat(), char: fc.constantFrom(...CHARS) }),
  fc.record({ op: fc.constant('delete-line' as const), line: fc.nat() }),
  fc.record({ op: fc.constant('duplicate-line' as const), line: fc.nat() }),
  fc.record({ op: fc.constant('swap-lines' as const), line: fc.nat(), other: fc.nat() }),
  fc.record({ op: fc.constant('replace-token' as const), at: fc.nat(), token: fc.constantFrom(...TOKENS) }),
);

export function applyTextMutation(text: string, m: TextMutation): string {
  const lines = text.split('\n');
  const at = text.length === 0 ? 0 : m.op === 'delete-line' || m.op === 'duplicate-line' || m.op === 'swap-lines' ? 0 : m.at % (text.length + 1);
  switch (m.op) {
    case 'insert-char':
      return text.slice(0, at) + m.char + text.slice(at);
    case 'delete-chars':
      return text.slice(0, at) + text.slice(at + m.len);
    case 'replace-char':
      return text.slice(0, at) + m.char + text.slice(at + 1);
    case 'delete-line':
      lines.splice(m.line % lines.length, 1);
      return lines.join('\n');
    case 'duplicate-line': {
      const i = m.line % lines.length;
      lines.splice(i, 0, lines[i]!);
      return lines.join('\n');
    }
    case 'swap-lines': {
      const i = m.line % lines.length;
      const j = m.other % lines.length;
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      return lines.join('\n');
    }
    case 'replace-token': {
      // replace the word (run of non-space, non-YAML-punctuation) around `at`
      let s = at;
      let e = at;
      while (s > 0 && !/[\s:{},[\]]/.test(text[s - 1]!)) s--;
      while (e < text.length && !/[\s:{},[\]]/.test(text[e]!)) e++;
      return text.slice(0, s) + m.token + text.slice(e);
    }
  }
}

export interface MutatedScenario {
  readonly file: string;
  readonly text: string;
  readonly mutations: readonly TextMutation[];
}

/** A seed scenario (or a generated world) with 1–4 mutations. */
export function mutatedScenarioArb(seeds: readonly SeedText[]): fc.Arbitrary<MutatedScenario> {
  const base = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...seeds) },
    { weight: 1, arbitrary: worldArb.map((w) => ({ file: `${FIXTURES}seeds/generated.yaml`, text: worldYaml(w) })) },
    { weight: 1, arbitrary: hostileScenarioArb.map((text) => ({ file: `${FIXTURES}seeds/hostile.yaml`, text })) },
  );
  return fc.record({ seed: base, mutations: fc.array(textMutation, { minLength: 1, maxLength: 4 }) }).map(({ seed, mutations }) => ({
    file: seed.file,
    text: mutations.reduce(applyTextMutation, seed.text),
    mutations,
  }));
}

// ---------------------------------------------------------------------------------------------
// Mutated captures (classic pcap, as the kernel fixtures are: little-endian, SLL2)

export interface SeedCapture {
  readonly name: string;
  readonly dir: string;
  readonly bytes: Uint8Array;
}

export function seedCaptures(): SeedCapture[] {
  const dir = `${FIXTURES}kernel/`;
  return readdirSync(dir)
    .sort()
    .map((name) => ({ name, dir: `${dir}${name}/`, bytes: new Uint8Array(readFileSync(`${dir}${name}/capture.pcap`)) }));
}

/** Where each record's header and data sit in a classic pcap (this file's own walk, not natsim's reader). */
export interface RecordPlace {
  readonly header: number;
  readonly data: number;
  readonly caplen: number;
}

export function pcapRecords(b: Uint8Array): RecordPlace[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: RecordPlace[] = [];
  if (b.length < 24) return out;
  const le = v.getUint32(0, true) === 0xa1b2c3d4 || v.getUint32(0, true) === 0xa1b23c4d;
  for (let at = 24; at + 16 <= b.length; ) {
    const caplen = v.getUint32(at + 8, le);
    if (at + 16 + caplen > b.length) break;
    out.push({ header: at, data: at + 16, caplen });
    at += 16 + caplen;
  }
  return out;
}

/** The IPv4 header offset in an SLL2 record whose protocol is IPv4 (else -1). */
function ipv4At(b: Uint8Array, r: RecordPlace): number {
  if (r.caplen < 40) return -1;
  if (b[r.data] !== 0x08 || b[r.data + 1] !== 0x00) return -1;
  return (b[r.data + 20]! >> 4) === 4 ? r.data + 20 : -1;
}

export type CaptureMutationClass =
  | 'magic'
  | 'version'
  | 'snaplen'
  | 'link-type'
  | 'caplen'
  | 'origlen'
  | 'truncate-file'
  | 'flip-byte'
  | 'insert-bytes'
  | 'delete-bytes'
  | 'sll2-field'
  | 'ip-ihl'
  | 'ip-total-length'
  | 'ip-fragment'
  | 'ip-version'
  | 'ip-proto'
  | 'tcp-data-offset'
  | 'l4-truncate'
  | 'icmp-quote-truncate'
  | 'icmp-quote-field';

export const CAPTURE_MUTATION_CLASSES: readonly CaptureMutationClass[] = [
  'magic',
  'version',
  'snaplen',
  'link-type',
  'caplen',
  'origlen',
  'truncate-file',
  'flip-byte',
  'insert-bytes',
  'delete-bytes',
  'sll2-field',
  'ip-ihl',
  'ip-total-length',
  'ip-fragment',
  'ip-version',
  'ip-proto',
  'tcp-data-offset',
  'l4-truncate',
  'icmp-quote-truncate',
  'icmp-quote-field',
];

export interface CaptureMutation {
  readonly cls: CaptureMutationClass;
  /** Picks a record / byte position (taken modulo what exists). */
  readonly pick: number;
  /** A value to write (taken modulo the field's range). */
  readonly value: number;
  readonly bytes: readonly number[];
}

const captureMutation: fc.Arbitrary<CaptureMutation> = fc.record({
  cls: fc.constantFrom(...CAPTURE_MUTATION_CLASSES),
  pick: fc.nat(),
  value: fc.oneof(fc.constantFrom(0, 1, 2, 4, 5, 15, 16, 20, 40, 60, 0x101, 0xffff, 0x7fffffff, 0xffffffff), fc.nat()),
  bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 24 }),
});

/** Applies one mutation; returns the new bytes and whether the class actually found its target. */
export function applyCaptureMutation(input: Uint8Array, m: CaptureMutation): { bytes: Uint8Array; applied: boolean } {
  const b = Uint8Array.from(input);
  const v = new DataView(b.buffer);
  const recs = pcapRecords(b);
  const rec = recs.length > 0 ? recs[m.pick % recs.length]! : null;
  const ipRecs = recs.filter((r) => ipv4At(b, r) >= 0);
  const ipRec = ipRecs.length > 0 ? ipRecs[m.pick % ipRecs.length]! : null;
  const ip = ipRec ? ipv4At(b, ipRec) : -1;
  const ok = (bytes: Uint8Array = b) => ({ bytes, applied: true });
  const no = { bytes: b, applied: false };
  switch (m.cls) {
    case 'magic': {
      if (b.length < 4) return no;
      const magics = [0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1, 0x0a0d0d0a, 0xa1b2cd34, 0, m.value >>> 0];
      v.setUint32(0, magics[m.pick % magics.length]!, (m.value & 1) === 0);
      return ok();
    }
    case 'version':
      if (b.length < 8) return no;
      v.setUint16(4 + 2 * (m.pick % 2), m.value & 0xffff, true);
      return ok();
    case 'snaplen':
      if (b.length < 20) return no;
      v.setUint32(16, m.value >>> 0, true);
      return ok();
    case 'link-type': {
      if (b.length < 24) return no;
      const types = [0, 1, 101, 113, 228, 276, 0x10000001, m.value >>> 0];
      v.setUint32(20, types[m.pick % types.length]!, true);
      return ok();
    }
    case 'caplen':
      if (!rec) return no;
      v.setUint32(rec.header + 8, [0, rec.caplen - 1, rec.caplen + 1, 0xffffffff, m.value >>> 0][m.value % 5]! >>> 0, true);
      return ok();
    case 'origlen':
      if (!rec) return no;
      v.setUint32(rec.header + 12, [0, rec.caplen - 1, m.value >>> 0][m.value % 3]! >>> 0, true);
      return ok();
    case 'truncate-file':
      return ok(b.subarray(0, m.pick % (b.length + 1)));
    case 'flip-byte': {
      if (b.length === 0) return no;
      const at = m.pick % b.length;
      b[at] = b[at]! ^ (1 << (m.value % 8));
      return ok();
    }
    case 'insert-bytes': {
      const at = m.pick % (b.length + 1);
      const out = new Uint8Array(b.length + m.bytes.length);
      out.set(b.subarray(0, at));
      out.set(m.bytes, at);
      out.set(b.subarray(at), at + m.bytes.length);
      return ok(out);
    }
    case 'delete-bytes': {
      const at = m.pick % (b.length + 1);
      const len = 1 + (m.value % 24);
      const out = new Uint8Array(Math.max(0, b.length - Math.min(len, b.length - at)));
      out.set(b.subarray(0, at));
      out.set(b.subarray(at + len), at);
      return ok(out);
    }
    case 'sll2-field': {
      if (!rec || rec.caplen < 20) return no;
      // protocol (0), ifindex (4), hatype (8), packet type (10), address length (11)
      const field = m.value % 5;
      if (field === 0) v.setUint16(rec.data, [0x0800, 0x86dd, 0x0806, 0x8100, m.value & 0xffff][m.pick % 5]!, false);
      if (field === 1) v.setUint32(rec.data + 4, [0, 1, 2, 3, 99, m.value >>> 0][m.pick % 6]! >>> 0, false);
      if (field === 2) v.setUint16(rec.data + 8, m.value & 0xffff, false);
      if (field === 3) b[rec.data + 10] = m.pick % 8;
      if (field === 4) b[rec.data + 11] = m.pick & 0xff;
      return ok();
    }
    case 'ip-ihl':
      if (ip < 0) return no;
      b[ip] = 0x40 | (m.value % 16);
      return ok();
    case 'ip-total-length':
      if (ip < 0) return no;
      v.setUint16(ip + 2, [0, 19, 20, 21, 27, ipRec!.caplen - 20 - 1, ipRec!.caplen - 20 + 1, 0xffff, m.value & 0xffff][m.pick % 9]! & 0xffff, false);
      return ok();
    case 'ip-fragment':
      if (ip < 0) return no;
      v.setUint16(ip + 6, [0x2000, 0x0001, 0x4000, 0x8000, 0x1fff, 0x3fff, m.value & 0xffff][m.pick % 7]!, false);
      return ok();
    case 'ip-version':
      if (ip < 0) return no;
      b[ip] = ((m.value % 16) << 4) | (b[ip]! & 0x0f);
      return ok();
    case 'ip-proto':
      if (ip < 0) return no;
      b[ip + 9] = [0, 1, 2, 6, 17, 41, 47, 132, 136, 255][m.value % 10]!;
      return ok();
    case 'tcp-data-offset': {
      const tcp = ipRecs.map((r) => ipv4At(b, r)).filter((at) => b[at + 9] === 6);
      if (tcp.length === 0) return no;
      const at = tcp[m.pick % tcp.length]!;
      const l4 = at + (b[at]! & 0x0f) * 4;
      if (l4 + 12 >= b.length) return no;
      b[l4 + 12] = ((m.value % 16) << 4) | (b[l4 + 12]! & 0x0f);
      return ok();
    }
    case 'l4-truncate': {
      // cut the record inside its L4 header, fixing caplen/len and the IP total length
      if (!ipRec) return no;
      const l4 = ip + (b[ip]! & 0x0f) * 4;
      const keep = l4 - ipRec.data + (m.value % 20);
      if (keep >= ipRec.caplen) return no;
      v.setUint16(ip + 2, keep - 20, false);
      return ok(cutRecord(b, ipRec, keep));
    }
    case 'icmp-quote-truncate':
    case 'icmp-quote-field': {
      const errs = ipRecs.filter((r) => {
        const at = ipv4At(b, r);
        const l4 = at + (b[at]! & 0x0f) * 4;
        return b[at + 9] === 1 && [3, 4, 5, 11, 12].includes(b[l4]!);
      });
      if (errs.length === 0) return no;
      const r = errs[m.pick % errs.length]!;
      const at = ipv4At(b, r);
      const quote = at + (b[at]! & 0x0f) * 4 + 8;
      if (m.cls === 'icmp-quote-truncate') {
        // keep 0..27 bytes of the quoted datagram, as a consistent (but short) ICMP error
        const keep = quote - r.data + (m.value % 28);
        if (keep >= r.caplen) return no;
        v.setUint16(at + 2, keep - 20, false);
        return ok(cutRecord(b, r, keep));
      }
      if (quote + 20 > r.data + r.caplen) return no;
      const field = m.value % 4;
      if (field === 0) b[quote] = ((m.pick % 16) << 4) | (m.value & 0x0f); // version/IHL
      if (field === 1) v.setUint16(quote + 2, m.pick & 0xffff, false); // total length
      if (field === 2) v.setUint16(quote + 6, [0x2000, 0x0001, 0x1fff][m.pick % 3]!, false); // fragment
      if (field === 3) b[quote + 9] = [0, 1, 6, 17, 47][m.pick % 5]!; // protocol
      return ok();
    }
  }
}

/** The file with record `r` cut to `keep` bytes of data (caplen and len follow). */
function cutRecord(b: Uint8Array, r: RecordPlace, keep: number): Uint8Array {
  const out = new Uint8Array(b.length - (r.caplen - keep));
  out.set(b.subarray(0, r.data + keep));
  out.set(b.subarray(r.data + r.caplen), r.data + keep);
  const v = new DataView(out.buffer);
  v.setUint32(r.header + 8, keep, true);
  v.setUint32(r.header + 12, keep, true);
  return out;
}

export interface MutatedCapture {
  readonly seed: SeedCapture;
  readonly bytes: Uint8Array;
  readonly mutations: readonly CaptureMutation[];
  /** The classes that found their target (a class with no target leaves the bytes alone). */
  readonly classes: readonly CaptureMutationClass[];
}

export function mutatedCaptureArb(seeds: readonly SeedCapture[]): fc.Arbitrary<MutatedCapture> {
  return fc.record({ seed: fc.constantFrom(...seeds), mutations: fc.array(captureMutation, { minLength: 1, maxLength: 3 }) }).map(({ seed, mutations }) => {
    let bytes = seed.bytes;
    const classes: CaptureMutationClass[] = [];
    for (const m of mutations) {
      const r = applyCaptureMutation(bytes, m);
      bytes = r.bytes;
      if (r.applied) classes.push(m.cls);
    }
    return { seed, bytes, mutations, classes };
  });
}
