/**
 * Rule evaluation as nft_do_chain / ipt_do_table do it: rules in order, every match must hold,
 * jump/goto/return through regular chains (named directly or found in a verdict map), and the
 * base chain's policy when nothing decided.
 * MARK, LOG (a kernel log line, nf-log.ts), TRACE and NOTRACK act and let evaluation go on; NAT
 * statements are terminal and act through a callback (the NAT core owns the connection); REJECT
 * drops and leaves the answer to the host (skb.drop.reject). A packet with nf_trace set is
 * traced as the table's front-end has it (chain-trace.ts).
 */
import { IPPROTO, Verdict } from '../constants.js';
import { inInetPrefix } from '../../packet/inet-addr.js';
import { isIpv6 } from '../../packet/ipv6-addr.js';
import type { RuleContext } from './context.js';
import { setContains } from './ipset.js';
import { loadKey } from './nft-concat.js';
import { dynsetEval } from './nft-dynset.js';
import { lookupEval, setLookup } from './nft-set.js';
import { natFromMap } from './nft-nat.js';
import { keyIsRandomDraw } from './follow-draw.js';
import { NftTrace } from './nft-trace.js';
import { recentMatch } from './xt-recent.js';
import { candidateRules } from './chain-index.js';
import { IptTrace } from '../log/ipt-trace.js';
import { nfLogPacket } from '../log/nf-log.js';
import type { ChainTrace } from './chain-trace.js';
import type { Skb } from '../skb.js';
import type { Action, Chain, Effect, Match, Rule, Table, VerdictAction } from './model.js';
import type { Route6 } from '../../ipv6/route.js';
import { fibType6, matchType6 } from './addrtype6.js';

/** An action once a verdict map has been looked up. */
type Decided = Exclude<Action, { kind: 'vmap' }>;

export type NatAction = Extract<Action, { kind: 'snat' | 'dnat' | 'masquerade' | 'redirect' }>;

export interface ChainOutcome {
  readonly verdict: Verdict;
  /** The rule that decided, or null for the policy. */
  readonly rule: Rule | null;
}

export function evaluateChain(table: Table, chain: Chain, ctx: RuleContext, onNat: (action: NatAction, rule: Rule) => Verdict): ChainOutcome {
  const trace = chainTrace(table, ctx);
  const decided = runChain(table, chain, ctx, onNat, trace);
  if (decided) return decided;
  const policy = chain.base?.policy ?? 'accept';
  trace?.policy(chain, policy);
  return { verdict: policy === 'drop' ? Verdict.Drop : Verdict.Accept, rule: null };
}

/** The table's tracer while a trace is printed (none otherwise): x_tables' or nf_tables'. */
function chainTrace(table: Table, ctx: RuleContext): ChainTrace | null {
  if (ctx.state.trace === null) return null;
  switch (table.source) {
    case 'iptables-legacy':
      return new IptTrace(table, ctx);
    case 'nft':
    case 'iptables-nft':
      return new NftTrace(table, table.source, ctx);
  }
}

/** A chain being run: its rules (all, or the indexed candidates) and the next one to try. */
interface Frame {
  readonly chain: Chain;
  readonly only: readonly number[] | null;
  readonly count: number;
  next: number;
}

function enter(chain: Chain, ctx: RuleContext): Frame {
  const only = candidateRules(chain, ctx.skb.pkt.daddr);
  return { chain, only, count: only === null ? chain.rules.length : only.length, next: 0 };
}

/**
 * Runs a base chain; null means it fell off the end (or returned) without a verdict.
 * A jump pushes where to go on and a goto does not, and a return or the end of a regular chain
 * pops, as nft_do_chain's jumpstack and ipt_do_table's do: on the heap, so any depth the load
 * checks let through (validate.ts) runs.
 */
