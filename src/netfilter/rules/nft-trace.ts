/**
 * `nft monitor trace` lines for a packet with `meta nftrace set 1` (nft_trace_packet,
 * net/netfilter/nf_tables_trace.c, as the nft tool prints the netlink events): the packet once
 * per base chain run, then every rule that matched with its verdict, and the chain's policy.
 * natsim has no link layer, so the packet line starts at the IP header.
 */
import { formatIpv4 } from '../../packet/ipv4-addr.js';
import { IPPROTO } from '../constants.js';
import type { ChainTrace } from './chain-trace.js';
import type { RuleContext } from './context.js';
import type { Chain, Policy, Rule, Table } from './model.js';

export class NftTrace implements ChainTrace {
  private packetShown = false;

  constructor(
    private readonly table: Table,
    private readonly ctx: RuleContext,
  ) {}

  matched(): void {}

  decided(chain: Chain, rule: Rule, verdict: string): void {
    this.line(chain, `rule ${rule.text} (verdict ${verdict})`);
  }

  /** nft monitor shows no line for a regular chain's implicit return. */
  fellOff(): void {}

  policy(chain: Chain, policy: Policy): void {
    this.line(chain, `policy ${policy} `);
  }

  private line(chain: Chain, text: string): void {
    if (!this.ctx.skb.nftrace) return;
    if (!this.packetShown) {
      this.packetShown = true;
      this.emit(chain, `packet: ${this.packetText()}`);
    }
    this.emit(chain, text);
  }

  private emit(chain: Chain, text: string): void {
    const id = (this.ctx.skb.id * 0x9e3779b1 >>> 0).toString(16).padStart(8, '0');
    this.ctx.state.notes!.push(`trace id ${id} ${this.table.family} ${this.table.name} ${chain.name} ${text}`);
  }

  private packetText(): string {
    const p = this.ctx.skb.pkt;
    const parts: string[] = [];
    if (this.ctx.iifname) parts.push(`iif "${this.ctx.iifname}"`);
    if (this.ctx.oifname) parts.push(`oif "${this.ctx.oifname}"`);
    parts.push(`ip saddr ${formatIpv4(p.saddr)} ip daddr ${formatIpv4(p.daddr)} ip ttl ${p.ttl} ip id ${p.id} ip length ${p.length}`);
    if (p.proto === IPPROTO.TCP || p.proto === IPPROTO.UDP) {
      const l4 = p.proto === IPPROTO.TCP ? 'tcp' : 'udp';
      parts.push(`${l4} sport ${p.sport} ${l4} dport ${p.dport}`);
    } else if (p.proto === IPPROTO.ICMP) {
      parts.push(`icmp type ${p.icmpType} icmp code ${p.icmpCode}`);
    }
    return parts.join(' ');
  }
}
