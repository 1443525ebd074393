/**
 * `ip route add` syntax, the form scenario files use for routes:
 *   [unicast|local|broadcast|blackhole|unreachable|prohibit] PREFIX|default [via GW] [dev NAME]
 *   [src ADDR] [metric N] [table main|local|N] [scope global|link|host] [proto X]
 */
import { formatIpv4, parseIpv4, parsePrefix, inPrefix } from '../packet/ipv4-addr.js';
import { Scope, type NetDevice } from './device.js';
import { TABLE_LOCAL, TABLE_MAIN, type Route, type RouteType } from './fib.js';

const TYPES = new Set<RouteType>(['unicast', 'local', 'broadcast', 'blackhole', 'unreachable', 'prohibit']);
const SCOPES: Record<string, number> = { global: Scope.Universe, universe: Scope.Universe, site: Scope.Site, link: Scope.Link, host: Scope.Host };

/** Parses one route; `devices` resolves `dev NAME` and finds the device of an on-link gateway. Throws Error(reason). */
export function parseRoute(text: string, devices: readonly NetDevice[]): Route {
  const words = text.trim().split(/\s+/);
  let i = 0;
  let type: RouteType = 'unicast';
  if (TYPES.has(words[0] as RouteType)) type = words[i++] as RouteType;
  const dstWord = words[i++];
  if (dstWord === undefined) throw new Error('route has no destination');
  const dst = dstWord === 'default' ? { addr: 0, len: 0 } : parsePrefix(dstWord);
  if (!dst) throw new Error(`bad destination '${dstWord}'`);
  const o = readRouteOptions(words.slice(i), devices, parseIpv4, 'ipv4');
  const gateway = o.gateway ?? 0;
  let dev = o.dev;
  const table = o.table ?? (type === 'local' || type === 'broadcast' ? TABLE_LOCAL : TABLE_MAIN);
  if (type === 'unicast' && !dev) dev = gateway !== 0 ? onLinkDevice(devices, gateway) : null;
  if (type === 'unicast' && !dev) throw new Error(gateway !== 0 ? `gateway ${formatIpv4(gateway)} is not on a connected subnet (Nexthop has invalid gateway)` : 'route needs dev or via');
  return {
    table,
    type,
    dst: dst.addr,
    prefixLen: dst.len,
    dev,
    gateway,
    prefsrc: o.prefsrc ?? 0,
    metric: o.metric ?? 0,
    scope: o.scope ?? (gateway !== 0 ? Scope.Universe : type === 'local' ? Scope.Host : Scope.Link),
  };
}

/** The keywords after an `ip route` destination, as either family's line has them. */
export interface RouteOptions {
  readonly gateway: number | null;
  readonly dev: NetDevice | null;
  readonly prefsrc: number | null;
  readonly metric: number | null;
  readonly table: number | null;
  /** IPv4 only. */
  readonly scope: number | null;
}

/**
 * Reads `via`, `dev`, `src`, `metric`/`priority`, `table`, `proto`, and `scope` (IPv4) or
 * `pref` (IPv6); addresses with the family's parser. Throws Error(reason).
 */
export function readRouteOptions(words: readonly string[], devices: readonly NetDevice[], parseAddr: (text: string) => number | null, family: 'ipv4' | 'ipv6'): RouteOptions {
  const o: { -readonly [K in keyof RouteOptions]: RouteOptions[K] } = { gateway: null, dev: null, prefsrc: null, metric: null, table: null, scope: null };
  const addr = (text: string): number => {
    const a = parseAddr(text);
    if (a === null) throw new Error(`bad address '${text}'`);
    return a;
  };
  for (let i = 0; i < words.length; ) {
    const key = words[i++]!;
    const value = words[i++];
    if (value === undefined) throw new Error(`'${key}' needs a value`);
    switch (key) {
      case 'via':
        o.gateway = addr(value);
        break;
      case 'dev':
        o.dev = devices.find((d) => d.name === value) ?? null;
        if (!o.dev) throw new Error(`no device '${value}'`);
        break;
      case 'src':
        o.prefsrc = addr(value);
        break;
      case 'metric':
      case 'priority':
        o.metric = numberOrThrow(value, key);
        break;
      case 'table':
        o.table = value === 'main' ? TABLE_MAIN : value === 'local' ? TABLE_LOCAL : numberOrThrow(value, key);
        break;
      case 'scope':
        if (family !== 'ipv4') throw new Error("unsupported route keyword 'scope'");
        if (!(value in SCOPES)) throw new Error(`unknown scope '${value}'`);
        o.scope = SCOPES[value]!;
        break;
      case 'pref':
        if (family !== 'ipv6') throw new Error("unsupported route keyword 'pref'");
        if (!['low', 'medium', 'high'].includes(value)) throw new Error(`unknown pref '${value}'`);
        break;
      case 'proto':
        break;
      default:
        throw new Error(`unsupported route keyword '${key}'`);
    }
  }
  return o;
}

function onLinkDevice(devices: readonly NetDevice[], gateway: number): NetDevice | null {
  return devices.find((d) => d.addrs.some((a) => inPrefix(gateway, a.local, a.prefixLen))) ?? null;
}

function numberOrThrow(text: string, key: string): number {
  if (!/^\d+$/.test(text)) throw new Error(`'${key}' needs a number, got '${text}'`);
  return Number(text);
}
