/**
 * The invariants a generated world must keep, checked while it runs and at its end:
 *   (a) conntrack-unique: no two confirmed entries of a host share a tuple, in either direction
 *       (a reply-only NAT_CLASH entry counts with its reply tuple only) — after every transmit
 *       of the host and at the end;
 *   (b) checksums: every packet a host hands to its link (World.transmit, loopback included)
 *       has a valid IPv4 header checksum and a valid (or consistently partial) L4 checksum;
 *   (c) accounting: every `receive` event of a host (skb S) is followed by exactly one fate for
 *       S: a `transmit`, or a `drop` (with a reason), or a `route` result `local` with no later
 *       drop (delivered to the socket layer); never two fates; and the host's own counters agree
 *       (packets.received = receive events, packets.delivered = delivered fates, and every drop
 *       event of any skb is one count in packets.dropped);
 *   (d) determinism: the same text and seed give byte-identical NDJSON traces and app events;
 *   (e) NAT transparency (worlds where NAT has a mapping for every flow): every TCP connect to
 *       a listening server (directly, or through the VIP by DNAT or IPVS) logs "connected" with the
 *       client's own address and the address it dialled; every connect to a closed port is
 *       refused; every ping of a server gets every reply, from the address pinged; every UDP
 *       datagram to an echo server comes back to the client from the address:port it was sent
 *       to.
 */
import { InputError } from '../errors.js';
import { Status, type Conn } from '../netfilter/conntrack/conn.js';
import type { Tuple } from '../netfilter/conntrack/tuple.js';
import { formatIpv4 } from '../packet/ipv4-addr.js';
import { parseScenario } from '../scenario/load.js';
import type { TraceEvent, TraceSink } from '../trace/events.js';
import { makeSink } from '../trace/sinks.js';
import { makePalette } from '../trace/palette.js';
import { World } from '../world/world.js';
import type { Host } from '../host/host.js';
import { clientAddr, fixedPorts, flowPort, flowTarget, type WorldCase } from './generators.js';

export class InvariantViolation extends Error {
  constructor(
    readonly invariant: string,
    detail: string,
  ) {
    super(`invariant ${invariant} violated: ${detail}`);
    this.name = 'InvariantViolation';
  }
}

export interface WorldRun {
  readonly world: World;
  readonly events: TraceEvent[];
  readonly json: string;
  readonly transmits: number;
  readonly ctChecks: number;
}

function tupleKey(t: Tuple): string {
  return `${t.proto}:${formatIpv4(t.src)}:${t.srcU}>${formatIpv4(t.dst)}:${t.dstU}`;
}

/** (a) for one host. */
export function checkConntrackUnique(host: Host): void {
  const seen = new Map<string, Conn>();
  for (const ct of host.nf.table.connections()) {
    const tuples = ct.has(Status.NatClash) ? [ct.tuple(1)] : [ct.tuple(0), ct.tuple(1)];
    for (const t of tuples) {
      const k = tupleKey(t);
      const other = seen.get(k);
      if (other && other !== ct) throw new InvariantViolation('a', `host ${host.name}: conntrack entries #${other.id} and #${ct.id} both hold tuple ${k}`);
      seen.set(k, ct);
    }
  }
}

/**
 * Parses and runs a scenario text with a JSON trace of every host, checking (a), (b), (c).
 * InputErrors pass through (the caller decides whether they are expected).
 */
