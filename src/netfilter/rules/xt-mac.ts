/**
 * `-m mac [!] --mac-source XX:XX:XX:XX:XX:XX` (net/netfilter/xt_mac.c, mac_mt): the source
 * address of the Ethernet header the packet arrived with. No match at all — inverted or not —
 * for a packet without one: made by the host, come in on loopback (not ARPHRD_ETHER), or
 * replayed from a capture that did not keep the sender's address.
 */
import { parseMac } from '../../host/device.js';
import { Hook } from '../constants.js';
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import type { Match, XtMatch } from './model.js';
import type { XtCheck, XtMatchOptions } from './xt-options.js';

class XtMac implements XtMatch {
  readonly name = 'mac';
  readonly stateful = false;
  readonly needsConntrack = false;
  /** xt_mac's hooks: only where a received frame's header is still there. */
  readonly hooks = [Hook.PreRouting, Hook.LocalIn, Hook.Forward];

  constructor(
    private readonly source: Uint8Array,
    private readonly invert: boolean,
  ) {}

  match(ctx: RuleContext): boolean {
    const skb = ctx.skb;
    const got = skb.mac?.source ?? null;
    if (skb.indev === null || skb.indev.type !== 'ether' || got === null) return false;
    return this.source.every((b, i) => b === got[i]) !== this.invert;
  }
}

export class MacOptions implements XtMatchOptions {
  private source: Uint8Array | null = null;
  private invert = false;

  read(r: OptionReader): boolean {
    if (r.option !== '--mac-source') return false;
    const text = r.value();
    this.source = parseMac(text) ?? r.fail(`bad MAC address '${text}' (six hex bytes joined by colons)`);
    this.invert = r.negate;
    return true;
  }

  build(check: XtCheck): Match {
    const source = this.source ?? check.fail('-m mac needs --mac-source');
    return { kind: 'xt', module: new XtMac(source, this.invert) };
  }
}
