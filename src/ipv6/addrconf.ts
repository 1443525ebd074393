/**
 * IPv6 addresses of a device (struct inet6_ifaddr on idev->addr_list) and source address
 * selection, as net/ipv6/addrconf.c does them: ipv6_link_dev_addr's list order,
 * __ipv6_addr_type's scopes, and ipv6_dev_get_saddr — RFC 6724's rules in the kernel's order
 * and with its tie-break (a candidate replaces the best so far only when strictly better at the
 * first rule where they differ). This is what nf_nat_masquerade_ipv6 picks and what `ip -6 route
 * get` shows as src.
 *
 * Not modelled: temporary addresses and use_tempaddr (rule 7: every candidate ties), optimistic DAD
 * (optimistic_dad is off by default: an optimistic address counts as deprecated), source
 * preferences from a socket (prefs 0), use_oif_addrs_only and L3 master devices (VRF).
 */
import { formatIpv6, ipv6Word, parseIpv6Prefix } from '../packet/ipv6-addr.js';
import { ipv6AddrLabel } from './addrlabel.js';

/** IFA_F_* flags natsim keeps (include/uapi/linux/if_addr.h). */
export const IFA_F = { NODAD: 0x02, OPTIMISTIC: 0x04, DADFAILED: 0x08, HOMEADDRESS: 0x10, DEPRECATED: 0x20, TENTATIVE: 0x40, PERMANENT: 0x80 } as const;

/** The `ip addr` words for the flags, as ip -6 addr prints them (and ip-addr.json names them). */
const FLAG_WORDS: Readonly<Record<string, number>> = { nodad: IFA_F.NODAD, optimistic: IFA_F.OPTIMISTIC, dadfailed: IFA_F.DADFAILED, home: IFA_F.HOMEADDRESS, deprecated: IFA_F.DEPRECATED, tentative: IFA_F.TENTATIVE };

/** IPV6_ADDR_SCOPE_* (RFC 4291 scope values), what __ipv6_addr_src_scope returns. */
export const Ipv6Scope = { NodeLocal: 0x01, LinkLocal: 0x02, SiteLocal: 0x05, Global: 0x0e } as const;

export interface Inet6Ifaddr {
  readonly addr: number;
  readonly prefixLen: number;
  /** IFA_F_* */
  readonly flags: number;
}

/** What __ipv6_addr_type tells source selection about an address. */
export interface Ipv6AddrType {
  readonly any: boolean;
  readonly multicast: boolean;
  readonly loopback: boolean;
  /** IPV6_ADDR_MAPPED or IPV6_ADDR_COMPATv4: ipv6_saddr_preferred takes them as preferred. */
  readonly v4: boolean;
  /** __ipv6_addr_src_scope */
  readonly scope: number;
}

/** An address type of each kind, made once: ipv6AddrType runs for every packet's addresses. */
function addrType(scope: number, kind: 'any' | 'multicast' | 'loopback' | 'v4' | null = null): Ipv6AddrType {
  return Object.freeze({ any: kind === 'any', multicast: kind === 'multicast', loopback: kind === 'loopback', v4: kind === 'v4', scope });
}
const GLOBAL = addrType(Ipv6Scope.Global);
const LINK_LOCAL = addrType(Ipv6Scope.LinkLocal);
const SITE_LOCAL = addrType(Ipv6Scope.SiteLocal);
const ANY = addrType(Ipv6Scope.Global, 'any');
/** IPV6_ADDR_LOOPBACK's scope is link-local. */
const LOOPBACK = addrType(Ipv6Scope.LinkLocal, 'loopback');
const V4 = addrType(Ipv6Scope.Global, 'v4');
/** A multicast address's scope is its scope field (interface-local is node-local), by that field. */
const MULTICAST = Array.from({ length: 16 }, (_, scope) => addrType(scope, 'multicast'));

