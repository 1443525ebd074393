/**
 * Classifying: a failed flow's facts (flow-facts.ts) → its cause, in the kernel's terms, and
 * the evidence — which packet, which hook, which rule, which kernel function, which counter.
 * A drop decides over what the entry showed later; among an entry's troubles the most
 * specific wins (an asymmetric reply, then the neighbour, then an ICMP error, then early_drop,
 * then a reset, then no reply at all).
 */
import { Hook, HOOK_IPTABLES_CHAIN } from '../netfilter/constants.js';
import { Dir } from '../netfilter/conntrack/tuple.js';
import { ifaMatch } from '../host/device.js';
import { formatInetAddr, inetRangeSize } from '../packet/inet-addr.js';
import { isIpv6 } from '../packet/ipv6-addr.js';
import type { NatRuleBinding, MasqueradeChoice, NeighbourLoss } from '../netfilter/probe.js';
import { NatFlag, type NatRange, type Rule } from '../netfilter/rules/model.js';
import type { Cause, Evidence, Finding, FlowTuple, MasqueradeFact, Moment, NatFact, RuleRef, StaleDnat } from './finding.js';
import { firstMoment, type ConnEnd, type ConnFacts, type DropFact, type FailedFlow } from './flow-facts.js';
import { tupleText } from './flow-tuple.js';

export function classify(f: FailedFlow): Finding {
  const [cause, evidence] = causeAndEvidence(f);
  const nat = f.conn?.nat ? natFact(f.conn.nat, f.conn.masq, f.translated ?? f.flow) : null;
  return { key: tupleText(f.flow), life: f.life, flow: f.flow, first: f.first, dropped: f.dropped, evidence, cause, nat, midstream: f.conn?.midstream ?? false };
}

/** What a failed flow's first drop shows, else what its entry showed by its end. */
function causeAndEvidence(f: FailedFlow): [Cause, Evidence] {
  return f.drop ? fromDrop(f.drop, f.conn, f.end) : fromEnd(f.conn!, f.end!, f.first);
}

/** The cause alone (diff marks fates with it). */
export function causeOf(f: FailedFlow): Cause {
  return causeAndEvidence(f)[0];
}

export function ruleRef(rule: Rule): RuleRef {
  return { file: rule.place.file, line: rule.place.line ?? 0, text: rule.text };
}

function evidence(at: Moment, hook: number | null, fn: string, rule: Rule | null, counter: string | null): Evidence {
  return { ...at, hook: hook === null ? null : HOOK_IPTABLES_CHAIN[hook]!, fn, rule: rule ? ruleRef(rule) : null, counter };
}

/** What the first dropped packet shows. */
function fromDrop(d: DropFact, conn: ConnFacts | null, end: ConnEnd | null): [Cause, Evidence] {
  const natRule = conn?.nat?.rule ?? null;
  if (d.clash) {
    const c = d.clash;
    const ev = evidence(d.at, d.hook, '__nf_conntrack_confirm (nf_ct_resolve_clash)', natRule, 'insert_failed');
    if (c.rangeSize !== null && c.held !== null && c.rangeSize > 1 && c.held >= c.rangeSize) return [{ kind: 'nat-exhausted', holder: c.holder, held: c.held, holders: c.holders }, ev];
    const why = c.rangeSize === 1 ? 'only-tuple' : c.holderLater ? 'holder-unconfirmed' : 'search-gave-up';
    return [{ kind: 'nat-clash', holder: c.holder, why, held: c.held }, ev];
  }
  if (d.invalid !== null) {
    const rule = d.decision?.rule ?? null;
    return [{ kind: 'invalid', check: d.invalid, dropped: d.decision !== null }, evidence(d.at, d.hook, invalidFn(d.invalid), rule, d.invalid.startsWith('ICMP') ? 'error' : 'invalid')];
  }
  if (d.decision) {
    const fn = d.decision.table.source === 'iptables-legacy' ? 'ipt_do_table' : 'nft_do_chain';
    const cause: Cause = { kind: 'rule', verdict: d.reject ? 'reject' : 'drop', table: `${d.decision.table.family} ${d.decision.table.name}`, chain: d.decision.chain, policy: d.decision.rule === null };
    return [cause, evidence(d.at, d.hook, fn, d.decision.rule, null)];
  }
  if (d.table) return [{ kind: 'table-full', max: d.table.max, count: d.table.count }, evidence(d.at, d.hook, '__nf_conntrack_alloc (early_drop found nothing to evict)', null, 'drop')];
  if (d.neighbour) {
    const stale = conn && end?.dnat ? staleOf(conn, end) : null;
    return neighbourCause(d.neighbour, d.at, stale, natRule);
  }
  if (d.fn === 'ip_route_input_rcu' || d.fn === 'ip6_mc_input') return [{ kind: 'group-not-joined', dev: d.indev ?? '?' }, evidence(d.at, null, d.fn, null, null)];
  if (d.fn === 'ip_route_input_slow' || d.fn === 'ip_route_output_key' || d.fn === 'ip_route_me_harder') return [{ kind: 'no-route', reason: d.reason }, evidence(d.at, null, d.fn, null, null)];
  return [{ kind: 'other-drop', reason: d.reason }, evidence(d.at, d.hook, d.fn ?? 'kfree_skb', null, d.counter)];
}

