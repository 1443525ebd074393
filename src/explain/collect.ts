/**
 * Collecting facts: a FateProbe (netfilter/probe.ts) on one host that builds, as the replay
 * runs, what `natsim explain` says about every flow that did not complete, and (for `natsim
 * diff`) every flow's fate. Per live entry it keeps the few facts NAT, confirm and the errors
 * gave; a flow that completes leaves nothing behind but its fate; nothing is kept per packet.
 * A flow is an original tuple; `life` counts the entries that tuple had before (a port reused
 * after its entry died is a new flow). Flows are told apart by number (flow-index.ts): no key
 * text is built per flow.
 */
import { Hook, HOOK_IPTABLES_CHAIN, isIcmp } from '../netfilter/constants.js';
import { CtInfo, Status, type Conn } from '../netfilter/conntrack/conn.js';
import { Dir, invertTuple, Tuple, tupleFromPacket } from '../netfilter/conntrack/tuple.js';
import { nodeDir } from '../netfilter/conntrack/tuplehash.js';
import type { L3Packet } from '../packet/l3-packet.js';
import { TcpFlag } from '../packet/ipv4.js';
import { TCP_STATE_NAME, TcpState } from '../netfilter/conntrack/tcp-state.js';
import type { FateProbe, MasqueradeChoice, NatRuleBinding, NeighbourLoss } from '../netfilter/probe.js';
import { NatFlag } from '../netfilter/rules/model.js';
import type { Skb } from '../netfilter/skb.js';
import { ifaMatch, type NetDevice } from '../host/device.js';
import type { Host } from '../host/host.js';
import type { ConnRef, FlowTuple, Moment } from './finding.js';
import { firstMoment, newConnFacts, type ClashFact, type ConnEnd, type ConnFacts, type FailedFlow, type NeighbourFact } from './flow-facts.js';
import { neighbourLossFn } from './classify.js';
import { flowTuple } from './flow-tuple.js';
import { FateTable } from './fate.js';
import { flowKey, TupleIndex } from './flow-index.js';
import { formatInetAddr } from '../packet/inet-addr.js';
import { isIpv6 } from '../packet/ipv6-addr.js';
import { ipv4IsMulticast } from '../packet/ipv4-addr.js';
import { ipv6AddrType } from '../ipv6/addrconf.js';
import { routeIsBroadcast } from '../ipv4/route-input.js';

/** Ranges up to this many tuples are counted tuple by tuple when a clash needs it. */
const COUNTABLE_RANGE = 65536;
/** Holders a finding names at most. */
const HOLDERS_SHOWN = 8;

/** The tuple NAT gave an entry, as its peer sees it: the inverse of the reply tuple (a copy, numbers only). */
function translatedTuple(ct: Conn): Tuple {
  const reply = ct.tuple(Dir.Reply);
  return invertTuple(reply) ?? reply.clone();
}

/**
 * The flow a packet without an entry names: its tuple, or for an IPv6 packet with no upper-layer
 * protocol (a non-first fragment, a chain ipv6_skip_exthdr cannot walk) its addresses and first
 * next header, as no ports can be read (an IPv4 packet always has its protocol field).
 */
function flowOfPacket(p: L3Packet): Tuple {
  if (p.family === 6 && p.proto < 0) return new Tuple(p.saddr, 0, p.daddr, 0, p.nexthdr);
  return tupleFromPacket(p);
}

/** The hairpin an entry's first packet makes, if it makes one (ConnFacts.hairpin). */
function hairpinOf(ct: Conn, skb: Skb): ConnFacts['hairpin'] {
  const dev = skb.indev;
  if (dev === null || skb.outdev !== dev || !ct.has(Status.DstNat) || ct.has(Status.SrcNat)) return null;
  const client = ct.tuple(Dir.Original).src;
  const server = ct.tuple(Dir.Reply).src;
  // the device's IPv4 subnets: an IPv6 hairpin is not told (its prefixes are not in dev.addrs)
  if (isIpv6(client)) return null;
  return dev.addrs.some((ifa) => ifaMatch(client, ifa) && ifaMatch(server, ifa)) ? { dev: dev.name, server } : null;
}

/** Whether two MASQUERADE choices say the same in every field. */
function sameChoice(a: MasqueradeChoice, b: MasqueradeChoice): boolean {
  if (a.family !== b.family || a.out !== b.out || a.toward !== b.toward || a.source !== b.source) return false;
  return a.family === 'ipv6' || a.gateway === (b as typeof a).gateway;
}

