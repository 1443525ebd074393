/**
 * `-j CHECKSUM --checksum-fill` (net/netfilter/xt_CHECKSUM.c, checksum_tg; mangle table only):
 * a packet whose TCP/UDP checksum the device was to complete (CHECKSUM_PARTIAL) gets it
 * computed now (skb_checksum_help), for a receiver that would not accept the partial one (old
 * DHCP clients behind virbr0). Any other packet is left alone.
 */
import { checksum, pseudoHeaderSum } from '../../packet/checksum.js';
import { Ipv4Packet, writeU16 } from '../../packet/ipv4.js';
import { Ipv6Packet } from '../../packet/ipv6.js';
import { IPPROTO } from '../constants.js';
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import type { Effect, Rule, XtTarget } from './model.js';
import { noInvert, type XtCheck, type XtTargetOptions } from './xt-options.js';

class XtChecksum implements XtTarget {
  readonly name = 'CHECKSUM';
  readonly needsConntrack = false;

  target(ctx: RuleContext, rule: Rule): boolean {
    const p = ctx.skb.pkt;
    if (!p.csumPartial) return true;
    ctx.skb.pkt = p.family === 4 ? checksumHelp(p) : checksumHelp6(p);
    ctx.state.notes?.push(`CHECKSUM: partial ${p.proto === IPPROTO.TCP ? 'TCP' : 'UDP'} checksum completed (rule "${rule.text}")`);
    return true;
  }
}

/** skb_checksum_help: the full L4 checksum over the pseudo-header and the segment (0 sent as 0xffff for UDP). */
function checksumHelp(p: Ipv4Packet): Ipv4Packet {
  const d = p.data.slice();
  const at = p.l4off + (p.proto === IPPROTO.TCP ? 16 : 6);
  writeU16(d, at, 0);
  const sum = checksum(d, p.l4off, d.length, pseudoHeaderSum(p.saddr, p.daddr, p.proto, d.length - p.l4off));
  writeU16(d, at, p.proto === IPPROTO.UDP && sum === 0 ? 0xffff : sum);
  const full = Ipv4Packet.adopt(d);
  if (typeof full === 'string') throw new Error(`CHECKSUM made a packet natsim cannot read (${full}): a bug`);
  return full;
}

/** skb_checksum_help over IPv6's pseudo-header (csum_ipv6_magic), on a copy read afresh so it is no longer partial. */
function checksumHelp6(p: Ipv6Packet): Ipv6Packet {
  const scratch = Ipv6Packet.adopt(p.data.slice()) as Ipv6Packet;
  scratch.fillL4Checksum();
  const full = Ipv6Packet.adopt(scratch.data);
  if (typeof full === 'string') throw new Error(`CHECKSUM made a packet natsim cannot read (${full}): a bug`);
  return full;
}

export class ChecksumOptions implements XtTargetOptions {
  private fill = false;

  read(r: OptionReader): boolean {
    if (r.option !== '--checksum-fill') return false;
    noInvert(r, 'CHECKSUM');
    this.fill = true;
    return true;
  }

  /** checksum_tg_check: XT_CHECKSUM_OP_FILL is the only operation, and it must be given. */
  build(check: XtCheck): Effect {
    if (!this.fill) check.fail('CHECKSUM needs --checksum-fill');
    return { kind: 'xt', target: new XtChecksum() };
  }
}
