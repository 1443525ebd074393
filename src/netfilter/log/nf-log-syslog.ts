/**
 * The IPv4 and IPv6 loggers' text (nf_log_ip_packet, nf_log_ip6_packet,
 * net/netfilter/nf_log_syslog.c): the line LOG, nft `log` and ip_tables' TRACE put in the kernel
 * log, e.g. `lt: IN=eth1 OUT=eth0 MAC=… SRC=10.0.3.1 DST=192.168.206.1 LEN=60 TOS=0x00
 * PREC=0x00 TTL=63 ID=3772 DF PROTO=TCP SPT=41000 DPT=8080 WINDOW=64240 RES=0x00 SYN URGP=0 `, or
 * for IPv6 `SRC=fd00:0003:0000:0000:0000:0000:0000:0001 DST=… LEN=104 TC=0 HOPLIMIT=63
 * FLOWLBL=0 PROTO=ICMPv6 TYPE=128 CODE=0 ID=1 SEQ=1 ` (%pI6: every group in full) — trailing
 * space included, as printk gets it. A formatter calls it; the model only keeps the entry's data.
 */
import { formatIpv4 } from '../../packet/ipv4-addr.js';
import { formatIpv6Full, ipv6Handle } from '../../packet/ipv6-addr.js';
import { readU16 as u16, readU32 as u32 } from '../../packet/ipv4.js';
import { IPPROTO } from '../constants.js';
import { NfLogFlag, type LinkHeaderView, type NfLogEntry, type NfLogOrigin } from './nf-log.js';
import { ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_FRAG_NEEDED, ICMP_PARAMETERPROB, ICMP_REDIRECT, ICMP_SOURCE_QUENCH, ICMP_TIME_EXCEEDED } from '../../packet/icmp.js';

/** NF_LOG_PREFIXLEN: nf_log_packet formats the prefix into 128 bytes. */
const NF_LOG_PREFIXLEN = 128;

/** nf_log_ip_packet / nf_log_ip6_packet: the common part, the link header when there is an input device, the packet. */
export function nfLogLine(e: NfLogEntry): string {
  const out: string[] = [`${prefixText(e.origin)}IN=${e.in ?? ''} OUT=${e.out ?? ''} `];
  // nf_log_dump_packet_common: a bridged frame's ports where they are not the devices above
  if (e.physin !== null && e.physin !== e.in) out.push(`PHYSIN=${e.physin} `);
  if (e.physout !== null && e.physout !== e.out) out.push(`PHYSOUT=${e.physout} `);
  // dump_ipv4_mac_header and dump_ipv6_mac_header agree but for SIT tunnels, which natsim has none of
  if (e.link) dumpMacHeader(out, e.info.flags, e.link);
  if (e.packet.length > 0 && e.packet[0]! >> 4 === 6) dumpIpv6Packet(out, e.packet, 0, e);
  else dumpIpv4Packet(out, e.packet, 0, e);
  return out.join('');
}

/** LOG's prefix (vsnprintf'd into NF_LOG_PREFIXLEN), or trace_packet's "TRACE: %s:%s:%s:%u ". */
function prefixText(o: NfLogOrigin): string {
  const text = o.kind === 'log' ? o.prefix : `TRACE: ${o.table}:${o.chain}:${o.comment}:${o.rulenum} `;
  return text.slice(0, NF_LOG_PREFIXLEN - 1);
}

/**
 * dump_mac_header: MACSRC/MACDST/MACPROTO with NF_LOG_MACDECODE on Ethernet, else the
 * hard_header_len (ETH_HLEN for Ethernet and loopback alike) bytes of the header, if any.
 */
function dumpMacHeader(out: string[], flags: number, link: LinkHeaderView): void {
  const eth = link.header;
  if (eth && (flags & NfLogFlag.MacDecode) !== 0 && link.type === 'ether') {
    out.push(`MACSRC=${macText(eth.source)} MACDST=${macText(eth.dest)} MACPROTO=${hex(eth.proto, 4)} `);
    return;
  }
  out.push(eth ? `MAC=${macText(eth.dest)}:${macText(eth.source)}:${hex(eth.proto >> 8, 2)}:${hex(eth.proto & 0xff, 2)} ` : 'MAC= ');
}

