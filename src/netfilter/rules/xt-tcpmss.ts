/**
 * `-j TCPMSS --set-mss N | --clamp-mss-to-pmtu` (net/netfilter/xt_TCPMSS.c, tcpmss_tg4,
 * tcpmss_tg6 and tcpmss_mangle_packet): lowers the MSS option of a TCP SYN to N, or to the
 * smaller of the route's MTU and the reverse route's less the IP and TCP headers (40 bytes for
 * IPv4, 60 for IPv6); never raises it. A SYN without the option and without payload gets one
 * (at most 536, RFC 1122's default, or 1220 for IPv6: the 1280 minimum MTU less 60). Checksums
 * are updated incrementally (inet_proto_csum_replace2/4) as the kernel does. A route's MTU is
 * its device's (natsim's routes carry no mtu metric).
 */
import { csumReplace16, csumReplace32, csumReplacePartial32 } from '../../packet/checksum.js';
import { Ipv4Packet, readU16, writeU16 } from '../../packet/ipv4.js';
import { Ipv6Packet } from '../../packet/ipv6.js';
import type { L3Packet } from '../../packet/l3-packet.js';
import type { NetDevice } from '../../host/device.js';
import { isIpv6Skb, type Skb } from '../skb.js';
import { Hook, IPPROTO } from '../constants.js';
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import type { Effect, Rule, XtTarget } from './model.js';
import type { XtCheck, XtTargetOptions } from './xt-options.js';

const TCPOPT_NOP = 1;
const TCPOPT_MSS = 2;
const TCPOLEN_MSS = 4;
const TCPHDR_SYN = 0x02;
/** dst_mtu's value when there is no route (tcpmss_reverse_mtu starts from ~0U). */
const NO_MTU = 0xffffffff;

export function devMtu(dev: NetDevice | null): number {
  return dev === null ? NO_MTU : dev.mtu;
}

/** skb_dst(skb) of either family: the IPv4 route, or an IPv6 skb's route6. */
export function skbRoute(skb: Skb): { readonly dev: NetDevice | null } | null {
  return isIpv6Skb(skb) ? skb.route6 : skb.route;
}

/**
 * The IP and TCP headers' least length: tcpmss_tg4's and tcpmss_tg6's minlen, and get_tcpmss's
 * (sizeof(struct iphdr) or sizeof(struct ipv6hdr), plus sizeof(struct tcphdr)).
 */
export function tcpMinlen(p: L3Packet): number {
  return p.family === 6 ? 60 : 40;
}

/** tcpmss_mangle_packet's MSS for a SYN that had none: IPv4's 536 (RFC 1122), IPv6's 1220 (RFC 2460's 1280 MTU less 60). */
function defaultMss(p: L3Packet): number {
  return p.family === 6 ? 1220 : 536;
}

/** optlen: EOL, NOP and a zero length take one byte. */
function optlen(d: Uint8Array, at: number): number {
  return d[at]! <= TCPOPT_NOP || d[at + 1] === 0 ? 1 : d[at + 1]!;
}

/** XT_TCPMSS_CLAMP_PMTU, or the MSS --set-mss gives. */
type MssSetting = 'clamp' | number;

class XtTcpmss implements XtTarget {
  readonly name = 'TCPMSS';
  readonly needsConntrack = false;
  readonly hooks: readonly Hook[] | undefined;

  constructor(private readonly mss: MssSetting) {
    // tcpmss_tg4_check: path-MTU clamping needs a route, so FORWARD, OUTPUT and POSTROUTING only
    this.hooks = mss === 'clamp' ? [Hook.Forward, Hook.LocalOut, Hook.PostRouting] : undefined;
  }

  /** tcpmss_tg4: a malformed header or an unknown path MTU drops the packet (NF_DROP). */
  target(ctx: RuleContext, rule: Rule): boolean {
    const skb = ctx.skb;
    const grown = this.mangle(ctx);
    if (grown === -1) {
      skb.drop = { reason: `TCPMSS: no usable TCP header or path MTU (rule "${rule.text}")` };
      return false;
    }
    return true;
  }