function runChain(table: Table, chain: Chain, ctx: RuleContext, onNat: (a: NatAction, r: Rule) => Verdict, trace: ChainTrace | null): ChainOutcome | null {
  const stack: Frame[] = [];
  let frame: Frame | undefined = enter(chain, ctx);
  while (frame !== undefined) {
    if (frame.next === frame.count) {
      if (!frame.chain.base) trace?.fellOff(frame.chain);
      frame = stack.pop();
      continue;
    }
    const k = frame.next++;
    const i = frame.only === null ? k : frame.only[k]!;
    const rule = frame.chain.rules[i]!;
    if (!allMatch(rule, ctx)) {
      if (ctx.hotdrop === null) continue;
      ctx.skb.drop = { reason: ctx.hotdrop };
      return { verdict: Verdict.Drop, rule };
    }
    trace?.matched(frame.chain, rule, i);
    if (!applyEffects(rule, ctx)) return { verdict: Verdict.Drop, rule };
    const a = decide(rule, ctx);
    // a verdict or NAT map without the key ends the rule untraced (NFT_BREAK)
    if (a === undefined) continue;
    trace?.decided(frame.chain, rule, a === null ? CONTINUE : traceVerdict(a));
    if (a === null || a.kind === 'continue') continue;
    switch (a.kind) {
      case 'accept':
        return { verdict: Verdict.Accept, rule };
      case 'drop':
        return { verdict: Verdict.Drop, rule };
      case 'return':
        frame = stack.pop();
        continue;
      case 'reject':
        ctx.skb.drop = { reason: `rejected by rule "${rule.text}"`, reject: a.with };
        return { verdict: Verdict.Drop, rule };
      case 'queue':
        return { verdict: queueVerdict(a, rule, ctx), rule };
      case 'jump':
      case 'goto': {
        const target = table.chains.get(a.chain);
        if (!target) throw new Error(`chain '${a.chain}' does not exist`);
        if (a.kind === 'jump') stack.push(frame);
        frame = enter(target, ctx);
        continue;
      }
      default:
        return { verdict: onNat(a, rule), rule };
    }
  }
  return null;
}

/** The rule's action once its maps are looked up; undefined when a map lacks the key (NFT_BREAK). */
function decide(rule: Rule, ctx: RuleContext): Decided | null | undefined {
  const a = rule.action;
  if (a === null) return null;
  if (a.kind === 'vmap') return mapVerdict(a, rule, ctx);
  if ((a.kind === 'snat' || a.kind === 'dnat' || a.kind === 'redirect') && a.map) return natFromMap(a, rule, ctx) ?? undefined;
  return a;
}

/** nft_lookup_eval with a verdict register: the element's verdict, undefined on a miss. */
function mapVerdict(a: Extract<Action, { kind: 'vmap' }>, rule: Rule, ctx: RuleContext): Decided | undefined {
  return lookupEval(a.map, loadKey(a.key, ctx), ctx, rule)?.verdict ?? undefined;
}

/**
 * nf_queue with no userspace program on the queue: __nf_queue finds no instance (-ESRCH), so
 * nf_hook_slow drops the packet — unless the verdict carries NF_VERDICT_FLAG_QUEUE_BYPASS, when
 * it goes on to the next hook as if accepted.
 */
function queueVerdict(a: Extract<Action, { kind: 'queue' }>, rule: Rule, ctx: RuleContext): Verdict {
  if (a.bypass) {
    ctx.state.notes?.push(`queue ${a.num}: no userspace program listens on the queue; bypass: the packet goes on as accepted (rule "${rule.text}")`);
    return Verdict.Accept;
  }
  ctx.skb.drop = { reason: `queue ${a.num}: no userspace program listens on the queue (nf_queue: -ESRCH), dropped (rule "${rule.text}")` };
  return Verdict.Drop;
}

const CONTINUE: VerdictAction = { kind: 'continue' };
const ACCEPT: VerdictAction = { kind: 'accept' };
const DROP: VerdictAction = { kind: 'drop' };

/** The verdict register after a rule's action: NAT statements end in accept, reject in drop. */
function traceVerdict(a: Decided): VerdictAction {
  switch (a.kind) {
    case 'jump':
    case 'goto':
    case 'accept':
    case 'drop':
    case 'return':
    case 'continue':
      return a;
    case 'reject':
      return DROP;
    case 'queue':
      return a.bypass ? ACCEPT : DROP;
    default:
      return ACCEPT;
  }
}