/**
 * A next hop that did not answer: ARP's for IPv4, neighbour discovery's for IPv6 (neigh_resolve_output
 * → arp_solicit / ndisc_solicit), the packet answered with host (address) unreachable and freed when
 * the neighbour failed (neigh_invalidate → arp_error_report / ndisc_error_report), or pushed out of
 * its full queue before that (__neigh_event_send); or a scenario's host gone while its entry holds.
 */
function neighbourCause(n: NonNullable<DropFact['neighbour']>, at: Moment, stale: StaleDnat | null, natRule: Rule | null): [Cause, Evidence] {
  const v6 = isIpv6(n.nexthop);
  const cause: Cause = { kind: 'neighbour', protocol: v6 ? 'ndisc' : 'arp', dev: n.dev, nexthop: formatInetAddr(n.nexthop), how: n.how, stale };
  return [cause, evidence(at, null, neighbourLossFn(n.how, v6), natRule, null)];
}

/** The kernel function where a packet toward a silent neighbour was lost, `how`. */
export function neighbourLossFn(how: NeighbourLoss, v6: boolean): string {
  switch (how) {
    case 'failed':
      return `neigh_invalidate (${v6 ? 'ndisc_error_report' : 'arp_error_report'})`;
    case 'queue-full':
      return '__neigh_event_send (the queue full: NEIGH_QUEUEFULL)';
    case 'gone':
      return 'dev_queue_xmit (the entry still valid: no host took the frame)';
  }
}

/** The tracker's words name the check that failed. */
function invalidFn(why: string): string {
  if (why.startsWith('ICMPv6')) return 'nf_conntrack_icmpv6_error';
  if (why.startsWith('ICMP')) return 'nf_conntrack_icmpv4_error';
  if (/flag combination|truncated/.test(why)) return 'tcp_error';
  if (/bound|window/.test(why)) return 'tcp_in_window';
  if (/invalid rst/.test(why)) return 'nf_conntrack_tcp_packet (RST below the peer\'s last ACK)';
  if (/invalid new|^tcp_new:/.test(why)) return 'tcp_new';
  return 'nf_conntrack_tcp_packet';
}

/** What a DNAT entry that had seen replies says about its endpoint when it stops answering. */
function staleOf(conn: ConnFacts, end: ConnEnd | null): StaleDnat | null {
  const nat = conn.nat;
  if (!nat || nat.kind !== 'dnat') return null;
  return { endpoint: formatInetAddr(nat.range.minAddr), answeredBefore: end?.replied ?? false };
}

/** What the entry showed by its end (or the run's). */
function fromEnd(conn: ConnFacts, end: ConnEnd, first: Moment): [Cause, Evidence] {
  const natRule = conn.nat?.rule ?? null;
  if (conn.asymmetric) {
    return [{ kind: 'asymmetric-reply', server: conn.nat ? formatInetAddr(conn.nat.range.minAddr) : '?', reaction: conn.asymmetric }, evidence(conn.asymmetric, null, 'tcp_new (the client answered a reply this host never de-NATed)', natRule, 'invalid')];
  }
  if (conn.neighbour) {
    return neighbourCause(conn.neighbour, conn.neighbour.at, end.dnat ? staleOf(conn, end) : null, natRule);
  }
  if (conn.icmp) {
    const i = conn.icmp;
    const v6 = isIpv6(i.from);
    const stale = end.dnat && isUnreachable(v6, i.type, i.code) ? staleOf(conn, end) : null;
    const cause: Cause = { kind: 'icmp-error', icmp: v6 ? 'icmpv6' : 'icmp', type: i.type, code: i.code, text: v6 ? icmpv6Text(i.type, i.code) : icmpText(i.type, i.code), from: formatInetAddr(i.from), stale };
    return [cause, evidence(i.at, i.hook, `${v6 ? 'nf_conntrack_icmpv6_error' : 'nf_conntrack_icmpv4_error'} (RELATED)`, null, null)];
  }
  if (conn.hairpin && !end.replied) {
    const h = conn.hairpin;
    return [{ kind: 'hairpin', server: formatInetAddr(h.server), dev: h.dev }, evidence(firstMoment(conn), null, `ip_forward (out of ${h.dev}, the device it came in on; DNAT without SNAT)`, natRule, null)];
  }
  if (conn.evicted) return [{ kind: 'early-dropped' }, evidence(conn.evicted, null, 'early_drop', null, 'early_drop')];
  if (end.reset !== null) return [{ kind: 'reset', from: resetFrom(end.reset, conn.confirmedAt) }, evidence(end.at, null, 'nf_conntrack_tcp_packet (RST: CLOSE)', null, null)];
  if (end.toGroup !== null && !end.replied) return [{ kind: 'to-group', to: end.toGroup }, evidence(first, Hook.LocalIn, 'ip_local_deliver (to a group or broadcast: no reply matches)', null, null)];
  return [{ kind: 'timeout', expired: end.expired, state: end.tcpState, timeout: end.timeout }, evidence(end.expired ? end.at : first, null, end.expired ? 'gc_worker (nf_ct_gc_expired)' : 'nf_conntrack_in (no reply yet)', natRule, null)];
}

