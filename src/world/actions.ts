/**
 * Timed actions of a scenario's `run:` list, each an application on a host:
 *   ping ADDR [count N] [interval T] [id N]   (ADDR IPv4 or IPv6; ping6 ADDR the same)
 *   tcp listen PORT [reply BYTES]
 *   tcp connect ADDR:PORT [from [ADDR]:PORT] [send BYTES] [hold T]
 *   udp listen PORT [echo]
 *   udp send ADDR:PORT [from PORT] [count N] [interval T] [bytes N]
 * T is a duration as everywhere in natsim (sim/duration.ts): 1s, 500ms, or a number of seconds.
 */
import { InputError } from '../errors.js';
import { buildIcmpEcho } from '../packet/build.js';
import { parseIpv4 } from '../packet/ipv4-addr.js';
import { isIpv6, parseIpv6 } from '../packet/ipv6-addr.js';
import { ICMPV6 } from '../packet/ipv6.js';
import { buildIcmpv6, DEFAULT_HOP_LIMIT } from '../ipv6/icmp.js';
import type { RunStep } from '../scenario/spec.js';
import type { HostSockets } from '../sockets/host-sockets.js';
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

  /** ADDR:PORT; [IPV6]:PORT is refused by name, natsim's TCP and UDP sockets being IPv4 ones. */
  endpoint(text: string): { addr: number; port: number } {
    if (text.startsWith('[')) {
      const close = text.indexOf(']');
      const inner = close < 0 ? null : parseIpv6(text.slice(1, close));
      if (inner === null) this.fail(`'${text}' needs the form [IPV6]:PORT with an IPv6 address in the brackets`);
      this.fail(`'${text}': TCP and UDP over IPv6 are not modelled (natsim's sockets are IPv4; ping takes IPv6 addresses)`);
    }
    const colon = text.lastIndexOf(':');
    if (colon < 0) this.fail(`'${text}' needs the form ADDR:PORT`);
    return { addr: this.addr(text.slice(0, colon)), port: this.port(text.slice(colon + 1)) };
  }
}

/** Parses a step (errors name its place) and schedules it on the world's clock. */
export function startAction(world: World, step: RunStep): void {
  const [command = '', sub = '', ...rest] = step.action.trim().split(/\s+/);
  const sockets = world.sockets.get(step.on)!;
  const words = (positional: string, more: string[], allowed: ConstructorParameters<typeof Words>[3]) => new Words(step, positional, more, allowed);
  if (command === 'ping' || command === 'ping6') return startPing(world, sockets, words(sub, rest, { values: ['count', 'interval', 'id'] }));
  if (command === 'tcp' && sub === 'listen') {
    const w = words(rest[0] ?? '', rest.slice(1), { values: ['reply'] });
    const [port, reply] = [w.port(w.positional), w.num('reply', 0, 0, 1 << 20)];
    return world.queue.at(w.at, () => sockets.listenTcp(port, reply));
  }
  if (command === 'udp' && sub === 'listen') {
    const w = words(rest[0] ?? '', rest.slice(1), { values: [], flags: ['echo'] });
    const [port, echo] = [w.port(w.positional), w.flag('echo')];
    return world.queue.at(w.at, () => sockets.listenUdp(port, echo));
  }
  if (command === 'tcp' && sub === 'connect') return startConnect(world, sockets, words(rest[0] ?? '', rest.slice(1), { values: ['from', 'send', 'hold'] }));
  if (command === 'udp' && sub === 'send') return startUdpSend(world, sockets, words(rest[0] ?? '', rest.slice(1), { values: ['from', 'count', 'interval', 'bytes'] }));
  throw new InputError(step.place, `unsupported action '${step.action.trim()}' (natsim knows: ${USAGE})`);
}

function startPing(world: World, sockets: HostSockets, w: Words): void {
  const dst = w.inetAddr(w.positional);
  const count = w.num('count', 1, 1, 1_000_000);
  const interval = w.duration('interval', SECOND, 0.001, 3600);
  const echoId = w.num('id', world.prng.u16(), 0, 65535);
  const payload = new Uint8Array(56).map((_, i) => i);
  for (let seq = 1; seq <= count; seq++) {
    world.queue.at(w.at + (seq - 1) * interval, () => {
      const saddr = sockets.sourceFor(dst);
      if (saddr === 0) return sockets.log(`ping ${w.positional}: network unreachable`);
      const echo = isIpv6(dst)
        ? buildIcmpv6({ saddr, daddr: dst, type: ICMPV6.ECHO_REQUEST, code: 0, word: ((echoId << 16) | seq) >>> 0, body: payload, flowLabel: 0, hopLimit: DEFAULT_HOP_LIMIT })
        : buildIcmpEcho({ saddr, daddr: dst, ipId: world.prng.u16(), ttl: 64, type: ICMP_ECHO, echoId, seq, payload });
      sockets.output(echo, world.queue.now, true);
    });
  }
}

function startConnect(world: World, sockets: HostSockets, w: Words): void {
  const remote = w.endpoint(w.positional);
  const fromText = w.text('from');
  const from = fromText === null ? {} : fromText.startsWith(':') ? { port: w.port(fromText.slice(1)) } : fromText.includes(':') ? w.endpoint(fromText) : { addr: w.addr(fromText) };
  const send = w.num('send', 0, 0, 1 << 20);
  const hold = w.text('hold') === null ? null : w.duration('hold', 0, 0, 86400);
  world.queue.at(w.at, () => sockets.connectTcp(remote.addr, remote.port, from, { send, reply: 0, holdNs: hold }, world.queue.now));
}

function startUdpSend(world: World, sockets: HostSockets, w: Words): void {
  const remote = w.endpoint(w.positional);
  const from = w.text('from') === null ? null : w.port(w.text('from')!);
  const count = w.num('count', 1, 1, 1_000_000);
  const interval = w.duration('interval', SECOND, 0.001, 3600);
  // the largest UDP payload an IPv4 datagram holds (65535 − 20 − 8); over the MTU it is fragmented
  const bytes = w.num('bytes', 8, 0, 65507);
  // one socket sends them all: it is bound to its port at the first sendto (inet_autobind) and keeps it
  let port = from;
  for (let i = 0; i < count; i++) {
    world.queue.at(w.at + i * interval, () => void (port = sockets.sendUdp(remote.addr, remote.port, port, bytes, world.queue.now) ?? port));
  }
}