/** %pM; "??" for each byte natsim does not know (the input did not carry it). */
export function macText(addr: Uint8Array | null): string {
  return addr === null ? '??:??:??:??:??:??' : [...addr].map((b) => hex(b, 2)).join(':');
}

function hex(v: number, digits: number): string {
  return v.toString(16).padStart(digits, '0');
}

/** Bytes as "%02X" each, as nf_log prints IP and TCP options. */
export function hexUpper(bytes: Uint8Array): string {
  return [...bytes].map((b) => hex(b, 2).toUpperCase()).join('');
}

const IP_CE = 0x8000;
const IP_DF = 0x4000;
const IP_MF = 0x2000;
const IP_OFFSET = 0x1fff;

/**
 * dump_ipv4_packet for the header at `iphoff` of `skb` (the whole datagram: skb->len is its
 * length); an ICMP error's quoted packet is dumped once, recursively, between brackets. The
 * socket's owner and the mark belong to the outer packet only.
 */
function dumpIpv4Packet(out: string[], skb: Uint8Array, iphoff: number, e: NfLogEntry): void {
  const flags = e.info.flags;
  if (skb.length < iphoff + 20) {
    out.push('TRUNCATED');
    return;
  }
  const ih = skb.subarray(iphoff);
  const ihl = (ih[0]! & 0x0f) * 4;
  const fragOff = u16(ih, 6);
  out.push(`SRC=${formatIpv4(u32(ih, 12))} DST=${formatIpv4(u32(ih, 16))} `);
  out.push(`LEN=${u16(ih, 2)} TOS=0x${hex(ih[1]! & 0x1e, 2).toUpperCase()} PREC=0x${hex(ih[1]! & 0xe0, 2).toUpperCase()} TTL=${ih[8]} ID=${u16(ih, 4)} `);
  if (fragOff & IP_CE) out.push('CE ');
  if (fragOff & IP_DF) out.push('DF ');
  if (fragOff & IP_MF) out.push('MF ');
  if (fragOff & IP_OFFSET) out.push(`FRAG:${fragOff & IP_OFFSET} `);
  if ((flags & NfLogFlag.IpOpt) !== 0 && ihl > 20) {
    if (skb.length < iphoff + ihl) {
      out.push('TRUNCATED');
      return;
    }
    out.push(`OPT (${hexUpper(ih.subarray(20, ihl))}) `);
  }
  const l4 = iphoff + ihl;
  const fragment = (fragOff & IP_OFFSET) !== 0;
  if (!dumpTransport(out, skb, ih[9]!, fragment, l4, iphoff, e)) return;
  if (iphoff === 0) dumpOwnerAndMark(out, e);
}

/** The outer packet's tail (recurse): the socket's owner with NF_LOG_UID, the mark when set. */
function dumpOwnerAndMark(out: string[], e: NfLogEntry): void {
  if ((e.info.flags & NfLogFlag.Uid) !== 0 && e.owner) out.push(`UID=${e.owner.uid} GID=${e.owner.gid} `);
  if (e.mark !== 0) out.push(`MARK=0x${e.mark.toString(16)} `);
}

/** nf_ip6_ext_hdr: the next-header values dump_ipv6_packet walks (NEXTHDR_NONE ends the walk first). */
const IPV6_EXT = { HOP: 0, ROUTING: 43, FRAGMENT: 44, ESP: 50, AUTH: 51, NONE: 59, DEST: 60 } as const;
const IPV6_EXT_HEADERS = new Set<number>(Object.values(IPV6_EXT));

/**
 * dump_ipv6_packet for the header at `ip6hoff`: addresses, length, traffic class, hop limit and
 * flow label, the extension headers it walks (fragment offset and id; options in brackets
 * with NF_LOG_IPOPT), then the upper layer; an ICMPv6 error's quoted packet is dumped once.
 */
