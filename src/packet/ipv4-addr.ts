/** IPv4 addresses as unsigned 32-bit numbers in host order, and their text forms. */

/** Parses dotted-quad text; null when it is not exactly four decimal octets. */
export function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value >>> 0;
}

export function formatIpv4(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

/** The netmask of a prefix length, as a number (0 for /0). */
export function prefixMask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** Parses "a.b.c.d/len" or "a.b.c.d" (a /32); null when malformed. */
export function parsePrefix(text: string): { addr: number; len: number } | null {
  const slash = text.indexOf('/');
  const addr = parseIpv4(slash < 0 ? text : text.slice(0, slash));
  if (addr === null) return null;
  if (slash < 0) return { addr, len: 32 };
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,2}$/.test(lenText)) return null;
  const len = Number(lenText);
  if (len > 32) return null;
  return { addr, len };
}

export function inPrefix(addr: number, prefixAddr: number, len: number): boolean {
  const mask = prefixMask(len);
  return ((addr & mask) >>> 0) === ((prefixAddr & mask) >>> 0);
}

/** INADDR_BROADCAST: the limited broadcast, 255.255.255.255 (ipv4_is_lbcast). */
export const INADDR_BROADCAST = 0xffffffff;

/** ipv4_is_multicast: 224.0.0.0/4. */
export function ipv4IsMulticast(addr: number): boolean {
  return addr >>> 28 === 0xe;
}

/** ipv4_is_local_multicast: 224.0.0.0/24, the link-local groups. */
export function ipv4IsLocalMulticast(addr: number): boolean {
  return addr >>> 8 === 0xe00000;
}