function translatedOf(ct: Conn): FlowTuple {
  return flowTuple(translatedTuple(ct));
}

export class FlowCollector implements FateProbe {
  record = 0;
  private readonly scratch: string[] = [];
  private readonly live = new Map<Conn, ConnFacts>();
  /** The NAT bindings entries hold, by rule (sharedBinding). */
  private readonly bindings = new Map<NatRuleBinding['rule'], NatRuleBinding[]>();
  /** The original tuples met, numbered, and the entries each had that are gone (its flows' `life`). */
  readonly tuples = new TupleIndex();
  /** Failed flows by flowKey, in the order they first failed. */
  readonly failed = new Map<number, FailedFlow>();
  /** Every flow's fate (only when `fates` was asked for), and its row by flowKey. */
  readonly fates: FateTable | null;
  private readonly fateRows = new Map<number, number>();
  /** MASQUERADE's choices (device, next hop, address) and how many flows each. */
  readonly masquerades = new Map<string, { readonly choice: MasqueradeChoice; flows: number }>();
  /** The choice the last flow got: most flows get the one before theirs, found without a key. */
  private lastMasquerade: { readonly choice: MasqueradeChoice; flows: number } | null = null;
  /** Flows seen: entries confirmed plus untracked flows that died. */
  flows = 0;
  /** The packet (by skb id: its Skb is reused for the next one) a clash or the tracker last found against, for its drop. */
  private lastClash: { readonly skbId: number; readonly fact: ClashFact } | null = null;
  private lastInvalid: { readonly skbId: number; readonly tuple: Tuple; readonly why: string } | null = null;

  constructor(
    readonly host: Host,
    fates: boolean,
  ) {
    this.fates = fates ? new FateTable() : null;
  }

  scratchNotes(): string[] {
    // mostly empty already: setting an array's length is a runtime call even when it changes nothing
    if (this.scratch.length !== 0) this.scratch.length = 0;
    return this.scratch;
  }

  private moment(time: number): Moment {
    return { record: this.record === 0 ? null : this.record, time: time / 1e9 };
  }

  private facts(ct: Conn, time: number): ConnFacts {
    let f = this.live.get(ct);
    if (f === undefined) this.live.set(ct, (f = newConnFacts(this.moment(time))));
    return f;
  }

  natBound(ct: Conn, binding: NatRuleBinding, time: number): void {
    const f = this.facts(ct, time);
    f.nat = this.sharedBinding(binding);
    f.natTime = time;
  }

  /** The binding equal to `b` that entries hold already (a rule binds many the same way), or `b`. */
  private sharedBinding(b: NatRuleBinding): NatRuleBinding {
    let known = this.bindings.get(b.rule);
    if (known === undefined) this.bindings.set(b.rule, (known = []));
    const same = known.find((k) => k.kind === b.kind && k.range === b.range && k.hook === b.hook);
    if (same) return same;
    known.push(b);
    return b;
  }

  masqueraded(ct: Conn, choice: MasqueradeChoice): void {
    const seen = this.masqueradeSeen(choice);
    seen.flows++;
    // the entry keeps the first flow's choice object when it is the same choice: one object per
    // entry, held as long as the entry lives, was most of what a replay's collections copied
    const f = this.live.get(ct);
    if (f) f.masq = sameChoice(seen.choice, choice) ? seen.choice : choice;
  }

  /** The tally of `choice` (by device, next hop and address): most flows have the one the last flow had, found without a key. */
  private masqueradeSeen(choice: MasqueradeChoice): { readonly choice: MasqueradeChoice; flows: number } {
    const last = this.lastMasquerade;
    if (last && last.choice.out === choice.out && last.choice.toward === choice.toward && last.choice.source === choice.source) return last;
    const key = `${choice.out.name} ${choice.toward} ${choice.source}`;
    let seen = this.masquerades.get(key);
    if (!seen) this.masquerades.set(key, (seen = { choice, flows: 0 }));
    this.lastMasquerade = seen;
    return seen;
  }

