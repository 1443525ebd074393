/**
 * IPv6 addresses (struct in6_addr): 16 bytes, their text forms, and the numbers natsim passes
 * them around as.
 *
 * natsim's packet path, conntrack tuples and NAT carry an address as one JavaScript number —
 * an IPv4 address is its u32 value. An IPv6 address is a handle: 2^32 plus its index in this
 * module's table of the addresses met so far (interned, so one address is one handle and two
 * handles are equal exactly when the addresses are). The IPv4 path keeps its plain numbers and
 * pays one comparison where the families meet; whatever needs the 128 bits (prefixes, text,
 * hashing, checksums) reads them back with ipv6Bytes/ipv6Word. The table only grows; it holds
 * each distinct address once, 16 bytes and a key.
 */
import { prefixMask } from './ipv4-addr.js';

/** Handles start here: every IPv4 address is below, every IPv6 handle at or above. */
export const IPV6_HANDLE_BASE = 2 ** 32;

/**
 * The four big-endian u32 words of each interned address, four by index, in one array that
 * grows by doubling (an array per address would cost a typed array's ~200 bytes of headers
 * for 16 of address, and every IPv6 conntrack entry brings one or two new addresses).
 */
let table = new Uint32Array(4 * 1024);
/** Addresses interned. */
let count = 0;
/**
 * The interning table, open addressing: index + 1 of the address in each slot (0: free), found
 * from the address's fold. No key is made per lookup: every packet's two addresses come here.
 */
let slots = new Int32Array(1024);
/** 32 − log2(slots.length): a fold's slot is its top bits after a Fibonacci multiply (firstSlot). */
let slotShift = 22;

function fold(w0: number, w1: number, w2: number, w3: number): number {
  return (w0 ^ w1 ^ w2 ^ Math.imul(w3, 0x9e3779b1)) >>> 0;
}

/** Whether `addr` is an IPv6 handle (else an IPv4 address). */
export function isIpv6(addr: number): boolean {
  return addr >= IPV6_HANDLE_BASE;
}

/** The handle of the address in `bytes[at..at+16)`. */
export function ipv6Handle(bytes: Uint8Array, at = 0): number {
  return intern(readWord(bytes, at), readWord(bytes, at + 4), readWord(bytes, at + 8), readWord(bytes, at + 12));
}

function readWord(bytes: Uint8Array, o: number): number {
  return ((bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!) >>> 0;
}

/** The handle of the address with these four big-endian u32 words. */
export function handleOfWords(w: Uint32Array): number {
  return intern(w[0]!, w[1]!, w[2]!, w[3]!);
}

function intern(w0: number, w1: number, w2: number, w3: number): number {
  const f = fold(w0, w1, w2, w3);
  const mask = slots.length - 1;
  for (let i = firstSlot(f); ; i = (i + 1) & mask) {
    const slot = slots[i]!;
    if (slot === 0) break;
    const at = 4 * (slot - 1);
    if (table[at] === w0 && table[at + 1] === w1 && table[at + 2] === w2 && table[at + 3] === w3) return IPV6_HANDLE_BASE + slot - 1;
  }
  const index = count++;
  const at = 4 * index;
  if (at === table.length) grow();
  table[at] = w0;
  table[at + 1] = w1;
  table[at + 2] = w2;
  table[at + 3] = w3;
  if (4 * count > 3 * slots.length) rehash(2 * slots.length);
  else place(index);
  return IPV6_HANDLE_BASE + index;
}

/** Doubles the address array. */
function grow(): void {
  const words = new Uint32Array(2 * table.length);
  words.set(table);
  table = words;
}

/** The fold of address `index`, from its words (kept nowhere else: 4 bytes an address saved for 4 loads). */
function foldAt(index: number): number {
  const at = 4 * index;
  return fold(table[at]!, table[at + 1]!, table[at + 2]!, table[at + 3]!);
}

/** Puts address `index` in the first free slot after its fold. */
function place(index: number): void {
  const mask = slots.length - 1;
  let i = firstSlot(foldAt(index));
  while (slots[i] !== 0) i = (i + 1) & mask;
  slots[i] = index + 1;
}

/**
 * Where a fold's probe starts: its top bits after a multiply by 2^32/φ, which spreads addresses
 * that differ only in high bits (an interface identifier's upper half) as well as those that
 * differ in the low ones.
 */
function firstSlot(f: number): number {
  return Math.imul(f, 0x9e3779b1) >>> slotShift;
}

/**
 * A table of `size` slots holding every address, kept at most three-quarters full: a hit, what
 * nearly every packet's address is, probes 2.5 slots on average at the fullest, and the slots cost
 * 5-11 bytes an address instead of the 8-16 of a half-full table.
 */
function rehash(size: number): void {
  slots = new Int32Array(size);
  slotShift = 32 - Math.log2(size);
  for (let i = 0; i < count; i++) place(i);
}

/** Big-endian u32 word `i` (0-3) of a handle's address. */
export function ipv6Word(handle: number, i: number): number {
  const index = handle - IPV6_HANDLE_BASE;
  if (!(index >= 0 && index < count)) throw new Error(`bug: ${handle} is not an IPv6 address handle`);
  return table[4 * index + i]!;
}

/** The four words of a handle's address, as a new array (the packet path reads ipv6Word instead). */
export function ipv6Words(handle: number): Uint32Array {
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) w[i] = ipv6Word(handle, i);
  return w;
}