export function runChecked(text: string, file: string, until?: number): WorldRun {
  const spec = parseScenario(text, file);
  const events: TraceEvent[] = [];
  const lines: string[] = [];
  const json = makeSink('json', { line: (l) => lines.push(l) }, makePalette(false), true);
  const sink: TraceSink = {
    emit(e) {
      events.push(e);
      json.emit(e);
    },
  };
  const world = new World(spec, { sink, trace: spec.hosts.map((h) => h.name) });
  let transmits = 0;
  let ctChecks = 0;
  const transmit = world.transmit.bind(world);
  world.transmit = (host, dev, skb, nexthop) => {
    transmits++;
    if (!skb.pkt.checksumsValid()) {
      const p = skb.pkt;
      throw new InvariantViolation('b', `host ${host.name} transmits on ${dev.name} at ${skb.time} ns a packet with a bad checksum: proto ${p.proto} ${formatIpv4(p.saddr)}:${p.sport} > ${formatIpv4(p.daddr)}:${p.dport} (${Buffer.from(p.data).toString('hex')})`);
    }
    checkConntrackUnique(host);
    ctChecks++;
    transmit(host, dev, skb, nexthop);
  };
  world.run(until ?? spec.until ?? Number.MAX_SAFE_INTEGER);
  for (const host of world.hosts.values()) {
    checkConntrackUnique(host);
    ctChecks++;
  }
  checkAccounting(world, events);
  return { world, events, json: lines.join('\n'), transmits, ctChecks };
}

type Fate = 'transmit' | 'drop' | 'delivered';

/** (c) */
export function checkAccounting(world: World, events: readonly TraceEvent[]): void {
  interface Open {
    fate: Fate | null;
    local: boolean;
    receivedAt: number;
  }
  const open = new Map<string, Open>();
  const receives = new Map<string, number>();
  const drops = new Map<string, number>();
  for (const e of events) {
    const key = `${e.host}#${e.skb}`;
    if (e.kind === 'receive') {
      const prev = open.get(key);
      if (prev && prev.fate === null && !prev.local) throw new InvariantViolation('c', `host ${e.host} skb ${e.skb} received again before its first receive had a fate`);
      open.set(key, { fate: null, local: false, receivedAt: e.time });
      receives.set(e.host, (receives.get(e.host) ?? 0) + 1);
      continue;
    }
    if (e.kind === 'drop') drops.set(e.host, (drops.get(e.host) ?? 0) + 1);
    const rec = open.get(key);
    if (!rec) continue; // a locally made packet
    if (e.kind === 'route' && e.result === 'local') rec.local = true;
    if (e.kind === 'transmit' || e.kind === 'drop') {
      if (rec.fate !== null) {
        // a looped packet transmitted on lo is received again as the same skb: the new
        // receive event opens a new record, so a second fate here is a real double fate
        throw new InvariantViolation('c', `host ${e.host} skb ${e.skb} received at ${rec.receivedAt} ns has two fates: ${rec.fate} then ${e.kind}`);
      }
      if (e.kind === 'drop' && !e.reason) throw new InvariantViolation('c', `host ${e.host} skb ${e.skb} dropped without a reason`);
      rec.fate = e.kind;
    }
  }
  const delivered = new Map<string, number>();
  for (const [key, rec] of open) {
    const host = key.slice(0, key.lastIndexOf('#'));
    if (rec.fate === null && rec.local) rec.fate = 'delivered';
    if (rec.fate === null) throw new InvariantViolation('c', `host ${host} ${key.slice(key.lastIndexOf('#') + 1)} received at ${rec.receivedAt} ns vanished: neither transmitted, delivered nor dropped with a reason`);
    if (rec.fate === 'delivered') delivered.set(host, (delivered.get(host) ?? 0) + 1);
  }
  for (const host of world.hosts.values()) {
    const c = host.packets;
    if (c.received !== (receives.get(host.name) ?? 0)) throw new InvariantViolation('c', `host ${host.name}: packets.received ${c.received} but ${receives.get(host.name) ?? 0} receive events`);
    if (c.delivered !== (delivered.get(host.name) ?? 0)) throw new InvariantViolation('c', `host ${host.name}: packets.delivered ${c.delivered} but ${delivered.get(host.name) ?? 0} received packets delivered`);
    const counted = [...c.dropped.values()].reduce((a, b) => a + b, 0);
    if (counted !== (drops.get(host.name) ?? 0)) throw new InvariantViolation('c', `host ${host.name}: packets.dropped counts ${counted} but ${drops.get(host.name) ?? 0} drop events`);
  }
}