  confirmed(skb: Skb, hook: Hook): void {
    const ct = skb.ct!;
    const f = this.facts(ct, skb.time);
    f.confirmedAt = hook;
    // confirm sees the entry's first packet: a TCP one without SYN was picked up mid-stream
    f.midstream = ct.tcp !== null && (skb.pkt.tcpFlags & TcpFlag.SYN) === 0;
    f.hairpin = hairpinOf(ct, skb);
    // the flow's tuple, numbered once: its end (destroyed, finish) and its fate use it
    const tuple = (f.tuple = this.tuples.idOf(ct.tuple(Dir.Original)));
    this.flows++;
    if (this.fates === null) return;
    // a fate the flow had (its first packets dropped) is replaced in its place
    this.fates.set(this.fateRow(tuple), hook === Hook.LocalIn ? 'local' : 'forwarded', HOOK_IPTABLES_CHAIN[hook]!, translatedTuple(ct), 0);
  }

  /** The row of the flow the tuple's live entry is, made if it has none. */
  private fateRow(tuple: number): number {
    const life = this.tuples.life(tuple);
    const key = flowKey(tuple, life);
    let row = this.fateRows.get(key);
    if (row === undefined) this.fateRows.set(key, (row = this.fates!.add(tuple, life)));
    return row;
  }

  /** The fate row of a failed flow (by its flowKey), if fates are kept and it has one. */
  fateRowOf(key: number): number | undefined {
    return this.fateRows.get(key);
  }

  clashDropped(skb: Skb, winner: Conn, dir: Dir): void {
    this.lastClash = { skbId: skb.id, fact: this.clashFact(skb.ct!, winner, dir) };
  }

  reset(ct: Conn, dir: Dir): void {
    const f = this.live.get(ct);
    if (f) f.resetBy = dir;
  }

  evicted(victim: Conn, now: number): void {
    const f = this.live.get(victim);
    if (f) f.evicted = this.moment(now);
  }

  invalid(skb: Skb, ct: Conn | null, why: readonly string[]): void {
    const tuple = ct ? ct.tuple(Dir.Original).clone() : flowOfPacket(skb.pkt);
    this.lastInvalid = { skbId: skb.id, tuple, why: why.join('; ') || 'invalid' };
    if (ct) this.noteAsymmetric(ct, skb.time);
  }

  icmpError(skb: Skb, hook: Hook): void {
    const ct = skb.ct;
    if (!ct) return;
    const f = this.facts(ct, skb.time);
    f.icmp ??= { at: this.moment(skb.time), hook, type: skb.pkt.icmpType, code: skb.pkt.icmpCode, from: skb.pkt.saddr };
  }

  unresolved(skb: Skb, dev: NetDevice, nexthop: number, how: NeighbourLoss, at: number, atRecord: number): void {
    const neighbour: NeighbourFact = { at: { record: atRecord === 0 ? null : atRecord, time: at / 1e9 }, dev: dev.name, nexthop, how };
    if (skb.ct) this.facts(skb.ct, skb.time).neighbour ??= neighbour;
    const asked = isIpv6(nexthop) ? 'neighbour solicitation' : 'ARP';
    const why = `the next hop ${formatInetAddr(nexthop)} on ${dev.name} ${how === 'gone' ? 'is gone: no host has the address its entry still holds' : `never answered ${asked}`}${how === 'queue-full' ? ', and newer packets pushed this one out of its full queue (unres_qlen_bytes)' : ''}`;
    this.dropped(skb, null, why, null, neighbourLossFn(how, isIpv6(nexthop)), neighbour);
  }

  destroyed(ct: Conn, now: number): void {
    const f = this.live.get(ct);
    this.live.delete(ct);
    if (!ct.confirmed || ct.has(Status.NatClash)) return;
    const tuple = f?.tuple ?? this.tuples.idOf(ct.tuple(Dir.Original));
    if (f) this.settle(ct, f, tuple, now, now >= ct.timeout);
    this.tuples.died(tuple);
  }

  /** The run is over: the entries still in the table settle as they stand. */
  finish(now: number): void {
    for (const [ct, f] of this.live) {
      if (!ct.confirmed || ct.has(Status.NatClash)) continue;
      this.settle(ct, f, f.tuple ?? this.tuples.idOf(ct.tuple(Dir.Original)), now, false);
    }
    this.live.clear();
  }

