/**
 * `-m rpfilter [--loose] [--validmark] [--accept-local] [--invert]` (net/ipv4/netfilter/
 * ipt_rpfilter.c, rpfilter_mt): the reverse-path check Calico and firewalld's iptables backend
 * put in raw PREROUTING — a route lookup toward the packet's source must be a unicast route
 * (or a local one with --accept-local) leaving by the device the packet came in by (any device
 * with --loose). A looped-back packet, and a DHCP-style one from 0.0.0.0 to a broadcast or
 * local multicast address, pass. natsim's FIB has the default policy rules only, which ignore
 * the mark, so --validmark changes nothing. IPv6's ip6t_rpfilter is not modelled.
 */
import { Hook } from '../constants.js';
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import { NFPROTO_IPV4, type Match, type XtMatch } from './model.js';
import { noInvert, type XtCheck, type XtMatchOptions } from './xt-options.js';

/** XT_RPFILTER_LOOSE, _VALID_MARK, _ACCEPT_LOCAL, _INVERT. */
const FLAG_OPTIONS: Readonly<Record<string, 'loose' | 'validmark' | 'acceptLocal' | 'invert'>> = {
  '--loose': 'loose',
  '--validmark': 'validmark',
  '--accept-local': 'acceptLocal',
  '--invert': 'invert',
};

type Flags = Readonly<Record<'loose' | 'validmark' | 'acceptLocal' | 'invert', boolean>>;

class XtRpfilter implements XtMatch {
  readonly name = 'rpfilter';
  readonly hooks = [Hook.PreRouting];
  readonly stateful = false;
  readonly needsConntrack = false;

  constructor(private readonly flags: Flags) {}

  match(ctx: RuleContext): boolean {
    return this.passes(ctx) !== this.flags.invert;
  }

  /** rpfilter_mt before the invert. */
  private passes(ctx: RuleContext): boolean {
    const indev = ctx.state.in;
    const p = ctx.skb.pkt;
    // rpfilter_is_loopback: on the loopback device
    if (indev?.type === 'loopback') return true;
    // from 0.0.0.0 to the limited broadcast or a local multicast group (224.0.0.0/24): DHCP and the like
    if (p.saddr === 0 && (p.daddr === 0xffffffff || p.daddr >>> 8 === 0xe00000)) return true;
    // rpfilter_lookup_reverse: fib_lookup toward the source
    const route = ctx.routeTo(p.saddr);
    if (route === null) return false;
    if (route.type !== 'unicast' && !(route.type === 'local' && this.flags.acceptLocal)) return false;
    // fib_info_nh_uses_dev, or --loose
    return route.dev === indev || this.flags.loose;
  }
}

export class RpfilterOptions implements XtMatchOptions {
  private readonly flags = { loose: false, validmark: false, acceptLocal: false, invert: false };

  read(r: OptionReader): boolean {
    const flag = FLAG_OPTIONS[r.option];
    if (flag === undefined) return false;
    noInvert(r, '-m rpfilter');
    this.flags[flag] = true;
    return true;
  }

  build(check: XtCheck): Match {
    if (check.family !== NFPROTO_IPV4) check.fail('-m rpfilter for ip6tables (ip6t_rpfilter) is not modelled');
    // rpfilter_check: only valid in the raw and mangle tables
    if (check.table.name !== 'raw' && check.table.name !== 'mangle') check.fail(`-m rpfilter is only valid in the 'raw' or 'mangle' table, not '${check.table.name}'`);
    return { kind: 'xt', module: new XtRpfilter({ ...this.flags }) };
  }
}
