/**
 * `-m iprange [!] --src-range A-B [!] --dst-range A-B` (net/netfilter/xt_iprange.c, revision 1:
 * iprange_mt4 and iprange_mt6): the packet's source and destination address each within its
 * inclusive range, every range inverted on its own. Registered for both families; a range's
 * ends are addresses of the rule's family.
 */
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import { NFPROTO_IPV6, type Match, type NfProto, type XtMatch } from './model.js';
import type { XtCheck, XtMatchOptions } from './xt-options.js';
import { compareInetAddr } from '../../packet/inet-addr.js';
import { parseIpv4 } from '../../packet/ipv4-addr.js';
import { parseIpv6 } from '../../packet/ipv6-addr.js';

/** One --src-range or --dst-range: ends included, and IPRANGE_SRC_INV / IPRANGE_DST_INV. */
interface AddrRange {
  readonly min: number;
  readonly max: number;
  readonly invert: boolean;
}

class XtIprange implements XtMatch {
  readonly name = 'iprange';
  readonly stateful = false;
  readonly needsConntrack = false;

  constructor(
    private readonly src: AddrRange | null,
    private readonly dst: AddrRange | null,
  ) {}

  match(ctx: RuleContext): boolean {
    const p = ctx.skb.pkt;
    return (this.src === null || inRange(p.saddr, this.src)) && (this.dst === null || inRange(p.daddr, this.dst));
  }
}

/** iprange_mt4's test: m = addr < min || addr > max, then m ^= invert; the rule goes on when !m. */
function inRange(addr: number, r: AddrRange): boolean {
  const outside = compareInetAddr(addr, r.min) < 0 || compareInetAddr(addr, r.max) > 0;
  return outside === r.invert;
}

export class IprangeOptions implements XtMatchOptions {
  private src: AddrRange | null = null;
  private dst: AddrRange | null = null;

  read(r: OptionReader): boolean {
    if (r.option !== '--src-range' && r.option !== '--dst-range') return false;
    const range = parseRange(r.value(), r.negate, r.nfproto) ?? r.fail(`${r.option} takes FROM-TO, two ${r.nfproto === NFPROTO_IPV6 ? 'IPv6' : 'IPv4'} addresses`);
    if (r.option === '--src-range') this.src = range;
    else this.dst = range;
    return true;
  }

  build(check: XtCheck): Match {
    if (this.src === null && this.dst === null) check.fail('-m iprange needs --src-range or --dst-range');
    return { kind: 'xt', module: new XtIprange(this.src, this.dst) };
  }
}

/** libxt_iprange's "FROM-TO" (or one address, a range of one), in the rule's family. */
function parseRange(text: string, invert: boolean, family: NfProto): AddrRange | null {
  const parse = family === NFPROTO_IPV6 ? parseIpv6 : parseIpv4;
  const dash = text.indexOf('-');
  const min = parse(dash < 0 ? text : text.slice(0, dash));
  const max = dash < 0 ? min : parse(text.slice(dash + 1));
  return min === null || max === null ? null : { min, max, invert };
}