function dumpIpv6Packet(out: string[], skb: Uint8Array, ip6hoff: number, e: NfLogEntry): void {
  const flags = e.info.flags;
  const opts = (flags & NfLogFlag.IpOpt) !== 0;
  if (skb.length < ip6hoff + 40) {
    out.push('TRUNCATED');
    return;
  }
  const ih = skb.subarray(ip6hoff);
  const first = u32(ih, 0);
  out.push(`SRC=${formatIpv6Full(ipv6Handle(ih, 8))} DST=${formatIpv6Full(ipv6Handle(ih, 24))} `);
  out.push(`LEN=${u16(ih, 4) + 40} TC=${(first & 0x0ff00000) >>> 20} HOPLIMIT=${ih[7]} FLOWLBL=${first & 0x000fffff} `);
  let fragment = false;
  let ptr = ip6hoff + 40;
  let current = ih[6]!;
  while (current !== IPV6_EXT.NONE && IPV6_EXT_HEADERS.has(current)) {
    if (skb.length < ptr + 2) {
      out.push('TRUNCATED');
      return;
    }
    if (opts) out.push('OPT ( ');
    let hdrlen: number;
    switch (current) {
      case IPV6_EXT.FRAGMENT: {
        out.push('FRAG:');
        if (skb.length < ptr + 8) {
          out.push('TRUNCATED ');
          return;
        }
        const fragOff = u16(skb, ptr + 2);
        out.push(`${fragOff & 0xfff8} `);
        if (fragOff & 0x0001) out.push('INCOMPLETE ');
        out.push(`ID:${hex(u32(skb, ptr + 4), 8)} `);
        if (fragOff & 0xfff8) fragment = true;
        hdrlen = 8;
        break;
      }
      case IPV6_EXT.DEST:
      case IPV6_EXT.ROUTING:
      case IPV6_EXT.HOP:
        if (fragment) {
          if (opts) out.push(')');
          return;
        }
        // ipv6_optlen
        hdrlen = (skb[ptr + 1]! + 1) << 3;
        break;
      case IPV6_EXT.AUTH:
        if (opts) {
          out.push('AH ');
          if (fragment) {
            out.push(')');
            return;
          }
          if (skb.length < ptr + 12) {
            out.push(`INCOMPLETE [${skb.length - ptr} bytes] )`);
            return;
          }
          out.push(`SPI=0x${u32(skb, ptr + 4).toString(16)} `);
        }
        // ipv6_authlen
        hdrlen = (skb[ptr + 1]! + 2) << 2;
        break;
      default:
        // ESP: the rest is encrypted
        if (opts) {
          out.push('ESP ');
          if (fragment) {
            out.push(')');
            return;
          }
          out.push(skb.length < ptr + 8 ? `INCOMPLETE [${skb.length - ptr} bytes] )` : `SPI=0x${u32(skb, ptr).toString(16)} )`);
        }
        return;
    }
    if (opts) out.push(') ');
    current = skb[ptr]!;
    ptr += hdrlen;
  }
  switch (current) {
    case IPPROTO.TCP:
      if (dumpTcpHeader(out, flags, skb, fragment, ptr)) return;
      break;
    case IPPROTO.UDP:
    case IPPROTO.UDPLITE:
      if (dumpUdpHeader(out, skb, current, fragment, ptr)) return;
      break;
    case IPPROTO.ICMPV6:
      if (!dumpIcmpv6(out, skb, fragment, ptr, ip6hoff, e)) return;
      break;
    default:
      out.push(`PROTO=${current} `);
  }
  if (ip6hoff === 0) dumpOwnerAndMark(out, e);
}

/** ICMPv6 types dump_ipv6_packet names. */
const ICMPV6_LOG = { DEST_UNREACH: 1, PKT_TOOBIG: 2, TIME_EXCEED: 3, PARAMPROB: 4, ECHO_REQUEST: 128, ECHO_REPLY: 129 } as const;