/** (d): the same text twice gives the same trace and app events. */
export function checkDeterminism(text: string, file: string, first: WorldRun): void {
  const second = runChecked(text, file);
  if (second.json !== first.json) {
    const a = first.json.split('\n');
    const b = second.json.split('\n');
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    throw new InvariantViolation('d', `two runs differ at trace line ${i + 1}:\n  ${a[i] ?? '(end)'}\n  ${b[i] ?? '(end)'}`);
  }
  if (JSON.stringify(second.world.appEvents) !== JSON.stringify(first.world.appEvents)) throw new InvariantViolation('d', 'two runs give different app events');
}

/**
 * Whether NAT has a mapping for every flow (so that (e) must hold): the NAT port range holds
 * one port per TCP connect and per UDP source port (a `udp send` without `from` takes a new
 * ephemeral port for every datagram), ICMP being NATed by the port-less rule; and a narrowed
 * client port range holds every ephemeral port a client needs.
 */
export function natIsGenerous(w: WorldCase): boolean {
  if (ipvsRepliesCanCollide(w)) return false;
  const fixed = fixedPorts(w);
  const mappings = (f: WorldCase['flows'][number], k: number) => (f.kind === 'tcp' ? 1 : f.kind === 'udp' ? (fixed[k] !== null ? 1 : f.count) : 0);
  if (w.nat.ports && w.nat.ports.n < w.flows.reduce((s, f, k) => s + mappings(f, k), 0)) return false;
  if (w.clientPorts) {
    for (let i = 0; i < w.clients; i++) {
      const mine = w.flows.map((f, k) => ({ f, k })).filter(({ f, k }) => f.client === i && fixed[k] === null);
      if (mine.filter(({ f }) => f.kind === 'tcp').length > w.clientPorts.n) return false;
      if (mine.filter(({ f }) => f.kind === 'udp').reduce((s, { f }) => s + f.count, 0) > w.clientPorts.n) return false;
    }
  }
  return true;
}

export interface TransparencyStats {
  connects: number;
  refused: number;
  pings: number;
  udp: number;
}

/**
 * A client that reaches a real server both directly and through the IPVS VIP may use one source
 * port for both; the direct connection's replies, de-NATed back to that port, then match the
 * IPVS connection at FORWARD (ip_vs_out_hook looks up real server and client only) and come back
 * from the VIP — the kernel does the same, so (e) does not hold there.
 */
function ipvsRepliesCanCollide(w: WorldCase): boolean {
  if (w.vip !== 'ipvs') return false;
  return Array.from({ length: w.clients }, (_, i) => w.flows.filter((f) => f.client === i && f.kind === 'tcp')).some((mine) => mine.some((f) => f.target === 'vip') && mine.some((f) => f.target === 'server'));
}