/** A handle's address as 16 bytes. */
export function ipv6Bytes(handle: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    const w = ipv6Word(handle, i);
    out[4 * i] = w >>> 24;
    out[4 * i + 1] = w >>> 16;
    out[4 * i + 2] = w >>> 8;
    out[4 * i + 3] = w;
  }
  return out;
}

/**
 * Every address this thread has interned, four words each, by index. Handles are numbered per
 * thread in the order addresses were met, so a handle made in another thread (diff's worker)
 * means nothing here until mapped by its thread's table (handleFrom).
 */
export function internedAddresses(): Uint32Array {
  return table.slice(0, 4 * count);
}

/** This thread's number for `addr`, an address of the thread whose internedAddresses() is `table` (IPv4 unchanged). */
export function handleFrom(table: Uint32Array, addr: number): number {
  if (!isIpv6(addr)) return addr;
  const at = 4 * (addr - IPV6_HANDLE_BASE);
  if (at + 4 > table.length) throw new Error(`bug: ${addr} is not a handle of the table given`);
  return intern(table[at]!, table[at + 1]!, table[at + 2]!, table[at + 3]!);
}

/** A 32-bit value of the address itself, the same in every run whatever order addresses were met in. */
export function ipv6Fold(handle: number): number {
  return foldAt(handle - IPV6_HANDLE_BASE);
}

/**
 * inet_pton(AF_INET6): eight groups of one to four hex digits, one "::" standing for one or
 * more zero groups, and optionally a dotted quad as the last 32 bits. Null when malformed.
 */
export function parseIpv6(text: string): number | null {
  const groups = parseGroups(text);
  if (groups === null) return null;
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) w[i] = ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0;
  return handleOfWords(w);
}

function parseGroups(text: string): number[] | null {
  if (text.length === 0 || text.length > 45) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : halves[1]!.split(':')) : null;
  const all = tail ?? head;
  const parts: number[][] = [];
  for (const list of tail === null ? [head] : [head, tail]) {
    const out: number[] = [];
    for (let i = 0; i < list.length; i++) {
      const g = list[i]!;
      // a dotted quad only as the very last part of the address
      if (g.includes('.')) {
        if (list !== all || i !== list.length - 1) return null;
        const v4 = dottedQuad(g);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
        out.push(parseInt(g, 16));
      }
    }
    parts.push(out);
  }
  if (tail === null) return parts[0]!.length === 8 ? parts[0]! : null;
  const missing = 8 - parts[0]!.length - parts[1]!.length;
  if (missing < 1) return null;
  return [...parts[0]!, ...new Array<number>(missing).fill(0), ...parts[1]!];
}

