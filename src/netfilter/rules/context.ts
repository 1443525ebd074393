/**
 * What a rule looks at and changes while a chain is evaluated for one packet: the packet's
 * fields, its mark, its conntrack state, the host's idea of an address's type, and the
 * seeded randomness of -m statistic and nft numgen.
 */
import type { Prng } from '../../sim/prng.js';
import type { Route } from '../../host/fib.js';
import type { Route6 } from '../../ipv6/route.js';
import { isIpv6 } from '../../packet/ipv6-addr.js';
import { ipv6AddrType } from '../../ipv6/addrconf.js';
import { CtInfo, Status } from '../conntrack/conn.js';
import type { HookState } from '../hooks.js';
import type { Skb } from '../skb.js';
import { AddrType, CtState, type KeyExpr, type Match } from './model.js';
import type { DrawFollower } from './follow-draw.js';

/** What the host provides to rules. */
export interface RuleEnv {
  /** inet_addr_type: the AddrType bit of an address on this host. */
  addrType(addr: number): number;
  readonly prng: Prng;
  /** fib_lookup (or fib6_lookup for an IPv6 address) toward an address: nft fib, TCPMSS's route MTUs; absent where no FIB is at hand. */
  routeTo?(addr: number): Route | Route6 | null;
  /** Replaying a capture: random choices taken from what the kernel sent (follow-draw.ts). */
  readonly follow?: DrawFollower;
  /** ktime_get_real_ns() at a virtual time; virtual time itself (a scenario's clock starts at the epoch) when absent. */
  wallNs?(time: number): number;
}

export class RuleContext {
  /**
   * xt_action_param.hotdrop: a match that failed this way drops the packet at once (ipt_do_table
   * returns NF_DROP); the reason, or null.
   */
  hotdrop: string | null = null;

  constructor(
    readonly skb: Skb,
    readonly state: HookState,
    private readonly env: RuleEnv,
  ) {}

  get iifname(): string | null {
    return this.state.in?.name ?? null;
  }

  get oifname(): string | null {
    return this.state.out?.name ?? null;
  }

  addrType(addr: number): number {
    return this.env.addrType(addr);
  }

  /** The host's route toward an address, or null. */
  routeTo(addr: number): Route | Route6 | null {
    return this.env.routeTo?.(addr) ?? null;
  }

  /** ktime_get_real_ns() now (nft meta time, day, hour). */
  wallNs(): number {
    return this.env.wallNs?.(this.skb.time) ?? this.skb.time;
  }

  /** skb->pkt_type for a packet that reached the host: by its destination's address type (IPv6 has no broadcast). */
  pktType(): number {
    const daddr = this.skb.pkt.daddr;
    if (isIpv6(daddr)) return ipv6AddrType(daddr).multicast ? 2 : 0;
    const type = this.env.addrType(daddr);
    return type & AddrType.Broadcast ? 1 : type & AddrType.Multicast ? 2 : 0;
  }

  /** get_random_u32(), as nft_numgen draws it. */
  randomU32(): number {
    return this.env.prng.u32();
  }

  /** 31 random bits, as xt_statistic draws them (get_random_u32() & 0x7FFFFFFF). */
  random31(): number {
    return this.randomU32() & 0x7fffffff;
  }

  /** statistic_mt's random mode: a draw below the threshold, or the outcome the capture shows. */
  statisticRandom(m: Extract<Match, { kind: 'random' }>): boolean {
    return this.env.follow?.statisticOutcome(m, this.state.notes) ?? this.random31() < m.threshold;
  }

  /** The outcome the capture shows for a `meta random` comparison, or null to draw (follow-draw.ts). */
  followedRandomLookup(m: Extract<Match, { kind: 'lookup' }>): boolean | null {
    return this.env.follow?.randomLookupOutcome(m, this.state.notes) ?? null;
  }

  /** The value the capture shows for a numgen random, or null to draw one. */
  followedNumgen(ng: Extract<KeyExpr, { kind: 'numgen' }>): number | null {
    return this.env.follow?.numgenValue(ng, (n) => this.env.prng.below(n), this.state.notes) ?? null;
  }

  /** The conntrack state bits (xt_conntrack's and nft ct state's view of skb->_nfct). */
  ctState(): number {
    const skb = this.skb;
    if (skb.untracked) return CtState.Untracked;
    const ct = skb.ct;
    if (!ct) return CtState.Invalid;
    let bits: number;
    switch (skb.ctinfo) {
      case CtInfo.New:
        bits = CtState.New;
        break;
      case CtInfo.Related:
      case CtInfo.RelatedReply:
        bits = CtState.Related;
        break;
      default:
        bits = CtState.Established;
    }
    if (ct.has(Status.SrcNat)) bits |= CtState.Snat;
    if (ct.has(Status.DstNat)) bits |= CtState.Dnat;
    return bits;
  }
}
