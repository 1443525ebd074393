/**
 * Timed actions of a scenario's `run:` list, each an application on a host:
 *   ping ADDR [count N] [interval T] [id N]   (ADDR IPv4 or IPv6; ping6 ADDR the same)
 *   tcp listen PORT [reply BYTES] [hold T]   (hold: close T after reading the client's FIN; 0 s by default)
 *   tcp connect ADDR:PORT [from ADDR | from :PORT | from ADDR:PORT] [send BYTES] [hold T]
 *   udp listen PORT [echo]
 *   udp send ADDR:PORT [from PORT] [count N] [interval T] [bytes N] [hold T]
 * ADDR:PORT is 10.0.0.1:80 or, for IPv6, [fd00::1]:80 (as ss and nc print it); a `from`
 * address is of the destination's family. A listener takes both families.
 * T is a duration as everywhere in natsim (sim/duration.ts): 1s, 500ms, or a number of seconds.
 *
 * Every step is read when the scenario is loaded (a bad one is refused before the run starts),
 * but started only when the clock reaches it, and a step of N repetitions schedules each after
 * the one before: a run holds a few events however many steps and repetitions it has.
 */
import { InputError } from '../errors.js';
import { buildIcmpEcho } from '../packet/build.js';
import { ipv4IsMulticast, parseIpv4 } from '../packet/ipv4-addr.js';
import { formatInetAddr } from '../packet/inet-addr.js';
import { ipv6AddrType } from '../ipv6/addrconf.js';
import type { Host } from '../host/host.js';
import { isIpv6, parseIpv6 } from '../packet/ipv6-addr.js';
import { ICMPV6 } from '../packet/ipv6.js';
import { buildIcmpv6, DEFAULT_HOP_LIMIT } from '../ipv6/icmp.js';
import type { RunStep } from '../scenario/spec.js';
import type { HostSockets } from '../sockets/host-sockets.js';
import { endpointText, type Endpoint } from '../sockets/tcp-socket.js';
import type { World } from './world.js';
import { ICMP_ECHO } from '../packet/icmp.js';
import { DURATION_HINT, parseDuration } from '../sim/duration.js';

const SECOND = 1e9;
const USAGE = 'ping ADDR … (ping6 ADDR …), tcp listen PORT …, tcp connect ADDR:PORT …, udp listen PORT …, udp send ADDR:PORT …';

/** A step's words after the command, with `key value` options and bare flags. */
class Words {
  private readonly options = new Map<string, string | true>();

  constructor(
    private readonly step: RunStep,
    readonly positional: string,
    rest: string[],
    allowed: { readonly values: readonly string[]; readonly flags?: readonly string[] },
  ) {
    for (let i = 0; i < rest.length; i++) {
      const word = rest[i]!;
      if (allowed.flags?.includes(word)) this.options.set(word, true);
      else if (allowed.values.includes(word) && i + 1 < rest.length) this.options.set(word, rest[++i]!);
      else this.fail(`unexpected '${word}' (options: ${[...allowed.values.map((v) => `${v} VALUE`), ...(allowed.flags ?? [])].join(', ')})`);
    }
  }

  fail(reason: string): never {
    throw new InputError(this.step.place, reason);
  }

  /** When the step starts (virtual ns). */
  get at(): number {
    return this.step.at;
  }

  flag(name: string): boolean {
    return this.options.get(name) === true;
  }

  text(name: string): string | null {
    const v = this.options.get(name);
    return typeof v === 'string' ? v : null;
  }