  dropped(skb: Skb, hook: Hook | null, reason: string, counter: string | null, fn: string | null, neighbour: NeighbourFact | null = null): void {
    // this host's own answer RELATED to the flow (a redirect NAT refused, an error or a reset a
    // rule dropped on the way out) is not one of its packets; an error that came in and was
    // dropped (a frag-needed a rule refused) is what happened to the flow
    if ((skb.ctinfo === CtInfo.Related || skb.ctinfo === CtInfo.RelatedReply) && skb.indev === null) return;
    const clash = this.lastClash?.skbId === skb.id ? this.lastClash.fact : null;
    const invalid = this.lastInvalid?.skbId === skb.id ? this.lastInvalid : null;
    this.lastClash = null;
    this.lastInvalid = null;
    const ct = skb.ct;
    const tuple = ct ? ct.tuple(Dir.Original) : (invalid?.tuple ?? flowOfPacket(skb.pkt));
    const number = this.tuples.idOf(tuple);
    const life = this.tuples.life(number);
    const key = flowKey(number, life);
    let flow = this.failed.get(key);
    if (flow === undefined) {
      flow = { life, flow: flowTuple(tuple), first: this.moment(skb.time), dropped: 0, drop: null, conn: null, end: null, translated: ct ? translatedOf(ct) : null };
      this.failed.set(key, flow);
      if (!ct?.confirmed) this.flows++;
    }
    flow.dropped++;
    if (ct && !ct.confirmed) {
      flow.conn ??= this.live.get(ct) ?? null;
      this.live.delete(ct); // the unconfirmed entry dies with the packet
    }
    flow.drop ??= {
      at: neighbour?.at ?? this.moment(skb.time),
      hook,
      fn: fn ?? skb.verdictOp,
      reason,
      counter,
      decision: skb.drop?.decision ?? null,
      reject: skb.drop?.reject !== undefined,
      clash,
      invalid: invalid?.why ?? null,
      table: counter === 'drop' && clash === null ? { max: this.host.sysctl.num('net.netfilter.nf_conntrack_max'), count: this.host.nf.table.count } : null,
      neighbour,
      indev: skb.indev?.name ?? null,
    };
    if (this.fates === null) return;
    const tracked = this.fateRows.get(key);
    if (tracked !== undefined) this.fates.addDropped(tracked);
    else this.fates.set(this.fateRow(number), 'dropped', hook === null ? (fn ?? 'routing') : `${HOOK_IPTABLES_CHAIN[hook]!} ${fn ?? skb.verdictOp ?? ''}`.trim(), ct ? translatedTuple(ct) : null, 1);
  }

  private connEnd(ct: Conn, now: number, expired: boolean, reset: Dir | null): ConnEnd {
    const tcp = ct.tcp;
    return {
      at: this.moment(now),
      expired,
      replied: ct.has(Status.SeenReply),
      dnat: ct.has(Status.DstNat),
      tcpState: tcp ? TCP_STATE_NAME[tcp.state]! : null,
      reset,
      timeout: Math.max(0, Math.round((ct.timeout - now) / 1e9)),
      toGroup: this.groupOf(ct.tuple(Dir.Original)),
    };
  }

  /** Whether a tuple goes to a group or to one of this host's broadcast addresses (rt_flags RTCF_MULTICAST, RTCF_BROADCAST). */
  private groupOf(t: Tuple): 'group' | 'broadcast' | null {
    if (isIpv6(t.dst)) return ipv6AddrType(t.dst).multicast ? 'group' : null;
    if (ipv4IsMulticast(t.dst)) return 'group';
    return routeIsBroadcast(this.host, t.src, t.dst) ? 'broadcast' : null;
  }

  /** An entry's life is over (or the run is): did its flow complete? Its end is written down only if not. */
  private settle(ct: Conn, f: ConnFacts, tuple: number, now: number, expired: boolean): void {
    const life = this.tuples.life(tuple);
    const key = flowKey(tuple, life);
    const failed = this.failed.get(key);
    const tcp = ct.tcp;
    // a RST before the connection was ASSURED: the tracker closed the entry (killed it, with no reply seen)
    const reset = tcp !== null && !ct.has(Status.Assured) && tcp.state === TcpState.Close ? f.resetBy : null;
    const broke = f.asymmetric !== null || f.neighbour !== null || f.icmp !== null || f.evicted !== null || reset !== null || !ct.has(Status.SeenReply);
    if (!failed && !broke) return;
    const end = this.connEnd(ct, now, expired, reset);
    if (failed) {
      failed.conn ??= f;
      failed.end = end;
      return;
    }
    const flow = flowTuple(ct.tuple(Dir.Original));
    this.failed.set(key, { life, flow, first: firstMoment(f), dropped: 0, drop: null, conn: f, end, translated: translatedOf(ct) });
  }