/** The ICMPv6 case of dump_ipv6_packet; false where the kernel returns (a header cut short). */
function dumpIcmpv6(out: string[], skb: Uint8Array, fragment: boolean, ptr: number, ip6hoff: number, e: NfLogEntry): boolean {
  out.push('PROTO=ICMPv6 ');
  if (fragment) return true;
  if (skb.length < ptr + 8) {
    out.push(incomplete(skb, ptr));
    return false;
  }
  const type = skb[ptr]!;
  out.push(`TYPE=${type} CODE=${skb[ptr + 1]} `);
  switch (type) {
    case ICMPV6_LOG.ECHO_REQUEST:
    case ICMPV6_LOG.ECHO_REPLY:
      out.push(`ID=${u16(skb, ptr + 4)} SEQ=${u16(skb, ptr + 6)} `);
      break;
    case ICMPV6_LOG.PARAMPROB:
    case ICMPV6_LOG.DEST_UNREACH:
    case ICMPV6_LOG.PKT_TOOBIG:
    case ICMPV6_LOG.TIME_EXCEED:
      if (type === ICMPV6_LOG.PARAMPROB) out.push(`POINTER=${hex(u32(skb, ptr + 4), 8)} `);
      // the quote once (recurse), from the outer header only
      if (ip6hoff === 0) {
        out.push('[');
        dumpIpv6Packet(out, skb, ptr + 8, e);
        out.push('] ');
      }
      if (type === ICMPV6_LOG.PKT_TOOBIG) out.push(`MTU=${u32(skb, ptr + 4)} `);
  }
  return true;
}

/** The protocol part of dump_ipv4_packet; false where the kernel returns early (nothing after it). */
function dumpTransport(out: string[], skb: Uint8Array, proto: number, fragment: boolean, l4: number, iphoff: number, e: NfLogEntry): boolean {
  switch (proto) {
    case IPPROTO.TCP:
      return dumpTcpHeader(out, e.info.flags, skb, fragment, l4);
    case IPPROTO.UDP:
    case IPPROTO.UDPLITE:
      return dumpUdpHeader(out, skb, proto, fragment, l4);
    case IPPROTO.ICMP:
      dumpIcmp(out, skb, fragment, l4, iphoff, e);
      return true;
    case IPPROTO_AH:
    case IPPROTO_ESP:
      dumpIpsec(out, skb, proto, fragment, l4);
      return true;
    default:
      out.push(`PROTO=${proto} `);
      return true;
  }
}

const IPPROTO_ESP = 50;
const IPPROTO_AH = 51;

/** "INCOMPLETE [%u bytes] ": what is left of the skb from `offset`. */
function incomplete(skb: Uint8Array, offset: number): string {
  return `INCOMPLETE [${Math.max(0, skb.length - offset)} bytes] `;
}

/** nf_log_dump_tcp_header */
function dumpTcpHeader(out: string[], flags: number, skb: Uint8Array, fragment: boolean, offset: number): boolean {
  out.push('PROTO=TCP ');
  if (fragment) return true;
  if (skb.length < offset + 20) {
    out.push(incomplete(skb, offset));
    return false;
  }
  const th = skb.subarray(offset);
  out.push(`SPT=${u16(th, 0)} DPT=${u16(th, 2)} `);
  if ((flags & NfLogFlag.TcpSeq) !== 0) out.push(`SEQ=${u32(th, 4)} ACK=${u32(th, 8)} `);
  out.push(`WINDOW=${u16(th, 14)} `);
  // TCP_RESERVED_BITS of the flag word, shifted right by 22
  out.push(`RES=0x${hex((th[12]! & 0x0e) << 2, 2)} `);
  if (th[12]! & 0x01) out.push('AE ');
  for (const [bit, name] of TCP_FLAG_NAMES) if (th[13]! & bit) out.push(`${name} `);
  out.push(`URGP=${u16(th, 18)} `);
  const doff = (th[12]! >> 4) * 4;
  if ((flags & NfLogFlag.TcpOpt) === 0 || doff <= 20) return true;
  if (skb.length < offset + doff) {
    out.push('OPT (TRUNCATED)');
    return false;
  }
  out.push(`OPT (${hexUpper(th.subarray(20, doff))}) `);
  return true;
}

