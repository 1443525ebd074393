/**
 * Rendering text: the summary (failed flows by cause, MASQUERADE's choices, the counters),
 * then one paragraph per failed flow in the kernel's terms, ending with its evidence.
 */
import type { Cause, CauseKind, ConnRef, Evidence, Explanation, Finding, MasqueradeFact, Moment, NatFact, RuleRef } from './finding.js';
import { tupleText } from './flow-tuple.js';
import type { NeighbourLoss } from '../netfilter/probe.js';

export const CAUSE_TITLE: Readonly<Record<CauseKind, string>> = {
  'nat-clash': 'NAT clash dropped at confirm',
  'nat-exhausted': 'NAT port exhaustion',
  'table-full': 'conntrack table full',
  'early-dropped': 'evicted by early_drop',
  invalid: 'INVALID',
  rule: 'dropped by a rule or policy',
  'no-route': 'no route',
  neighbour: 'neighbour never answered',
  'asymmetric-reply': 'asymmetric reply bypassed de-NAT',
  hairpin: 'hairpin NAT without SNAT',
  'icmp-error': 'ICMP error',
  timeout: 'no reply (timeout)',
  reset: 'reset by the peer',
  'other-drop': 'dropped',
  'group-not-joined': 'to a group the device is not in',
  'to-group': 'to a group or broadcast (no reply expected)',
};

const RESET_FROM: Readonly<Record<Extract<Cause, { kind: 'reset' }>['from'], string>> = {
  peer: 'The peer answered with RST',
  'this-host': "This host's own TCP stack answered with RST (the segment was for this host itself, LOCAL_IN)",
  sender: 'The sender reset the connection (RST in the original direction)',
};

/** What a picked-up entry's paragraph adds (tcp_new without a SYN). */
const MIDSTREAM =
  " The entry was picked up mid-stream: its first segment was not a SYN, and nf_conntrack_tcp_loose=1 let tcp_new take the connection as ESTABLISHED — it began before the capture, or its entry was lost (conntrack -F, an entry killed or expired while the connection lived).";

function at(m: Moment): string {
  return `${m.record !== null ? `record ${m.record}, ` : ''}${m.time.toFixed(6)} s`;
}

function rule(r: RuleRef): string {
  return `${r.file}:${r.line} (${r.text})`;
}

function conn(c: ConnRef): string {
  return `entry ${c.id} (${tupleText(c.flow)}, reply ${tupleText(c.reply)}${c.since ? `, since ${at(c.since)}` : ''})`;
}

function natIntro(nat: NatFact | null): string {
  if (!nat) return 'NAT';
  return `${nat.kind.toUpperCase()} by rule ${rule(nat.rule)}`;
}

/** The finding's paragraph: its cause in the kernel's terms, and how its entry began if that matters. */
export function paragraph(f: Finding): string {
  return `${causeParagraph(f)}${f.midstream ? MIDSTREAM : ''}`;
}

