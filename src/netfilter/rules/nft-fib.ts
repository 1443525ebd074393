/**
 * `fib saddr|daddr [. iif|oif] [. mark] oif|oifname` (net/ipv4/netfilter/nft_fib_ipv4.c,
 * nft_fib4_eval, and nft_fib6_eval in nft_fib_ipv6.c for IPv6; nft_fib_store_result in nft_fib.c): a route lookup toward the packet's source
 * or destination, giving the device it leaves by — the index (natsim names devices by their
 * name, so the name stands for it, and no device is 0, "") or the name. With `iif` (or `oif`)
 * the route must leave by the packet's input (output) device, else the result is 0: the
 * reverse-path check `fib saddr . iif oif 0 drop`, or firewalld's `fib saddr . mark . iif oif
 * missing drop` (NFTA_FIB_F_PRESENT: whether there is a result, as a boolean). natsim's FIB has the default policy rules
 * only (local, then main), which ignore the mark, the source and the input device of the
 * flow, so `mark` changes nothing here. `fib … type` is the address type (nft-parser.ts).
 */
import { Hook } from '../constants.js';
import type { NetDevice } from '../../host/device.js';
import type { RuleContext } from './context.js';
import type { KeyExpr } from './model.js';
import type { NftCursor } from './nft-tokens.js';
import { ipv6AddrType, Ipv6Scope } from '../../ipv6/addrconf.js';

export type Fib = Extract<KeyExpr, { kind: 'fib' }>;

const FLAG_WORDS = new Set(['iif', 'oif', 'mark']);

/** After `fib`: the address, its `. FLAG`s and the result (oif, oifname). */
export function readFib(cur: NftCursor): Fib {
  const which = cur.next();
  if (which.text !== 'saddr' && which.text !== 'daddr') cur.fail(which, `expected 'saddr' or 'daddr' after 'fib', found '${which.text}'`);
  const flags = new Set<string>();
  while (cur.peek().text === '.' && FLAG_WORDS.has(cur.peekAt(1).text)) {
    cur.next();
    const f = cur.next();
    if (flags.has(f.text)) cur.fail(f, `fib flag '${f.text}' given twice`);
    flags.add(f.text);
  }
  // nft_fib_validate / nft's fib_expr: iif and oif exclude each other
  if (flags.has('iif') && flags.has('oif')) cur.fail(which, "fib takes 'iif' or 'oif', not both");
  const result = cur.next();
  if (result.text === 'type') cur.fail(result, "natsim reads 'fib saddr|daddr type' without iif, oif or mark flags");
  if (result.text !== 'oif' && result.text !== 'oifname') cur.fail(result, `unknown fib result '${result.text}' (oif, oifname, type)`);
  // `oif exists` / `oif missing`: nft asks for NFTA_FIB_F_PRESENT, a boolean of whether there is a result
  const next = cur.peek().text;
  const present = next === 'exists' || next === 'missing';
  return { kind: 'fib', daddr: which.text === 'daddr', dev: flags.has('iif') ? 'in' : flags.has('oif') ? 'out' : null, result: result.text, present };
}

/** nft_fib_store_result: the device's index or name, or with NFTA_FIB_F_PRESENT whether there is one (1, 0). */
export function fibResult(k: Fib, ctx: RuleContext): string | number {
  const name = loadFib(k, ctx);
  return k.present ? (name === '' ? 0 : 1) : name;
}

/** nft_fib4_eval, or nft_fib6_eval for an IPv6 packet (the route from the host's IPv6 FIB): the name of the device the route leaves by ("" for none); the index result loads the same (see above). */
function loadFib(k: Fib, ctx: RuleContext): string {
  const { hook, in: indev, out: outdev } = ctx.state;
  const p = ctx.skb.pkt;
  const oif = k.dev === 'in' ? indev : k.dev === 'out' ? outdev : null;
  // nft_fib_is_loopback at PRE_ROUTING: the input device itself
  if (hook === Hook.PreRouting && indev?.type === 'loopback') return indev.name;
  // a DHCP discover from 0.0.0.0: the device the packet is on
  if (p.saddr === 0 && (p.daddr === 0xffffffff || p.daddr >>> 8 === 0xe00000)) return nameOf(indev ?? outdev);
  const target = k.daddr ? p.daddr : p.saddr;
  // nft_fib6_flowi_init: a link-local target is looked up on the packet's device alone (RT6_LOOKUP_F_IFACE)
  if (p.family === 6 && ipv6AddrType(target).scope === Ipv6Scope.LinkLocal) return linkLocalResult(oif ?? (k.daddr ? outdev : indev) ?? indev ?? outdev, oif);
  const route = ctx.routeTo(target);
  // fib_lookup fails on blackhole, unreachable and prohibit routes; RTN_LOCAL gives 0 ("should not see RTN_LOCAL here")
  if (route === null || route.type === 'local' || route.type === 'blackhole' || route.type === 'unreachable' || route.type === 'prohibit') return '';
  // fib_info_nh_uses_dev: with iif/oif, the route must leave by that device
  if (oif !== null) return route.dev === oif ? oif.name : '';
  return nameOf(route.dev);
}

/** The device a link-local lookup is bound to: found when it has a link-local route (fe80::/64 with its address), else no result. */
function linkLocalResult(dev: NetDevice | null, oif: NetDevice | null): string {
  if (dev === null || !dev.addrs6.some((a) => ipv6AddrType(a.addr).scope === Ipv6Scope.LinkLocal)) return '';
  return oif !== null && dev !== oif ? '' : dev.name;
}

function nameOf(dev: NetDevice | null): string {
  return dev?.name ?? '';
}