  /** A whole-number option within [min, max]. */
  num(name: string, fallback: number, min: number, max: number): number {
    const text = this.text(name);
    if (text === null) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) this.fail(`'${name}' needs a whole number from ${min} to ${max}, got '${text}'`);
    return n;
  }

  /** A duration option, in nanoseconds, within [min, max] seconds. */
  duration(name: string, fallback: number, min: number, max: number): number {
    const text = this.text(name);
    if (text === null) return fallback;
    const ns = parseDuration(text);
    if (ns === null || ns < min * SECOND || ns > max * SECOND) this.fail(`'${name}' needs ${DURATION_HINT}, from ${min} s to ${max} s, got '${text}'`);
    return ns;
  }

  addr(text: string): number {
    return parseIpv4(text) ?? this.fail(`'${text}' is not an IPv4 address`);
  }

  /** An IPv4 or an IPv6 address (ping takes either, as ping(8) of iputils does). */
  inetAddr(text: string): number {
    return parseIpv4(text) ?? parseIpv6(text) ?? this.fail(`'${text}' is not an IPv4 or IPv6 address`);
  }

  port(text: string): number {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < 1 || n > 65535) this.fail(`'${text}' is not a port (1-65535)`);
    return n;
  }

  /** IPV4:PORT, or [IPV6]:PORT (RFC 3986's brackets, as ss and nc print it). */
  endpoint(text: string): Endpoint {
    if (text.startsWith('[')) {
      const close = text.indexOf(']');
      if (close < 0) this.fail(`'${text}' has no ']': an IPv6 address and port are written [IPV6]:PORT`);
      const addr = parseIpv6(text.slice(1, close)) ?? this.fail(`'${text}': '${text.slice(1, close)}' in the brackets is not an IPv6 address`);
      if (text[close + 1] !== ':') this.fail(`'${text}' needs ':PORT' after ']' (the form [IPV6]:PORT)`);
      return { addr, port: this.port(text.slice(close + 2)) };
    }
    const colon = text.lastIndexOf(':');
    if (colon < 0) this.fail(`'${text}' needs the form ADDR:PORT`);
    const host = text.slice(0, colon);
    if (host.includes(':')) this.fail(`'${text}': an IPv6 address with a port is written in brackets, [IPV6]:PORT`);
    return { addr: this.addr(host), port: this.port(text.slice(colon + 1)) };
  }

  /** connect()'s `from`: :PORT, ADDR (either family) or ADDR:PORT ([IPV6]:PORT), of the family of `remote`. */
  from(text: string, remote: Endpoint): Partial<Endpoint> {
    if (text.startsWith(':') && !text.startsWith('::')) return { port: this.port(text.slice(1)) };
    const bare = parseIpv4(text) ?? parseIpv6(text);
    const from: Partial<Endpoint> = bare !== null ? { addr: bare } : this.endpoint(text);
    // bind() of an IPv6 socket to an IPv4 address is EAFNOSUPPORT (and the reverse EINVAL)
    if (isIpv6(from.addr!) !== isIpv6(remote.addr)) this.fail(`'from ${text}' is not of the family of ${endpointText(remote)} (a socket is IPv4 or IPv6)`);
    return from;
  }
}

/** A step as read: what it does, with its options. */
export type Action =
  | { readonly kind: 'ping'; readonly dst: number; readonly dstText: string; readonly count: number; readonly interval: number; readonly id: number | null }
  | { readonly kind: 'tcp listen'; readonly port: number; readonly reply: number; readonly hold: number }
  | { readonly kind: 'udp listen'; readonly port: number; readonly echo: boolean }
  | { readonly kind: 'tcp connect'; readonly remote: Endpoint; readonly from: Partial<Endpoint>; readonly send: number; readonly hold: number | null }
  | { readonly kind: 'udp send'; readonly remote: Endpoint; readonly from: number | null; readonly count: number; readonly interval: number; readonly bytes: number; readonly hold: number };

/** How long a `udp send` socket stays open after its last datagram unless `hold` says: answers to it are taken, not refused. */
const UDP_HOLD_NS = SECOND;

/** Reads a step; an error names its place. */
export function parseAction(step: RunStep): Action {
  const [command = '', sub = '', ...rest] = step.action.trim().split(/\s+/);
  const words = (positional: string, more: string[], allowed: ConstructorParameters<typeof Words>[3]) => new Words(step, positional, more, allowed);
  if (command === 'ping' || command === 'ping6') {
    const w = words(sub, rest, { values: ['count', 'interval', 'id'] });
    const [dst, count, interval] = [w.inetAddr(w.positional), w.num('count', 1, 1, 1_000_000), w.duration('interval', SECOND, 0.001, 3600)];
    return { kind: 'ping', dst, dstText: w.positional, count, interval, id: w.text('id') === null ? null : w.num('id', 0, 0, 65535) };
  }
  if (command === 'tcp' && sub === 'listen') {
    const w = words(rest[0] ?? '', rest.slice(1), { values: ['reply', 'hold'] });
    return { kind: 'tcp listen', port: w.port(w.positional), reply: w.num('reply', 0, 0, 1 << 20), hold: w.duration('hold', 0, 0, 86400) };
  }
  if (command === 'udp' && sub === 'listen') {
    const w = words(rest[0] ?? '', rest.slice(1), { values: [], flags: ['echo'] });
    return { kind: 'udp listen', port: w.port(w.positional), echo: w.flag('echo') };
  }
  if (command === 'tcp' && sub === 'connect') {
    const w = words(rest[0] ?? '', rest.slice(1), { values: ['from', 'send', 'hold'] });
    const remote = w.endpoint(w.positional);
    const fromText = w.text('from');
    const from = fromText === null ? {} : w.from(fromText, remote);
    const send = w.num('send', 0, 0, 1 << 20);
    return { kind: 'tcp connect', remote, from, send, hold: w.text('hold') === null ? null : w.duration('hold', 0, 0, 86400) };
  }
  if (command === 'udp' && sub === 'send') {
    const w = words(rest[0] ?? '', rest.slice(1), { values: ['from', 'count', 'interval', 'bytes', 'hold'] });
    const remote = w.endpoint(w.positional);
    const from = w.text('from') === null ? null : w.port(w.text('from')!);
    const [count, interval] = [w.num('count', 1, 1, 1_000_000), w.duration('interval', SECOND, 0.001, 3600)];
    // the largest UDP payload an IPv4 datagram holds (65535 − 20 − 8); over the MTU it is fragmented
    const bytes = w.num('bytes', 8, 0, 65507);
    return { kind: 'udp send', remote, from, count, interval, bytes, hold: w.duration('hold', UDP_HOLD_NS, 0, 86400) };
  }
  throw new InputError(step.place, `unsupported action '${step.action.trim()}' (natsim knows: ${USAGE})`);
}