  /** tcpmss_mangle_packet: -1 to drop, 0 unchanged or rewritten, 4 when an option was added. */
  private mangle(ctx: RuleContext): number {
    const skb = ctx.skb;
    const p = skb.pkt;
    const len = p.length - p.l4off;
    const hdrlen = p.tcpHeaderLength;
    if (len < 20 || len < hdrlen || hdrlen < 20) return -1;
    let newmss: number;
    if (this.mss === 'clamp') {
      const inMtu = devMtu(ctx.routeTo(p.saddr)?.dev ?? null);
      const minMtu = Math.min(devMtu(skbRoute(skb)?.dev ?? null), inMtu);
      if (minMtu <= tcpMinlen(p)) return -1;
      newmss = minMtu - tcpMinlen(p);
    } else newmss = this.mss;
    const d = p.data;
    const th = p.l4off;
    for (let i = 20; i <= hdrlen - TCPOLEN_MSS; i += optlen(d, th + i)) {
      if (d[th + i] !== TCPOPT_MSS || d[th + i + 1] !== TCPOLEN_MSS) continue;
      const oldmss = readU16(d, th + i + 2);
      if (oldmss <= newmss) return 0;
      writeU16(d, th + i + 2, newmss);
      if (!p.csumPartial) writeU16(d, th + 16, csumReplace16(readU16(d, th + 16), oldmss, newmss));
      ctx.state.notes?.push(`TCPMSS: MSS ${oldmss} -> ${newmss}`);
      return 0;
    }
    // data after the header, or no room in doff: the SYN goes on unchanged
    if (len > hdrlen || hdrlen >= 15 * 4) return 0;
    const mss = Math.min(newmss, defaultMss(p));
    skb.pkt = withMssOption(p, mss);
    ctx.state.notes?.push(`TCPMSS: MSS option ${mss} added`);
    return TCPOLEN_MSS;
  }
}

/**
 * The option-adding half of tcpmss_mangle_packet, on a longer copy, then tcpmss_tg4's tot_len
 * and header checksum update or tcpmss_tg6's payload_len.
 */
function withMssOption(p: L3Packet, mss: number): L3Packet {
  const th = p.l4off;
  const len = p.length - th;
  const d = new Uint8Array(p.length + TCPOLEN_MSS);
  d.set(p.data.subarray(0, th + 20));
  d.set(p.data.subarray(th + 20), th + 20 + TCPOLEN_MSS);
  const opt = [TCPOPT_MSS, TCPOLEN_MSS, mss >> 8, mss & 0xff];
  d.set(opt, th + 20);
  let check = readU16(d, th + 16);
  // the pseudo-header's length; then the option word and the doff word, unless the device sums
  const word = ((opt[0]! << 24) | (opt[1]! << 16) | (opt[2]! << 8) | opt[3]!) >>> 0;
  const oldDoff = readU16(d, th + 12);
  d[th + 12] = d[th + 12]! + ((TCPOLEN_MSS / 4) << 4);
  if (p.csumPartial) check = csumReplacePartial32(check, len, len + TCPOLEN_MSS);
  else check = csumReplace16(csumReplace32(csumReplace16(check, len, len + TCPOLEN_MSS), 0, word), oldDoff, readU16(d, th + 12));
  writeU16(d, th + 16, check);
  if (p.family === 6) writeU16(d, 4, readU16(d, 4) + TCPOLEN_MSS);
  else {
    const totLen = readU16(d, 2);
    writeU16(d, 2, totLen + TCPOLEN_MSS);
    writeU16(d, 10, csumReplace16(readU16(d, 10), totLen, totLen + TCPOLEN_MSS));
  }
  const grown = p.family === 6 ? Ipv6Packet.adopt(d) : Ipv4Packet.adopt(d);
  if (typeof grown === 'string') throw new Error(`TCPMSS made a packet natsim cannot read (${grown}): a bug`);
  return grown;
}

export class TcpmssOptions implements XtTargetOptions {
  private mss: MssSetting | null = null;

  read(r: OptionReader): boolean {
    if (r.option === '--clamp-mss-to-pmtu') {
      this.mss = 'clamp';
      return true;
    }
    if (r.option !== '--set-mss') return false;
    const text = r.value();
    if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) r.fail(`--set-mss needs a number from 0 to 65535, got '${text}'`);
    this.mss = Number(text);
    return true;
  }

  /**
   * xt_check_target: -p tcp (the target's .proto); tcpmss_tg4_check: x_tables (not nft_compat,
   * which iptables-nft loads through) also wants a tcp match whose compared flags hold SYN, not
   * inverted (find_syn_match), since only a SYN carries the option. The hooks are checked with
   * the ruleset (validate.ts).
   */
  build(check: XtCheck): Effect {
    const mss = this.mss ?? check.fail('TCPMSS needs --set-mss or --clamp-mss-to-pmtu');
    if (check.proto !== IPPROTO.TCP) check.fail('TCPMSS is only valid with -p tcp');
    const syn = check.matches.some((m) => m.kind === 'tcpflags' && !m.negate && (m.comp & TCPHDR_SYN) !== 0);
    if (check.table.source === 'iptables-legacy' && !syn) check.fail('TCPMSS only works on TCP SYN packets: the rule needs --syn or --tcp-flags with SYN compared');
    return { kind: 'xt', target: new XtTcpmss(mss) };
  }
}
