/**
 * `-m pkttype [!] --pkt-type unicast|broadcast|multicast` (net/netfilter/xt_pkttype.c,
 * pkttype_mt): skb->pkt_type, which eth_type_trans set from the frame's destination address
 * when it arrived. A packet the host made keeps PACKET_HOST, as does one that came in on
 * loopback (its all-zero destination is lo's address) or through natsim's links (they carry
 * unicast frames to the owner of the next hop only).
 */
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import type { Match, XtMatch } from './model.js';
import type { Skb } from '../skb.js';
import type { XtCheck, XtMatchOptions } from './xt-options.js';

/** PACKET_HOST, PACKET_BROADCAST, PACKET_MULTICAST, PACKET_OTHERHOST (include/uapi/linux/if_packet.h). */
const PacketType = { Host: 0, Broadcast: 1, Multicast: 2, OtherHost: 3 } as const;

/** libxt_pkttype's names and aliases. */
const NAMES: Readonly<Record<string, number>> = {
  unicast: PacketType.Host,
  host: PacketType.Host,
  broadcast: PacketType.Broadcast,
  bcast: PacketType.Broadcast,
  multicast: PacketType.Multicast,
  mcast: PacketType.Multicast,
};

/** eth_type_trans's choice from the received destination address. */
function pktType(skb: Skb): number {
  const dest = skb.mac?.dest ?? null;
  const dev = skb.indev;
  // an unknown destination: natsim only delivers frames addressed to the host
  if (dest === null || dev === null || dev.type !== 'ether') return PacketType.Host;
  if ((dest[0]! & 1) !== 0) return dest.every((b) => b === 0xff) ? PacketType.Broadcast : PacketType.Multicast;
  const own = dev.mac;
  return own === null || own.every((b, i) => b === dest[i]) ? PacketType.Host : PacketType.OtherHost;
}

class XtPkttype implements XtMatch {
  readonly name = 'pkttype';
  readonly stateful = false;
  readonly needsConntrack = false;

  constructor(
    private readonly type: number,
    private readonly invert: boolean,
  ) {}

  match(ctx: RuleContext): boolean {
    return (pktType(ctx.skb) === this.type) !== this.invert;
  }
}

export class PkttypeOptions implements XtMatchOptions {
  private type: number | null = null;
  private invert = false;

  read(r: OptionReader): boolean {
    if (r.option !== '--pkt-type') return false;
    const text = r.value();
    const type = NAMES[text.toLowerCase()];
    if (type === undefined) r.fail(`unknown packet type '${text}' (${Object.keys(NAMES).join(', ')})`);
    this.type = type;
    this.invert = r.negate;
    return true;
  }

  build(check: XtCheck): Match {
    const type = this.type ?? check.fail('-m pkttype needs --pkt-type');
    return { kind: 'xt', module: new XtPkttype(type, this.invert) };
  }
}