function causeParagraph(f: Finding): string {
  const c = f.cause;
  const died = f.dropped > 1 ? ` ${f.dropped} packets of the flow died so (every retransmission).` : '';
  switch (c.kind) {
    case 'nat-clash': {
      const given = f.nat ? `${tupleText(f.nat.translated)}` : 'its tuple';
      const why =
        c.why === 'only-tuple'
          ? `the range ${f.nat?.range ?? ''} offers one tuple only, so the port search had nothing else to try`
          : c.why === 'holder-unconfirmed'
            ? 'the holder was confirmed after this flow\'s NAT chose its tuple, and nf_nat_used_tuple sees confirmed entries only: two new flows raced for it'
            : `${c.held ?? 'some'} of the range's ${f.nat?.rangeSize ?? '?'} tuples were held, and the bounded search (at most 128 attempts from a random offset) met only taken ones`;
      return `${natIntro(f.nat)} gave the flow ${given}, which ${conn(c.holder)} already held: ${why}. At confirm, __nf_conntrack_confirm found the tuple in the table and nf_ct_resolve_clash could not merge the two, so the packet was dropped (insert_failed, drop).${died}`;
    }
    case 'nat-exhausted':
      return `${natIntro(f.nat)} offers ${f.nat?.rangeSize ?? '?'} tuples (${f.nat?.range ?? ''}) and all ${c.held} were held by confirmed entries: ${c.holders.map(conn).join('; ')}. get_unique_tuple found no free one and returned the last it tried, ${f.nat ? tupleText(f.nat.translated) : ''}, held by entry ${c.holder.id}; __nf_conntrack_confirm met the clash and nf_ct_resolve_clash could not resolve it, so the packet was dropped (insert_failed, drop).${died}`;
    case 'table-full':
      return `The conntrack table held ${c.count} entries, nf_conntrack_max is ${c.max}, and early_drop found no entry that was not ASSURED in the buckets it looks at, so __nf_conntrack_alloc refused a new entry and the packet was dropped (drop).${died}`;
    case 'early-dropped':
      return 'The entry was confirmed but not yet ASSURED when the table reached nf_conntrack_max: early_drop killed it to make room for a new flow (early_drop), and the flow lost its state.';
    case 'invalid':
      return `conntrack (${f.evidence.fn}) found the packet INVALID: ${c.check}. ${c.dropped && f.evidence.rule ? `Rule ${rule(f.evidence.rule)} dropped it at ${f.evidence.hook ?? 'its hook'}.` : c.dropped ? 'A chain dropped it.' : 'It passed untracked.'}${died}`;
    case 'rule':
      return `${c.policy ? `The ${c.verdict} policy of chain ${c.chain} (table ${c.table})` : `A ${c.verdict.toUpperCase()} rule of chain ${c.chain} (table ${c.table})`} ${c.verdict === 'reject' ? 'rejected' : 'dropped'} the packet.${died}`;
    case 'no-route':
      return `Routing refused the packet: ${c.reason}.${died}`;
    case 'neighbour':
      return `The packet was routed to next hop ${c.nexthop} on ${c.dev}, ${NEIGHBOUR_LOSS[c.how](c.protocol)}.${stale(c.stale)}${died}`;
    case 'asymmetric-reply':
      return `The entry DNATs to ${c.server}, but the reply did not pass this host: the client got it from ${c.server} itself, not from the address it connected to, and its answer (${at(c.reaction)}) matched no entry (INVALID). The reply bypassed de-NAT: the routes are asymmetric.`;
    case 'hairpin':
      return `The entry DNATs the flow to ${c.server}, back out of ${c.dev}, where it came in, and ${c.server} is on the client's own subnet: with no SNAT of this hairpin, ${c.server} answers the client directly, the answer never passes this host to be de-NATed, and the client, which sent to ${f.flow.dst}, does not take it. No reply reached the entry. A hairpin needs the flow SNATed to this host too (masquerade of the LAN toward ${c.server}).`;
    case 'icmp-error':
      return `${c.from} answered with ${c.icmp === 'icmp' ? 'ICMP' : 'ICMPv6'} ${c.text}; conntrack related it to the entry (RELATED) and it went back to the sender.${stale(c.stale)}`;
    case 'timeout':
      return c.expired ? `No reply ever came: the entry${c.state ? ` (${c.state})` : ''} expired and gc_worker reaped it.` : `No reply by the end of the run: the entry${c.state ? ` (${c.state})` : ''} has ${c.timeout} s left.`;
    case 'reset':
      return `${RESET_FROM[c.from]}: the entry went to CLOSE without being established.`;
    case 'other-drop':
      return `The packet was dropped: ${c.reason}.${died}`;
    case 'group-not-joined':
      return `The packet was sent to group ${f.flow.dst}, which ${c.dev} is not in: routing dropped it. Linux delivers only the groups a device has joined (all-nodes or 224.0.0.1, and those its sockets joined: /proc/net/igmp, igmp6) and, with no multicast routing daemon, forwards none — whatever the routes say.${died}`;
    case 'to-group':
      return `The packet was sent to ${c.to === 'group' ? `group ${f.flow.dst}` : `the broadcast address ${f.flow.dst}`} and delivered to this host (LOCAL_IN). An answer would come from someone's unicast address, not from ${f.flow.dst}, and match no entry: this one stays UNREPLIED until it expires. Nothing failed.`;
  }
}

