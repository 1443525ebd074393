/**
 * `tcp option maxseg size set rt mtu | N` (nft_exthdr_tcp_set_eval with nft_rt's
 * NFT_RT_TCPMSS, get_tcpmss): the MSS option of the TCP packet is lowered to the value — the
 * smaller of the route's MTU and the reverse route's, less the IP and TCP headers (40, IPv6 60) —
 * never raised (an increase can
 * stall the connection); a packet without the option is left as it is. The checksum is
 * updated incrementally (inet_proto_csum_replace2).
 */
import { csumReplace16 } from '../../packet/checksum.js';
import { readU16, writeU16 } from '../../packet/ipv4.js';
import { IPPROTO } from '../constants.js';
import type { RuleContext } from './context.js';
import type { NftExpr, Rule } from './model.js';
import { devMtu, skbRoute, tcpMinlen } from './xt-tcpmss.js';

const TCPOPT_MSS = 2;
/** TCP_MSS_DEFAULT: what get_tcpmss gives for an MTU it cannot use. */
const TCP_MSS_DEFAULT = 536;

export class NftMssSet implements NftExpr {
  readonly stateful = false;
  readonly needsConntrack = false;
  readonly name: string;

  /** 'rt': nft_rt's tcpmss of the packet's route; a number: that MSS. */
  constructor(private readonly mss: 'rt' | number) {
    this.name = `tcp option maxseg size set ${mss === 'rt' ? 'rt mtu' : mss}`;
  }

  eval(ctx: RuleContext, rule: Rule): boolean {
    const skb = ctx.skb;
    const p = skb.pkt;
    if (p.proto !== IPPROTO.TCP || p.fragOffset !== 0) return false;
    let newmss: number;
    if (this.mss === 'rt') {
      // nft_rt_get_eval: no route yet breaks the rule
      const route = skbRoute(skb);
      if (!route) return false;
      const mtu = Math.min(devMtu(route.dev), devMtu(ctx.routeTo(p.saddr)?.dev ?? null));
      newmss = mtu <= tcpMinlen(p) || mtu > 0xffff ? TCP_MSS_DEFAULT : mtu - tcpMinlen(p);
    } else newmss = this.mss;
    const d = p.data;
    const th = p.l4off;
    const end = Math.min(d.length, th + p.tcpHeaderLength);
    for (let i = th + 20; i + 1 < end; ) {
      const kind = d[i]!;
      const len = kind <= 1 ? 1 : d[i + 1]!;
      if (len < 1) return true;
      if (kind === TCPOPT_MSS && len === 4 && i + 4 <= end) {
        const old = readU16(d, i + 2);
        if (old <= newmss) return true;
        writeU16(d, i + 2, newmss);
        if (!p.csumPartial) writeU16(d, th + 16, csumReplace16(readU16(d, th + 16), old, newmss));
        ctx.state.notes?.push(`MSS ${old} -> ${newmss} (rule "${rule.text}")`);
        return true;
      }
      i += len;
    }
    return true;
  }
}
