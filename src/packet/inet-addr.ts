/**
 * Addresses of either family where the two meet (rules, tuples, tool output): an IPv4 address
 * is its u32, an IPv6 address its handle (ipv6-addr.ts). What depends on the family is decided
 * here once, so that no caller tests the family itself.
 */
import { formatIpv4, inPrefix, parsePrefix, prefixMask } from './ipv4-addr.js';
import { formatIpv6, handleOfWords, ipv6Masked, ipv6PrefixEqual, ipv6PrefixMaskWords, ipv6Word, ipv6Words, isIpv6, parseIpv6Prefix } from './ipv6-addr.js';

/** The address cache: direct-mapped (a colliding address replaces the one in its slot), bounded. */
const ADDR_CACHE_BITS = 12;
const ADDR_CACHE_SIZE = 1 << ADDR_CACHE_BITS;
/** The address in each slot; -1 (no address) while empty. */
const cachedAddr = new Float64Array(ADDR_CACHE_SIZE).fill(-1);
const cachedText: string[] = new Array<string>(ADDR_CACHE_SIZE).fill('');

/**
 * inet_ntop(AF_INET or AF_INET6) as conntrack-tools, ip and nft print an address: 10.0.3.1, fd00:3::1.
 * A trace prints each packet's addresses on several lines, and a flow's on every packet: the
 * text of the addresses met last is kept (an address's text never changes: an IPv6 handle
 * names one address for the thread's life, ipv6-addr.ts).
 */
export function formatInetAddr(addr: number): string {
  // bit operators take a handle modulo 2^32: its index, so IPv6 handles spread like IPv4 values
  const slot = (addr ^ (addr >>> ADDR_CACHE_BITS)) & (ADDR_CACHE_SIZE - 1);
  if (cachedAddr[slot] === addr) return cachedText[slot]!;
  const text = isIpv6(addr) ? formatIpv6(addr) : formatIpv4(addr);
  cachedAddr[slot] = addr;
  cachedText[slot] = text;
  return text;
}

/** An address and port: "10.0.3.1:41000", an IPv6 address bracketed (RFC 3986) "[fd00:3::1]:41000". */
export function formatInetAddrPort(addr: number, port: number): string {
  return isIpv6(addr) ? `[${formatIpv6(addr)}]:${port}` : `${formatIpv4(addr)}:${port}`;
}

/** A prefix of either family: its family is its address's. */
export interface InetPrefix {
  readonly addr: number;
  readonly len: number;
}

/** "a.b.c.d[/len]" or "IPv6[/len]" (host bits kept as written); null when neither. */
export function parseInetPrefix(text: string): InetPrefix | null {
  return text.includes(':') ? parseIpv6Prefix(text) : parsePrefix(text);
}

/**
 * The address with all but its first `len` bits cleared, in its own family (xt_hashlimit's maskl
 * and hashlimit_ipv6_mask, ipv6_addr_prefix).
 */
export function inetPrefixAddr(addr: number, len: number): number {
  return isIpv6(addr) ? ipv6Masked(addr, ipv6PrefixMaskWords(len)) : (addr & prefixMask(len)) >>> 0;
}

/**
 * nf_inet_addr_mask: `addr` ANDed with `mask`, an address of the same family used as a mask
 * (xt_recent's --mask). An IPv4 address meets an IPv4 mask, an IPv6 one an IPv6 mask.
 */
export function maskInetAddr(addr: number, mask: number): number {
  if (isIpv6(addr) !== isIpv6(mask)) throw new Error(`bug: ${formatInetAddr(addr)} masked by ${formatInetAddr(mask)}, of the other family`);
  return isIpv6(addr) ? ipv6Masked(addr, ipv6Words(mask)) : (addr & mask) >>> 0;
}

/**
 * Whether `addr` lies in the prefix: of the prefix's own family only (an IPv4 prefix never
 * holds an IPv6 address, as an ip rule never sees an IPv6 packet), then the first `len` bits
 * (inet_addr_match / ipv6_masked_addr_cmp).
 */
export function inInetPrefix(addr: number, prefix: InetPrefix): boolean {
  if (isIpv6(prefix.addr)) return isIpv6(addr) && ipv6PrefixEqual(addr, prefix.addr, prefix.len);
  return !isIpv6(addr) && inPrefix(addr, prefix.addr, prefix.len);
}

/**
 * The order of two addresses of one family by their bits (a NAT range's ends: IPv6 handles are
 * numbered as the addresses were met, not by value); negative, zero or positive.
 */
export function compareInetAddr(a: number, b: number): number {
  if (!isIpv6(a) || !isIpv6(b)) return a - b;
  for (let i = 0; i < 4; i++) {
    const d = ipv6Word(a, i) - ipv6Word(b, i);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * How many addresses a NAT range min..max of one family holds (an IPv6 range past 2^53
 * addresses as the nearest double: only ever shown, never walked).
 */
export function inetRangeSize(min: number, max: number): number {
  if (!isIpv6(min) || !isIpv6(max)) return max - min + 1;
  let n = 0;
  for (let i = 0; i < 4; i++) n = n * 2 ** 32 + (ipv6Word(max, i) - ipv6Word(min, i));
  return n + 1;
}

/** union nf_inet_addr's all[] in use: one u32 word of an IPv4 address, four of an IPv6 one (host order). */
export function inetAddrWords(addr: number): ArrayLike<number> {
  return isIpv6(addr) ? ipv6Words(addr) : [addr];
}

/** The address of those words: of the family of `like` (an IPv4 address is its one word). */
export function inetAddrOfWords(words: Uint32Array, like: number): number {
  return isIpv6(like) ? handleOfWords(words) : words[0]!;
}
