/**
 * ipv6_addr_label (net/ipv6/addrlabel.c): the policy table's label of an address, the default
 * table of ip6addrlbl_init_table (RFC 3484's, with 6to4, Teredo, ORCHID, ULA and the
 * deprecated site-local and 6bone prefixes); the most specific prefix that holds the address
 * wins. `ip addrlabel` changes are not modelled.
 */
import { ipv6PrefixEqual, parseIpv6 } from '../packet/ipv6-addr.js';

const TABLE: readonly { readonly prefix: number; readonly len: number; readonly label: number }[] = [
  ['::1', 128, 0],
  ['::ffff:0:0', 96, 4],
  ['::', 96, 3],
  ['2001::', 32, 6],
  ['2001:10::', 28, 7],
  ['2002::', 16, 2],
  ['3ffe::', 16, 12],
  ['fec0::', 10, 11],
  ['fc00::', 7, 5],
  ['::', 0, 1],
]
  .map(([text, len, label]) => ({ prefix: parseIpv6(text as string)!, len: len as number, label: label as number }))
  .sort((a, b) => b.len - a.len);

export function ipv6AddrLabel(addr: number): number {
  for (const e of TABLE) if (ipv6PrefixEqual(addr, e.prefix, e.len)) return e.label;
  return 1;
}