/** The flag bits of the 14th header byte, in the order nf_log_dump_tcp_header prints them. */
const TCP_FLAG_NAMES: readonly (readonly [number, string])[] = [
  [0x80, 'CWR'],
  [0x40, 'ECE'],
  [0x20, 'URG'],
  [0x10, 'ACK'],
  [0x08, 'PSH'],
  [0x04, 'RST'],
  [0x02, 'SYN'],
  [0x01, 'FIN'],
];

/** nf_log_dump_udp_header */
function dumpUdpHeader(out: string[], skb: Uint8Array, proto: number, fragment: boolean, offset: number): boolean {
  out.push(proto === IPPROTO.UDP ? 'PROTO=UDP ' : 'PROTO=UDPLITE ');
  if (fragment) return true;
  if (skb.length < offset + 8) {
    out.push(incomplete(skb, offset));
    return false;
  }
  out.push(`SPT=${u16(skb, offset)} DPT=${u16(skb, offset + 2)} LEN=${u16(skb, offset + 4)} `);
  return true;
}

/** dump_ipv4_packet's required_len: how much of an ICMP message of each type must be there. */
const ICMP_REQUIRED_LEN: Readonly<Record<number, number>> = { 0: 4, 3: 28, 4: 28, 5: 28, 8: 4, 11: 28, 12: 28, 13: 20, 14: 20, 17: 12, 18: 12 };


/** The ICMP case of dump_ipv4_packet; an error's quoted datagram is dumped only from the outer header. */
function dumpIcmp(out: string[], skb: Uint8Array, fragment: boolean, offset: number, iphoff: number, e: NfLogEntry): void {
  out.push('PROTO=ICMP ');
  if (fragment) return;
  if (skb.length < offset + 8) {
    out.push(incomplete(skb, offset));
    return;
  }
  const type = skb[offset]!;
  const code = skb[offset + 1]!;
  out.push(`TYPE=${type} CODE=${code} `);
  const required = ICMP_REQUIRED_LEN[type];
  if (required !== undefined && skb.length - offset < required) {
    out.push(incomplete(skb, offset));
    return;
  }
  switch (type) {
    case ICMP_ECHOREPLY:
    case ICMP_ECHO:
      out.push(`ID=${u16(skb, offset + 4)} SEQ=${u16(skb, offset + 6)} `);
      return;
    case ICMP_PARAMETERPROB:
      out.push(`PARAMETER=${skb[offset + 4]} `);
      return;
    case ICMP_REDIRECT:
      out.push(`GATEWAY=${formatIpv4(u32(skb, offset + 4))} `);
      dumpIcmpError(out, skb, type, code, offset, iphoff, e);
      return;
    case ICMP_DEST_UNREACH:
    case ICMP_SOURCE_QUENCH:
    case ICMP_TIME_EXCEEDED:
      dumpIcmpError(out, skb, type, code, offset, iphoff, e);
  }
}

/** The quoted datagram in brackets (one level deep), then the MTU of a fragmentation-needed error. */
function dumpIcmpError(out: string[], skb: Uint8Array, type: number, code: number, offset: number, iphoff: number, e: NfLogEntry): void {
  if (iphoff === 0) {
    out.push('[');
    dumpIpv4Packet(out, skb, offset + 8, e);
    out.push('] ');
  }
  if (type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) out.push(`MTU=${u16(skb, offset + 6)} `);
}

/** The AH and ESP cases: the SPI (AH says nothing at all for a non-first fragment). */
function dumpIpsec(out: string[], skb: Uint8Array, proto: number, fragment: boolean, offset: number): void {
  const ah = proto === IPPROTO_AH;
  if (ah && fragment) return;
  out.push(ah ? 'PROTO=AH ' : 'PROTO=ESP ');
  if (fragment) return;
  const spiAt = ah ? 4 : 0;
  // struct ip_auth_hdr is 12 bytes, struct ip_esp_hdr 8
  if (skb.length < offset + (ah ? 12 : 8)) {
    out.push(incomplete(skb, offset));
    return;
  }
  out.push(`SPI=0x${u32(skb, offset + spiAt).toString(16)} `);
}