function stale(s: { readonly endpoint: string; readonly answeredBefore: boolean } | null): string {
  if (!s) return '';
  return ` The entry is DNATed to ${s.endpoint}${s.answeredBefore ? ', which had answered before' : ''}: a stale conntrack entry kept sending the flow to a vanished endpoint (conntrack -D, or letting it expire, would let the rules choose again).`;
}

function evidenceLine(e: Evidence): string {
  const parts = [at(e), e.hook ?? 'off the hooks', e.fn];
  if (e.rule) parts.push(`rule ${rule(e.rule)}`);
  if (e.counter) parts.push(`counter ${e.counter}`);
  return `  evidence: ${parts.join(', ')}`;
}

function masqLine(m: MasqueradeFact): string {
  if (m.family === 'ipv6') return `MASQUERADE out ${m.dev} for ${m.destination} picked ${m.source}: ${m.why} (ipv6_dev_get_saddr)`;
  return `MASQUERADE out ${m.dev} toward ${m.nexthop} (${m.viaGateway ? 'the route\'s gateway' : 'on-link: the destination itself'}) picked ${m.source}: ${m.why} (inet_select_addr)`;
}

export function renderText(x: Explanation, multiHost: boolean): string[] {
  const who = multiHost ? `${x.host}: ` : '';
  const failed = x.findings.length;
  const lines = [`${who}${x.flows} flows, ${failed} did not complete`];
  for (const s of x.summary) lines.push(`  ${String(s.flows).padStart(5)} × ${CAUSE_TITLE[s.cause]}`);
  for (const m of x.masquerade) lines.push(`  ${masqLine(m)}: ${m.flows} flow${m.flows === 1 ? '' : 's'}`);
  const counters = Object.entries(x.counters).map(([n, v]) => `${n}=${v}`);
  if (counters.length > 0) lines.push(`  conntrack counters: ${counters.join(' ')}`);
  for (const f of x.findings) {
    lines.push('');
    lines.push(`${who}${tupleText(f.flow)}${f.life > 0 ? ` (use ${f.life + 1} of the tuple)` : ''}: ${CAUSE_TITLE[f.cause.kind]} (first packet ${at(f.first)})`);
    lines.push(`  ${paragraph(f)}`);
    if (f.nat) lines.push(`  NAT: ${f.nat.kind} to ${f.nat.range} made it ${tupleText(f.nat.translated)}${f.nat.masquerade ? `; ${masqLine(f.nat.masquerade)}` : ''}`);
    lines.push(evidenceLine(f.evidence));
  }
  return lines;
}

/** How a packet toward a silent next hop was lost (Cause 'neighbour'), by the protocol that asked for it. */
const NEIGHBOUR_LOSS: Record<NeighbourLoss, (protocol: 'arp' | 'ndisc') => string> = {
  failed: (p) => `which never answered ${p === 'arp' ? 'ARP' : 'neighbour solicitation'}: it waited in the neighbour queue until the entry failed, and was answered with ${p === 'arp' ? 'ICMP host unreachable' : 'ICMPv6 address unreachable'} and freed then`,
  'queue-full': (p) => `which never answered ${p === 'arp' ? 'ARP' : 'neighbour solicitation'}: it waited in the neighbour queue until newer packets pushed it out of the full queue (unres_qlen_bytes)`,
  gone: () => 'whose owner is gone: the entry, valid from an earlier answer, still gave its link address, and no host took the frame (a scenario\'s entries do not expire)',
};