function dottedQuad(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    v = v * 256 + Number(p);
  }
  return v;
}

/** The eight 16-bit groups of a handle's address. */
function groupsOf(handle: number): number[] {
  const g: number[] = [];
  for (let i = 0; i < 4; i++) {
    const w = ipv6Word(handle, i);
    g.push(w >>> 16, w & 0xffff);
  }
  return g;
}

/**
 * inet_ntop(AF_INET6) as glibc writes it, the form conntrack, ip and nft print: lower-case hex
 * without leading zeros, the longest run of two or more zero groups (the first of equal runs)
 * as "::", and the last 32 bits as a dotted quad when the address is six zero groups and two
 * more (::a.b.c.d, where the seventh is not zero) or IPv4-mapped (::ffff:a.b.c.d).
 */
export function formatIpv6(handle: number): string {
  const g = groupsOf(handle);
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) best = -1;
  const v4 = best === 0 && (bestLen === 6 || (bestLen === 5 && g[5] === 0xffff));
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      out += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    if (v4 && i === 6) {
      out += `${g[6]! >>> 8}.${g[6]! & 255}.${g[7]! >>> 8}.${g[7]! & 255}`;
      break;
    }
    out += g[i]!.toString(16) + (i < 7 ? ':' : '');
  }
  return out;
}

/**
 * The kernel's %pI6 (lib/vsprintf.c ip6_string): all eight groups, four hex digits each, as
 * the LOG target prints IPv6 addresses.
 */
export function formatIpv6Full(handle: number): string {
  return groupsOf(handle)
    .map((x) => x.toString(16).padStart(4, '0'))
    .join(':');
}

/** Whether the first `len` bits of two addresses agree (ipv6_prefix_equal). */
export function ipv6PrefixEqual(a: number, b: number, len: number): boolean {
  for (let i = 0; i < 4 && len > 0; i++, len -= 32) {
    if (((ipv6Word(a, i) ^ ipv6Word(b, i)) & prefixMask(Math.min(32, len))) !== 0) return false;
  }
  return true;
}

/** The first `len` bits of a handle's address as a key: two addresses have one key exactly when ipv6PrefixEqual holds for them at that length. */
export function ipv6PrefixKey(handle: number, len: number): string {
  let key = '';
  for (let i = 0; i < 4; i++) key += `${(ipv6Word(handle, i) & prefixMask(Math.max(0, Math.min(32, len - 32 * i)))) >>> 0}:`;
  return key;
}

/** The four words of the netmask of a /len prefix (the mask ipv6_addr_prefix applies). */
export function ipv6PrefixMaskWords(len: number): Uint32Array {
  const mask = new Uint32Array(4);
  for (let i = 0; i < 4; i++) mask[i] = prefixMask(Math.max(0, Math.min(32, len - 32 * i)));
  return mask;
}

/**
 * The handle of the address ANDed word by word with `mask` (nf_inet_addr_mask; with a prefix's
 * netmask, ipv6_addr_prefix).
 */
export function ipv6Masked(handle: number, mask: ArrayLike<number>): number {
  const w = (i: number) => (ipv6Word(handle, i) & mask[i]!) >>> 0;
  return intern(w(0), w(1), w(2), w(3));
}

/**
 * Parses "addr/len" or "addr" (a /128); null when malformed. The prefix is kept as given, host
 * bits and all (as `ip -6 route` shows a destination).
 */
export function parseIpv6Prefix(text: string): { addr: number; len: number } | null {
  const slash = text.indexOf('/');
  const addr = parseIpv6(slash < 0 ? text : text.slice(0, slash));
  if (addr === null) return null;
  if (slash < 0) return { addr, len: 128 };
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return null;
  const len = Number(lenText);
  return len > 128 ? null : { addr, len };
}
