/**
 * The IP header's DS field — IPv4's TOS byte, IPv6's traffic class; both modules are registered
 * for both families (net/netfilter/xt_dscp.c): `-m dscp [!] --dscp N | --dscp-class C`
 * (dscp_mt: its upper six bits) and `-m tos [!] --tos V[/M]` (tos_mt: tos & M == V; a
 * symbolic value such as Minimize-Delay takes the mask 0x3f, as libxt_tos gives it).
 */
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import type { Match, XtMatch } from './model.js';
import { parseU32 } from './syntax.js';
import type { XtCheck, XtMatchOptions } from './xt-options.js';

/** XT_DSCP_SHIFT: the DSCP is the TOS byte's upper six bits. */
const DSCP_SHIFT = 2;

class XtTosBits implements XtMatch {
  readonly stateful = false;
  readonly needsConntrack = false;

  constructor(
    readonly name: 'dscp' | 'tos',
    /** TOS byte & mask == value. */
    private readonly mask: number,
    private readonly value: number,
    private readonly invert: boolean,
  ) {}

  match(ctx: RuleContext): boolean {
    // dscp_mt / dscp_mt6, tos_mt: the TOS byte of IPv4, the traffic class of IPv6
    return ((ctx.skb.pkt.dsfield & this.mask) === this.value) !== this.invert;
  }
}

/** libxt_dscp's class names (class_to_dscp). */
const DSCP_CLASS: Readonly<Record<string, number>> = {
  CS0: 0x00, CS1: 0x08, CS2: 0x10, CS3: 0x18, CS4: 0x20, CS5: 0x28, CS6: 0x30, CS7: 0x38, BE: 0x00,
  AF11: 0x0a, AF12: 0x0c, AF13: 0x0e, AF21: 0x12, AF22: 0x14, AF23: 0x16,
  AF31: 0x1a, AF32: 0x1c, AF33: 0x1e, AF41: 0x22, AF42: 0x24, AF43: 0x26, EF: 0x2e,
};

export class DscpOptions implements XtMatchOptions {
  private dscp: number | null = null;
  private invert = false;

  read(r: OptionReader): boolean {
    if (r.option === '--dscp') {
      const text = r.value();
      const v = parseU32(text);
      this.dscp = v !== null && v <= 0x3f ? v : r.fail(`--dscp needs a number from 0 to 63 (0x3f), got '${text}'`);
    } else if (r.option === '--dscp-class') {
      const text = r.value();
      this.dscp = DSCP_CLASS[text.toUpperCase()] ?? r.fail(`unknown DSCP class '${text}' (${Object.keys(DSCP_CLASS).join(', ')})`);
    } else return false;
    this.invert = r.negate;
    return true;
  }

  build(check: XtCheck): Match {
    const dscp = this.dscp ?? check.fail('-m dscp needs --dscp or --dscp-class');
    return { kind: 'xt', module: new XtTosBits('dscp', 0x3f << DSCP_SHIFT, dscp << DSCP_SHIFT, this.invert) };
  }
}

/** libxt_tos's symbolic values (tos_symbol_names), matched under the mask 0x3f. */
const TOS_NAME: Readonly<Record<string, number>> = {
  'minimize-delay': 0x10,
  'maximize-throughput': 0x08,
  'maximize-reliability': 0x04,
  'minimize-cost': 0x02,
  'normal-service': 0x00,
};

export class TosOptions implements XtMatchOptions {
  private value: number | null = null;
  private mask = 0xff;
  private invert = false;

  read(r: OptionReader): boolean {
    if (r.option !== '--tos') return false;
    const text = r.value();
    const named = TOS_NAME[text.toLowerCase()];
    if (named !== undefined) {
      this.value = named;
      this.mask = 0x3f;
    } else {
      const [v, m] = text.split('/');
      const value = parseU32(v ?? '');
      const mask = m === undefined ? 0xff : parseU32(m);
      if (value === null || mask === null || value > 0xff || mask > 0xff || text.split('/').length > 2) r.fail(`bad --tos '${text}' (VALUE[/MASK] up to 0xff, or ${Object.keys(TOS_NAME).join(', ')})`);
      this.value = value;
      this.mask = mask;
    }
    this.invert = r.negate;
    return true;
  }

  build(check: XtCheck): Match {
    const value = this.value ?? check.fail('-m tos needs --tos');
    return { kind: 'xt', module: new XtTosBits('tos', this.mask, value, this.invert) };
  }
}