/** The rule's effects in order; false when an x_tables target returned NF_DROP. */
function applyEffects(rule: Rule, ctx: RuleContext): boolean {
  const effects = rule.effects;
  for (let i = 0; i < effects.length; i++) {
    const effect = effects[i]!;
    if (effect.kind === 'xt') {
      if (!effect.target.target(ctx, rule)) return false;
    } else apply(effect, rule, ctx);
  }
  return true;
}

function apply(a: Exclude<Effect, { kind: 'xt' }>, rule: Rule, ctx: RuleContext): void {
  switch (a.kind) {
    case 'mark': {
      const before = markOf(ctx, a.of);
      if (before === null) return;
      setMark(ctx, a.of, ((before & ~a.mask) ^ a.value) >>> 0, rule);
      return;
    }
    case 'copymark': {
      const ct = ctx.skb.ct;
      if (!ct) return;
      if (a.to === 'conn') setMark(ctx, 'conn', ((ct.mark & ~a.ctmask) ^ (ctx.skb.mark & a.nfmask)) >>> 0, rule);
      else setMark(ctx, 'packet', ((ctx.skb.mark & ~a.nfmask) ^ (ct.mark & a.ctmask)) >>> 0, rule);
      return;
    }
    case 'log':
      nfLogPacket(ctx.skb, ctx.state, { kind: 'log', prefix: a.prefix }, a.info);
      return;
    case 'notrack':
      ctx.skb.untracked = true;
      return;
    case 'nftrace':
      ctx.skb.nftrace = a.on;
      return;
  }
}

/** The rule's matches in order, up to the first that fails. */
function allMatch(rule: Rule, ctx: RuleContext): boolean {
  const ms = rule.matches;
  for (let i = 0; i < ms.length; i++) if (!matches(ms[i]!, rule, ctx)) return false;
  return true;
}

/**
 * A match that implies a protocol (ports, TCP flags, ICMP type) fails on others even negated,
 * and on a fragment after the first, which has no L4 header (tcp_mt, udp_mt, icmp_match:
 * `if (par->fragoff != 0) return false`; nft_payload's transport base breaks on pkt->fragoff).
 */
function matches(m: Match, rule: Rule, ctx: RuleContext): boolean {
  const p = ctx.skb.pkt;
  switch (m.kind) {
    case 'sport':
    case 'dport': {
      if (p.proto !== m.proto || p.fragOffset !== 0) return false;
      const port = m.kind === 'sport' ? p.sport : p.dport;
      return m.negate !== m.ranges.some((r) => port >= r.min && port <= r.max);
    }
    case 'tcpflags':
      return p.proto === IPPROTO.TCP && p.fragOffset === 0 && m.negate !== ((p.tcpFlags & m.mask) === m.comp);
    case 'icmptype':
      // icmp_type_code_match: type 0xff (iptables' "any", ICMP only) matches every type; ICMP
      // is IPv4's and ICMPv6 IPv6's (nft's nfproto dependency, the x_tables module's family)
      return p.proto === m.proto && isIpv6(p.saddr) === (m.proto === IPPROTO.ICMPV6) && p.fragOffset === 0 && m.negate !== ((m.type === 0xff && m.proto === IPPROTO.ICMP) || (p.icmpType === m.type && (m.code === null || p.icmpCode === m.code)));
    case 'saddr':
    case 'daddr': {
      // a prefix of the other family: nft's meta nfproto dependency breaks the rule, negated or not
      const addr = m.kind === 'saddr' ? p.saddr : p.daddr;
      if (isIpv6(addr) !== isIpv6(m.prefixes[0]!.addr)) return false;
      return m.negate !== m.prefixes.some((x) => inInetPrefix(addr, x));
    }
    case 'lookup': {
      // nft_lookup_eval: NFT_LOOKUP_F_INV inverts the found bit, after the key was loaded
      // (6.18 takes the catch-all element before inverting); a found element's expressions run
      // a `meta random` comparison follows the capture where it shows the outcome (follow-draw.ts)
      const followed = m.key.length === 1 && keyIsRandomDraw(m.key[0]!) ? ctx.followedRandomLookup(m) : null;
      if (followed !== null) return followed;
      const key = loadKey(m.key, ctx);
      if (key === null) return false;
      return m.negate ? setLookup(m.set, key, ctx.skb.time) === undefined : lookupEval(m.set, key, ctx, rule) !== undefined;
    }
    case 'dynset':
      return dynsetEval(m, rule, ctx);
    case 'recent':
      return recentMatch(m, rule, ctx);
    case 'xt':
      return m.module.match(ctx, rule);
    case 'nft':
      return m.expr.eval(ctx, rule);
    default:
      return m.negate !== matchesPositive(m, ctx);
  }
}