/** __ipv6_addr_type and __ipv6_addr_src_scope, for unicast and multicast addresses. */
export function ipv6AddrType(addr: number): Ipv6AddrType {
  const w0 = ipv6Word(addr, 0);
  if (w0 >>> 24 === 0xff) return MULTICAST[(w0 >>> 16) & 0x0f]!;
  if (w0 >>> 22 === 0x3fa) return LINK_LOCAL; // fe80::/10
  if (w0 >>> 22 === 0x3fb) return SITE_LOCAL; // fec0::/10
  if ((w0 | ipv6Word(addr, 1)) === 0) {
    const w2 = ipv6Word(addr, 2);
    const w3 = ipv6Word(addr, 3);
    if (w2 === 0) {
      if (w3 === 0) return ANY;
      if (w3 === 1) return LOOPBACK;
      return V4;
    }
    if (w2 === 0x0000ffff) return V4;
  }
  return GLOBAL;
}

/**
 * An address as a scenario or `ip addr` gives it: "fd00:3::254/64", optionally followed by
 * flag words (nodad, deprecated, tentative, optimistic, home). Returns an error text for what
 * is not one.
 */
export function parseInet6Ifaddr(text: string): Inet6Ifaddr | string {
  const [first, ...words] = text.trim().split(/\s+/);
  const prefix = parseIpv6Prefix(first ?? '');
  if (!prefix || !first!.includes('/')) return `'${first}' is not an IPv6 address/prefix length`;
  const type = ipv6AddrType(prefix.addr);
  if (type.any || type.multicast) return `${formatIpv6(prefix.addr)} is not a unicast address`;
  let flags = 0;
  for (const w of words) {
    const flag = FLAG_WORDS[w];
    if (flag === undefined) return `unknown address flag '${w}' (${Object.keys(FLAG_WORDS).join(', ')})`;
    flags |= flag;
  }
  return { addr: prefix.addr, prefixLen: prefix.len, flags };
}

/**
 * ipv6_link_dev_addr: a new address goes before the first one of the same or a smaller scope
 * (so globals come before link-local ones, and among equals the newest is first).
 */
export function ipv6LinkDevAddr(list: Inet6Ifaddr[], ifa: Inet6Ifaddr): void {
  const scope = ipv6AddrType(ifa.addr).scope;
  const at = list.findIndex((a) => scope >= ipv6AddrType(a.addr).scope);
  list.splice(at < 0 ? list.length : at, 0, ifa);
}

/** A device as source selection sees it: its index and IPv6 addresses in list order. */
export interface Inet6Dev {
  readonly index: number;
  readonly addrs6: readonly Inet6Ifaddr[];
}

/** struct ipv6_saddr_dst */
interface SaddrDst {
  readonly addr: number;
  readonly ifindex: number;
  readonly scope: number;
  readonly label: number;
}

/**
 * The rules of ipv6_get_saddr_eval as enum addr_selection numbers them, from
 * IPV6_SADDR_RULE_LOCAL on (RULE_INIT, "a candidate at all", is the `best === null` test; rule 7,
 * RULE_PRIVACY, ties with no temporary addresses and is skipped).
 */
const enum SaddrRule {
  Local = 1,
  Scope = 2,
  Preferred = 3,
  Hoa = 4,
  Oif = 5,
  Label = 6,
  Orchid = 8,
  Prefix = 9,
  NotOptimistic = 10,
}

const RULES: readonly SaddrRule[] = [SaddrRule.Local, SaddrRule.Scope, SaddrRule.Preferred, SaddrRule.Hoa, SaddrRule.Oif, SaddrRule.Label, SaddrRule.Orchid, SaddrRule.Prefix, SaddrRule.NotOptimistic];

/**
 * struct ipv6_saddr_score: a candidate, its __ipv6_addr_type (read once, as score->addr_type),
 * and the values of the rules evaluated for it so far, by position in RULES. The best so far
 * keeps its values, so each comparison evaluates the newcomer's rules alone, as the kernel's
 * hiscore keeps its scorebits, scopedist and matchlen.
 */
interface SaddrScore {
  readonly ifa: Inet6Ifaddr;
  readonly dev: Inet6Dev;
  readonly type: Ipv6AddrType;
  readonly values: number[];
}

/**
 * ipv6_dev_get_saddr(net, dst_dev, daddr, 0, &saddr): the source for `daddr` sent out of
 * `dstDev` (null: no device), or null (-EADDRNOTAVAIL). For a multicast or link-local (or
 * narrower) destination only the outgoing device's addresses are candidates; otherwise every
 * device's, in device order.
 */
