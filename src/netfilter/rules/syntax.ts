/**
 * Pieces of rule syntax that nft and iptables write the same way: protocol names, port ranges
 * and NAT targets ("ADDR[-ADDR][:PORT[-PORT]]"), turned into the kernel's nf_nat_range2.
 */
import { IPPROTO } from '../constants.js';
import { parseIpv4 } from '../../packet/ipv4-addr.js';
import { parseIpv6 } from '../../packet/ipv6-addr.js';
import { compareInetAddr } from '../../packet/inet-addr.js';
import { AddrType, NatFlag, type NatRange, type PortRange } from './model.js';

/** /etc/protocols names both tools accept, or a number 0–255. */
const PROTO_BY_NAME: Readonly<Record<string, number>> = {
  icmp: IPPROTO.ICMP,
  tcp: IPPROTO.TCP,
  udp: IPPROTO.UDP,
  udplite: IPPROTO.UDPLITE,
  sctp: IPPROTO.SCTP,
  gre: IPPROTO.GRE,
  igmp: 2,
  esp: 50,
  ah: 51,
  'ipv6-icmp': IPPROTO.ICMPV6,
  icmpv6: IPPROTO.ICMPV6,
};

export function parseProto(text: string): number | null {
  const named = PROTO_BY_NAME[text.toLowerCase()];
  if (named !== undefined) return named;
  return /^\d{1,3}$/.test(text) && Number(text) <= 255 ? Number(text) : null;
}

function parsePort(text: string): number | null {
  return /^\d{1,5}$/.test(text) && Number(text) <= 65535 ? Number(text) : null;
}

/**
 * "P" or "P<sep>Q" (nft and NAT targets use '-', iptables port matches ':'); iptables also
 * allows an open end (":Q", "P:"). Null when malformed or min > max.
 */
export function parsePortRange(text: string, sep: '-' | ':', openEnds = false): PortRange | null {
  const at = text.indexOf(sep);
  if (at < 0) {
    const p = parsePort(text);
    return p === null ? null : { min: p, max: p };
  }
  const lo = at === 0 && openEnds ? 0 : parsePort(text.slice(0, at));
  const hi = at === text.length - 1 && openEnds ? 65535 : parsePort(text.slice(at + 1));
  if (lo === null || hi === null || lo > hi) return null;
  return { min: lo, max: hi };
}

/**
 * A NAT target as iptables (--to-source/--to-destination) and nft (snat to …) write it:
 * "A", "A-B", "A:P", "A-B:P-Q", or ":P-Q" with no address (masquerade/redirect ports); an IPv6
 * address in brackets when a port follows ("[A]:P", "[A]-[B]:P-Q", as libip6t_DNAT and nft
 * read it), bare otherwise ("A", "A-B"). Returns the range with MapIps/ProtoSpecified set as
 * the kernel expects, or an error text.
 */
export function parseNatTarget(text: string, flags: number, family: 'ipv4' | 'ipv6'): NatRange | string {
  const split = family === 'ipv6' ? splitIpv6Target(text) : splitAt(text, text.indexOf(':'));
  if (typeof split === 'string') return split;
  const [addrPart, portPart] = split;
  let range: NatRange = { flags, minAddr: 0, maxAddr: 0, minProto: 0, maxProto: 0, baseProto: 0 };
  if (addrPart !== '') {
    const parse = family === 'ipv6' ? (t: string) => parseIpv6(t.replace(/^\[(.*)\]$/, '$1')) : parseIpv4;
    const dash = addrPart.indexOf('-');
    const lo = parse(dash < 0 ? addrPart : addrPart.slice(0, dash));
    const hi = dash < 0 ? lo : parse(addrPart.slice(dash + 1));
    if (lo === null || hi === null) return `bad ${family === 'ipv6' ? 'IPv6 ' : ''}address '${addrPart}'`;
    if (compareInetAddr(lo, hi) > 0) return `address range '${addrPart}' runs backwards`;
    range = { ...range, flags: range.flags | NatFlag.MapIps, minAddr: lo, maxAddr: hi };
  }
  if (portPart !== null) {
    const ports = parsePortRange(portPart, '-');
    if (ports === null) return `bad port or port range '${portPart}'`;
    range = { ...range, flags: range.flags | NatFlag.ProtoSpecified, minProto: ports.min, maxProto: ports.max };
  }
  return range;
}

/** The address part and the port part (null: none) either side of `at` (-1: all address). */
function splitAt(text: string, at: number): [string, string | null] {
  return at < 0 ? [text, null] : [text.slice(0, at), text.slice(at + 1)];
}

/** "[A]…:P" splits after the last bracket; without brackets the colons are the address's. */
function splitIpv6Target(text: string): [string, string | null] | string {
  if (!text.startsWith('[')) return text.startsWith(':') && !text.startsWith('::') ? splitAt(text, 0) : [text, null];
  const close = text.lastIndexOf(']');
  if (close < 0) return `'${text}': '[' without ']'`;
  const rest = text.slice(close + 1);
  if (rest !== '' && !rest.startsWith(':')) return `'${text}': expected ':PORT' after ']'`;
  return [text.slice(0, close + 1), rest === '' ? null : rest.slice(1)];
}

/** nft's NAT flag words and iptables' target options, both mapping to NF_NAT_RANGE_* bits. */
export const NAT_FLAG_BY_NFT_WORD: Readonly<Record<string, number>> = {
  random: NatFlag.ProtoRandom,
  'fully-random': NatFlag.ProtoRandomFully,
  persistent: NatFlag.Persistent,
};

/** Address type names (-m addrtype, nft fib … type, in upper case). */
export const ADDR_TYPE_NAME: Readonly<Record<string, number>> = {
  UNICAST: AddrType.Unicast,
  LOCAL: AddrType.Local,
  BROADCAST: AddrType.Broadcast,
  MULTICAST: AddrType.Multicast,
  BLACKHOLE: AddrType.Blackhole,
  ANYCAST: AddrType.Anycast,
  UNREACHABLE: AddrType.Unreachable,
  PROHIBIT: AddrType.Prohibit,
};

/** A number as both tools print marks: decimal or 0x hex, up to 32 bits. */
export function parseU32(text: string): number | null {
  if (!/^(0x[0-9a-fA-F]{1,8}|\d{1,10})$/.test(text)) return null;
  const n = Number(text);
  return n <= 0xffffffff ? n : null;
}
