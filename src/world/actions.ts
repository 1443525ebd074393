/**
 * Timed actions of a scenario's `run:` list. So far: `ping ADDR [count N] [interval SECONDS]`.
 */
import { InputError } from '../errors.js';
import { inetSelectAddr } from '../host/select-addr.js';
import { buildIcmpEcho } from '../packet/build.js';
import { ICMP_ECHO } from '../packet/ipv4.js';
import { parseIpv4 } from '../packet/ipv4-addr.js';
import type { RunStep } from '../scenario/spec.js';
import type { World } from './world.js';

export function startAction(world: World, step: RunStep): void {
  const words = step.action.trim().split(/\s+/);
  if (words[0] === 'ping') return startPing(world, step, words.slice(1));
  throw new InputError(step.place, `unsupported action '${words[0]}' (natsim knows: ping)`);
}

function startPing(world: World, step: RunStep, args: string[]): void {
  const dst = parseIpv4(args[0] ?? '');
  if (dst === null) throw new InputError(step.place, `ping needs an IPv4 address, got '${args[0] ?? ''}'`);
  const opts = keywordArgs(step, args.slice(1), ['count', 'interval']);
  const count = opts.count ?? 1;
  const interval = Math.round((opts.interval ?? 1) * 1e9);
  const host = world.hosts.get(step.on)!;
  const echoId = world.prng.u16();
  const payload = new Uint8Array(56).map((_, i) => i);
  for (let seq = 1; seq <= count; seq++) {
    world.queue.at(step.at + (seq - 1) * interval, () => {
      const route = host.fib.lookup(dst);
      if (!route || !route.dev) return;
      const saddr = route.prefsrc || inetSelectAddr(host.devices, route.dev, route.gateway, route.scope);
      host.output(buildIcmpEcho({ saddr, daddr: dst, ipId: world.prng.u16(), ttl: 64, type: ICMP_ECHO, echoId, seq, payload }), world.queue.now);
    });
  }
}

function keywordArgs(step: RunStep, words: string[], allowed: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < words.length; i += 2) {
    const key = words[i]!;
    const value = Number(words[i + 1]);
    if (!allowed.includes(key)) throw new InputError(step.place, `unknown option '${key}' (expected ${allowed.join(', ')})`);
    if (!Number.isFinite(value) || value <= 0) throw new InputError(step.place, `'${key}' needs a positive number`);
    out[key] = value;
  }
  return out;
}