/** (e) */
export function checkTransparency(w: WorldCase, run: WorldRun, stats: TransparencyStats): void {
  if (!natIsGenerous(w)) return;
  const logs = run.world.appEvents;
  const fixed = fixedPorts(w);
  const expectConnected = new Map<string, number>();
  const expectRefused = new Map<string, number>();
  const expectPing = new Map<string, number>();
  const expectUdp = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);
  w.flows.forEach((f, k) => {
    const host = `c${f.client}`;
    const dst = flowTarget(w, f);
    if (f.target === 'dead') return;
    const reachable = f.target === 'server' || (f.target === 'vip' && w.vip !== 'none' && f.kind === 'tcp' && f.openPort);
    if (f.kind === 'tcp') {
      // The router's own addresses (and with IPVS the VIP it owns) refuse a closed port.
      if (f.target === 'router' || (f.target === 'vip' && w.vip === 'ipvs' && !f.openPort)) return add(expectRefused, `${host} ${dst}:${flowPort(f)}`);
      if (!reachable) return;
      if (f.openPort) add(expectConnected, `${host} ${dst}:80`);
      else add(expectRefused, `${host} ${dst}:81`);
    } else if (f.kind === 'ping') {
      if (f.target !== 'server') return;
      add(expectPing, `${host} ${dst}`, f.count);
    } else {
      if (f.target !== 'server' || !f.openPort) return;
      add(expectUdp, `${host} ${dst}:53${fixed[k] !== null ? ` ${fixed[k]}` : ''}`, f.count);
    }
  });
  const seenConnected = new Map<string, number>();
  const seenRefused = new Map<string, number>();
  const seenPing = new Map<string, number>();
  for (const e of logs) {
    let m = /^tcp (\S+):(\d+) > (\S+:\d+): (connected|connection refused)/.exec(e.text);
    if (m) {
      const own = clientAddr(Number(e.host.slice(1)));
      if (e.host.startsWith('c') && m[1] !== own) throw new InvariantViolation('e', `${e.host}: '${e.text}' names local address ${m[1]}, not ${own}`);
      add(m[4] === 'connected' ? seenConnected : seenRefused, `${e.host} ${m[3]}`);
      continue;
    }
    m = /^ping: reply from (\S+) icmp_seq=/.exec(e.text);
    if (m) add(seenPing, `${e.host} ${m[1]}`);
  }
  const seenUdp = new Map<string, number>();
  for (const e of run.events) {
    if (e.kind !== 'receive' || !e.host.startsWith('c') || e.pkt.proto !== 17) continue;
    const own = clientAddr(Number(e.host.slice(1)));
    if (formatIpv4(e.pkt.daddr) !== own) throw new InvariantViolation('e', `${e.host} receives UDP addressed to ${formatIpv4(e.pkt.daddr)}, not its own ${own}`);
    add(seenUdp, `${e.host} ${formatIpv4(e.pkt.saddr)}:${e.pkt.sport}`);
    add(seenUdp, `${e.host} ${formatIpv4(e.pkt.saddr)}:${e.pkt.sport} ${e.pkt.dport}`);
  }
  const compare = (what: string, want: Map<string, number>, seen: Map<string, number>, exact: boolean) => {
    for (const [k, n] of want) {
      const got = seen.get(k) ?? 0;
      if (exact ? got !== n : got < n) throw new InvariantViolation('e', `${what} ${k}: expected ${n}, saw ${got} (app log: ${JSON.stringify(logs.map((l) => `${l.host}@${l.time}: ${l.text}`))})`);
    }
  };
  compare('tcp connected', expectConnected, seenConnected, true);
  compare('tcp refused', expectRefused, seenRefused, true);
  compare('ping replies', expectPing, seenPing, false);
  // per server (all flows to it) and per fixed source port
  const udpTotal = new Map<string, number>();
  for (const [k, n] of expectUdp) {
    const [host, dst] = k.split(' ');
    add(udpTotal, `${host} ${dst}`, n);
    if (k.split(' ').length === 3) add(udpTotal, k, 0);
  }
  const perPort = new Map([...expectUdp].filter(([k]) => k.split(' ').length === 3));
  compare('udp echoes', new Map([...udpTotal].filter(([k]) => k.split(' ').length === 2)), seenUdp, true);
  compare('udp echoes to fixed port', perPort, seenUdp, false);
  stats.connects += [...expectConnected.values()].reduce((a, b) => a + b, 0);
  stats.refused += [...expectRefused.values()].reduce((a, b) => a + b, 0);
  stats.pings += [...expectPing.values()].reduce((a, b) => a + b, 0);
  stats.udp += [...expectUdp.values()].reduce((a, b) => a + b, 0);
}

/** Everything for one generated world; throws InvariantViolation (or whatever natsim threw). */
export function checkWorldCase(w: WorldCase, text: string, stats: TransparencyStats = { connects: 0, refused: 0, pings: 0, udp: 0 }): WorldRun {
  const file = 'gen.yaml';
  let run: WorldRun;
  try {
    run = runChecked(text, file);
  } catch (e) {
    if (e instanceof InputError) throw new InvariantViolation('generator', `the generated scenario is refused: ${e.message}`);
    throw e;
  }
  checkDeterminism(text, file, run);
  checkTransparency(w, run, stats);
  return run;
}