  /** A packet INVALID because it answers a reply this host never saw: the client got it straight from the DNAT target. */
  private noteAsymmetric(ct: Conn, time: number): void {
    const back = invertTuple(ct.tuple(Dir.Original));
    if (!back) return;
    const found = this.host.nf.table.find(back);
    const dnat = found ? this.host.nf.table.conn(found) : null;
    if (!dnat || nodeDir(found) !== Dir.Reply || !dnat.has(Status.DstNat)) return;
    const f = this.live.get(dnat);
    if (f) f.asymmetric ??= this.moment(time);
  }

  private connRef(ct: Conn): ConnRef {
    const facts = this.live.get(ct);
    const since = facts ? firstMoment(facts) : null;
    return { id: ct.id, flow: flowTuple(ct.tuple(Dir.Original)), reply: flowTuple(ct.tuple(Dir.Reply)), since };
  }

  /**
   * The clash as it stands: who holds the loser's tuple, and how many of the tuples its NAT
   * range offers are held by confirmed entries (the port search sees only those).
   */
  private clashFact(loser: Conn, winner: Conn, _dir: Dir): ClashFact {
    const facts = this.live.get(loser);
    const nat = facts?.nat ?? null;
    const holderLater = nat !== null && (this.live.get(winner)?.firstTime ?? 0) * 1e9 > facts!.natTime;
    const range = nat ? this.rangeOf(loser, nat) : null;
    if (nat === null || range === null) return { holder: this.connRef(winner), held: null, rangeSize: null, holders: [], holderLater };
    const reply = loser.tuple(Dir.Reply);
    const src = nat.hook === Hook.PostRouting || nat.hook === Hook.LocalIn;
    const holders = new Map<Conn, true>();
    for (let a = range.minAddr; a <= range.maxAddr; a++) {
      for (let p = range.minProto; p <= range.maxProto; p++) {
        const probe = this.candidate(reply, src, a, p);
        const found = this.host.nf.table.lookup(probe);
        if (found) holders.set(found, true);
      }
    }
    const shown = [...holders.keys()].slice(0, HOLDERS_SHOWN).map((c) => this.connRef(c));
    return { holder: this.connRef(winner), held: holders.size, rangeSize: range.size, holders: shown, holderLater };
  }

  /** The reply tuple the loser would have with NAT address `a` and port (or ICMP id) `p`. */
  private candidate(reply: Tuple, src: boolean, a: number, p: number): Tuple {
    const icmp = isIcmp(reply.proto);
    if (src) return new Tuple(reply.src, icmp ? p : reply.srcU, a, icmp ? reply.dstU : p, reply.proto);
    return new Tuple(a, p, reply.dst, reply.dstU, reply.proto);
  }

  /** The range's addresses and ports as this flow met it (MASQUERADE: the one address it chose). */
  private rangeOf(loser: Conn, nat: NatRuleBinding): { minAddr: number; maxAddr: number; minProto: number; maxProto: number; size: number } | null {
    const masq = this.live.get(loser)?.masq ?? null;
    const r = nat.range;
    const reply = loser.tuple(Dir.Reply);
    const src = nat.hook === Hook.PostRouting || nat.hook === Hook.LocalIn;
    const mapped = src ? reply.dst : reply.src;
    const [minAddr, maxAddr] = masq ? [masq.source, masq.source] : r.flags & NatFlag.MapIps ? [r.minAddr, r.maxAddr] : [mapped, mapped];
    // IPv6 handles are not numbered by address: a range of several is not walked
    if (isIpv6(minAddr) && minAddr !== maxAddr) return null;
    // without a port range the search walks the port's whole class: too many to count
    if (!(r.flags & NatFlag.ProtoSpecified)) return null;
    const [minProto, maxProto] = [Math.min(r.minProto, r.maxProto), Math.max(r.minProto, r.maxProto)];
    const size = (maxAddr - minAddr + 1) * (maxProto - minProto + 1);
    return size > 0 && size <= COUNTABLE_RANGE ? { minAddr, maxAddr, minProto, maxProto, size } : null;
  }
}