/**
 * Starts the `index`-th step of the run list, now (its time): its first repetition runs at
 * once, each later one is scheduled by the one before. `echoId` is the id a ping without `id`
 * uses (drawn for every ping step when the world is built, in step order, as natsim always has).
 */
export function startAction(world: World, index: number, step: RunStep, echoId: number): void {
  const action = parseAction(step);
  const sockets = world.sockets.get(step.on)!;
  refuseGroupDestination(world, step, action);
  const now = world.queue.now;
  switch (action.kind) {
    case 'ping':
      return repeat(world, index, action, (rep) => ping(world, sockets, action, action.id ?? echoId, rep + 1));
    case 'tcp listen':
      return sockets.listenTcp(action.port, action.reply, action.hold);
    case 'udp listen':
      return sockets.listenUdp(action.port, action.echo);
    case 'tcp connect':
      return sockets.connectTcp(action.remote.addr, action.remote.port, action.from, { send: action.send, reply: 0, holdNs: action.hold, eofHoldNs: 0 }, now);
    case 'udp send':
      return udpSend(world, index, sockets, action);
  }
}

/**
 * A scenario host's packets go to one host: sending to a group or a broadcast address (the
 * multicast TTL of 1, a frame every host on the link takes, SO_BROADCAST) is not modelled, so
 * it is refused rather than sent as if unicast. A capture of such traffic replays.
 */
function refuseGroupDestination(world: World, step: RunStep, action: Action): void {
  const dst = action.kind === 'ping' ? action.dst : action.kind === 'tcp connect' || action.kind === 'udp send' ? action.remote.addr : null;
  if (dst === null) return;
  const kind = isIpv6(dst) ? (ipv6AddrType(dst).multicast ? 'a multicast group' : null) : groupOrBroadcast(world.hosts.get(step.on)!, dst);
  if (kind !== null) throw new InputError(step.place, `${formatInetAddr(dst)} is ${kind} to ${step.on}: natsim sends a scenario host's packets to one host only (no multicast or broadcast sending; a capture of it can be replayed)`);
}

function groupOrBroadcast(host: Host, dst: number): string | null {
  if (ipv4IsMulticast(dst)) return 'a multicast group';
  return host.fib.addrType(dst) === 'broadcast' ? 'a broadcast address' : null;
}

/**
 * Runs `each(0)` now and `each(n)` `n` intervals after it, each scheduled by the one before;
 * `last` runs with the last repetition's time.
 */
function repeat(world: World, index: number, a: { readonly count: number; readonly interval: number }, each: (rep: number) => void, last?: (time: number) => void): void {
  const start = world.queue.now;
  const fire = (rep: number): void => {
    each(rep);
    if (rep + 1 < a.count) world.queue.atStep(start + (rep + 1) * a.interval, index, rep + 1, () => fire(rep + 1));
    else last?.(start + rep * a.interval);
  };
  fire(0);
}

function ping(world: World, sockets: HostSockets, a: Extract<Action, { kind: 'ping' }>, echoId: number, seq: number): void {
  const saddr = sockets.sourceFor(a.dst);
  if (saddr === 0) return sockets.log(`ping ${a.dstText}: network unreachable`);
  const echo = isIpv6(a.dst)
    ? buildIcmpv6({ saddr, daddr: a.dst, type: ICMPV6.ECHO_REQUEST, code: 0, word: ((echoId << 16) | seq) >>> 0, body: PING_PAYLOAD, flowLabel: 0, hopLimit: DEFAULT_HOP_LIMIT })
    : buildIcmpEcho({ saddr, daddr: a.dst, ipId: world.prng.u16(), ttl: 64, type: ICMP_ECHO, echoId, seq, payload: PING_PAYLOAD });
  sockets.output(echo, world.queue.now, true);
}

/** ping's 56 data bytes. */
const PING_PAYLOAD = new Uint8Array(56).map((_, i) => i);

/**
 * One socket sends them all: bound to `from` (bind()) or, at its first sendto, to an
 * ephemeral port (inet_autobind); it closes `hold` after the last datagram, which frees the
 * port (udp_lib_unhash).
 */
function udpSend(world: World, index: number, sockets: HostSockets, a: Extract<Action, { kind: 'udp send' }>): void {
  const socket = sockets.openUdp(a.from);
  repeat(world, index, a, () => socket.send(a.remote, a.bytes, world.queue.now), (time) => world.queue.atStep(time + a.hold, index, a.count, () => socket.close()));
}