export function ipv6DevGetSaddr(devices: readonly Inet6Dev[], dstDev: Inet6Dev | null, daddr: number): number | null {
  const type = ipv6AddrType(daddr);
  const dst: SaddrDst = { addr: daddr, ifindex: dstDev?.index ?? 0, scope: type.scope, label: ipv6AddrLabel(daddr) };
  const useOif = dstDev !== null && (type.multicast || dst.scope <= Ipv6Scope.LinkLocal);
  let best: SaddrScore | null = null;
  for (const dev of useOif ? [dstDev] : devices) {
    for (const ifa of dev.addrs6) {
      // a tentative address is not assigned yet (unless optimistic); never the unspecified or a multicast address
      if (ifa.flags & IFA_F.TENTATIVE && !(ifa.flags & IFA_F.OPTIMISTIC)) continue;
      const t = ipv6AddrType(ifa.addr);
      if (t.any || t.multicast) continue;
      const score: SaddrScore = { ifa, dev, type: t, values: [] };
      if (best === null || better(dst, score, best)) best = score;
    }
  }
  return best?.ifa.addr ?? null;
}

/** __ipv6_dev_get_saddr's loop over the rules: the candidate wins only where it scores higher first. */
function better(dst: SaddrDst, cand: SaddrScore, best: SaddrScore): boolean {
  for (let i = 0; i < RULES.length; i++) {
    const a = scoreAt(dst, cand, i);
    const b = scoreAt(dst, best, i);
    if (a !== b) return a > b;
  }
  return false;
}

/** ipv6_get_saddr_eval: rule RULES[i]'s value for a candidate, remembered (rules are asked in order). */
function scoreAt(dst: SaddrDst, s: SaddrScore, i: number): number {
  if (i < s.values.length) return s.values[i]!;
  const v = evalRule(dst, s, RULES[i]!);
  s.values.push(v);
  return v;
}

function evalRule(dst: SaddrDst, s: SaddrScore, rule: SaddrRule): number {
  const ifa = s.ifa;
  switch (rule) {
    // Rule 1: prefer the same address
    case SaddrRule.Local:
      return ifa.addr === dst.addr ? 1 : 0;
    // Rule 2: prefer appropriate scope — the smallest that is enough for the destination, else the largest
    case SaddrRule.Scope:
      return s.type.scope >= dst.scope ? -s.type.scope : s.type.scope - 128;
    // Rule 3: avoid deprecated and (optimistic_dad being off) optimistic addresses
    case SaddrRule.Preferred:
      return s.type.v4 || s.type.loopback || !(ifa.flags & (IFA_F.DEPRECATED | IFA_F.OPTIMISTIC)) ? 1 : 0;
    // Rule 4: prefer home addresses (prefs without IPV6_PREFER_SRC_COA)
    case SaddrRule.Hoa:
      return ifa.flags & IFA_F.HOMEADDRESS ? 1 : 0;
    // Rule 5: prefer the outgoing interface
    case SaddrRule.Oif:
      return dst.ifindex === 0 || dst.ifindex === s.dev.index ? 1 : 0;
    // Rule 6: prefer matching label
    case SaddrRule.Label:
      return ipv6AddrLabel(ifa.addr) === dst.label ? 1 : 0;
    // Rule 7 (public over temporary) ties: no temporary addresses. ORCHID: both or neither
    case SaddrRule.Orchid:
      return isOrchid(ifa.addr) === isOrchid(dst.addr) ? 1 : 0;
    // Rule 8: the longest matching prefix, no longer than the candidate's prefix length
    case SaddrRule.Prefix:
      return Math.min(commonPrefix(ifa.addr, dst.addr), ifa.prefixLen);
    // and optimistic addresses after all preferred ones
    case SaddrRule.NotOptimistic:
      return ifa.flags & IFA_F.OPTIMISTIC ? 0 : 1;
  }
}

/** ipv6_addr_orchid: 2001:10::/28. */
function isOrchid(addr: number): boolean {
  return (ipv6Word(addr, 0) & 0xfffffff0) === 0x20010010;
}

/** ipv6_addr_diff: the number of leading bits two addresses share. */
function commonPrefix(a: number, b: number): number {
  for (let i = 0; i < 4; i++) {
    const x = (ipv6Word(a, i) ^ ipv6Word(b, i)) >>> 0;
    if (x !== 0) return 32 * i + Math.clz32(x);
  }
  return 128;
}