function matchesPositive(m: Exclude<Match, { kind: 'sport' | 'dport' | 'tcpflags' | 'icmptype' | 'saddr' | 'daddr' | 'lookup' | 'dynset' | 'recent' | 'xt' | 'nft' }>, ctx: RuleContext): boolean {
  const p = ctx.skb.pkt;
  switch (m.kind) {
    case 'iifname':
      return nameMatches(ctx.iifname, m.name, m.prefix);
    case 'oifname':
      return nameMatches(ctx.oifname, m.name, m.prefix);
    case 'l4proto':
      return m.protos.includes(p.proto);
    case 'mark': {
      const mark = markOf(ctx, m.of);
      return mark !== null && ((mark & m.mask) >>> 0) === m.value;
    }
    case 'ctstate':
      return (ctx.ctState() & m.states) !== 0;
    case 'addrtype': {
      const addr = m.which === 'src' ? p.saddr : p.daddr;
      if (!isIpv6(addr)) return (ctx.addrType(addr) & m.types) !== 0;
      // the route to an IPv6 address is the IPv6 FIB's
      const route = ctx.routeTo(addr) as Route6 | null;
      return m.by === 'xt' ? matchType6(addr, m.types, route) : (fibType6(addr, route) & m.types) !== 0;
    }
    case 'physdev':
      return physdevMatches(ctx.skb, m);
    case 'random':
      return ctx.statisticRandom(m);
    case 'ipset':
      return setContains(m.set, m.dirs, {
        addr: (dir) => (dir === 'src' ? p.saddr : p.daddr),
        port: (dir) => (dir === 'src' ? p.sport : p.dport),
        proto: p.proto,
      });
    case 'nth':
      // xt_statistic: the counter runs 0..every; the rule matches when it reaches `packet`
      m.counter.count = m.counter.count === m.every ? 0 : m.counter.count + 1;
      return m.counter.count === m.packet;
  }
}

/** The packet's mark, or its connection's (null when it has none). */
function markOf(ctx: RuleContext, of: 'packet' | 'conn'): number | null {
  return of === 'packet' ? ctx.skb.mark : (ctx.skb.ct?.mark ?? null);
}

function setMark(ctx: RuleContext, of: 'packet' | 'conn', value: number, rule: Rule): void {
  const before = markOf(ctx, of);
  if (of === 'packet') ctx.skb.mark = value;
  else if (ctx.skb.ct) ctx.skb.ct.mark = value;
  ctx.state.notes?.push(`${of === 'packet' ? 'MARK' : 'CONNMARK'} 0x${(before ?? 0).toString(16)} -> 0x${value.toString(16)} (rule "${rule.text}")`);
}

/**
 * physdev_mt, one option (the rule's options are a conjunction, as the kernel checks them one by
 * one): a packet br_netfilter did not hand over (no skb->nf_bridge) meets none; a bridged one
 * has its port in (physindev) and, from FORWARD on, its port out (physoutdev). A name ending in
 * `+` is a prefix (ifname_compare_aligned with the mask iptables gives it).
 */
function physdevMatches(skb: Skb, m: Extract<Match, { kind: 'physdev' }>): boolean {
  const info = skb.nfBridge;
  if (info === null) return false;
  switch (m.option) {
    case 'is-bridged':
    case 'is-out':
      return info.physoutdev !== null;
    case 'is-in':
      return true;
    case 'in':
      return nameMatches(info.physindev.name, m.port!.replace(/\+$/, ''), m.port!.endsWith('+'));
    case 'out':
      return nameMatches(info.physoutdev?.name ?? null, m.port!.replace(/\+$/, ''), m.port!.endsWith('+'));
  }
}

function nameMatches(actual: string | null, name: string, prefix: boolean): boolean {
  if (actual === null) return false;
  return prefix ? actual.startsWith(name) : actual === name;
}