/** Who sent the RST: the reply direction of an entry confirmed at LOCAL_IN is this host's own. */
function resetFrom(dir: Dir, confirmedAt: Hook | null): 'peer' | 'this-host' | 'sender' {
  if (dir === Dir.Original) return 'sender';
  return confirmedAt === Hook.LocalIn ? 'this-host' : 'peer';
}

const UNREACH = ['net unreachable', 'host unreachable', 'protocol unreachable', 'port unreachable', 'fragmentation needed', 'source route failed'];

/** Host or network unreachable: what a vanished DNAT endpoint's router answers (ICMP 3/0-1, ICMPv6 1/0 or 1/3). */
function isUnreachable(v6: boolean, type: number, code: number): boolean {
  return v6 ? type === 1 && (code === 0 || code === 3) : type === 3 && (code === 1 || code === 0);
}

const UNREACH6 = ['no route to destination', 'administratively prohibited', 'beyond scope of source address', 'address unreachable', 'port unreachable', 'source address failed ingress/egress policy', 'reject route to destination'];

/** RFC 4443's names (include/uapi/linux/icmpv6.h). */
function icmpv6Text(type: number, code: number): string {
  if (type === 1) return `destination unreachable: ${UNREACH6[code] ?? `code ${code}`}`;
  if (type === 2) return 'packet too big';
  if (type === 3) return code === 0 ? 'time exceeded: hop limit' : 'time exceeded: reassembly';
  if (type === 4) return 'parameter problem';
  return `type ${type} code ${code}`;
}

function icmpText(type: number, code: number): string {
  if (type === 3) return `destination unreachable: ${UNREACH[code] ?? `code ${code}`}`;
  if (type === 11) return code === 0 ? 'time exceeded: TTL' : 'time exceeded: reassembly';
  if (type === 12) return 'parameter problem';
  return `type ${type} code ${code}`;
}

/** A range as iptables writes it: 192.168.206.250:50000-50003, [fd00:206::250]:50000-50003. */
function rangeText(r: NatRange, masq: MasqueradeChoice | null): string {
  const addrs = masq ? formatInetAddr(masq.source) : r.flags & NatFlag.MapIps ? (r.minAddr === r.maxAddr ? formatInetAddr(r.minAddr) : `${formatInetAddr(r.minAddr)}-${formatInetAddr(r.maxAddr)}`) : '(address kept)';
  if (!(r.flags & NatFlag.ProtoSpecified)) return addrs;
  const ports = r.minProto === r.maxProto ? `${r.minProto}` : `${r.minProto}-${r.maxProto}`;
  return addrs.includes(':') ? `[${addrs}]:${ports}` : `${addrs}:${ports}`;
}

export function rangeSize(r: NatRange, masq: MasqueradeChoice | null): number {
  const addrs = masq || !(r.flags & NatFlag.MapIps) ? 1 : inetRangeSize(r.minAddr, r.maxAddr);
  return addrs * (r.flags & NatFlag.ProtoSpecified ? Math.abs(r.maxProto - r.minProto) + 1 : 1);
}

function natFact(b: NatRuleBinding, masq: MasqueradeChoice | null, translated: FlowTuple): NatFact {
  return { kind: b.kind, rule: ruleRef(b.rule), range: rangeText(b.range, masq), rangeSize: rangeSize(b.range, masq), translated, masquerade: masq ? masqueradeFact(masq) : null };
}

/** The reason for MASQUERADE's pick: inet_select_addr's, re-read from the device's addresses; ipv6_dev_get_saddr's RFC 6724 order. */
export function masqueradeFact(m: MasqueradeChoice): MasqueradeFact {
  if (m.family === 'ipv6') return { family: 'ipv6', dev: m.out.name, destination: formatInetAddr(m.toward), source: formatInetAddr(m.source), why: 'the best candidate by RFC 6724 source address selection' };
  const onDev = m.out.addrs.find((a) => a.local === m.source && !a.secondary);
  const holds = onDev !== undefined && ifaMatch(m.toward, onDev);
  const why = holds
    ? `the primary address of ${m.out.name} whose subnet holds the next hop`
    : onDev
      ? `no primary address of ${m.out.name} holds the next hop in its subnet: its first primary address`
      : `${m.out.name} has no usable address: the first primary address of another device`;
  return { family: 'ipv4', dev: m.out.name, nexthop: formatInetAddr(m.toward), viaGateway: m.gateway !== 0, source: formatInetAddr(m.source), why };
}
