/**
 * Where a node's own new connection was addressed before nat OUTPUT DNATed it, when its socket
 * does not say (an unconnected UDP socket's sendto, a socket gone before the snapshot): the DNAT
 * rules the packet's LOCAL_OUT walk can reach (from the nat base chains at NF_INET_LOCAL_OUT,
 * through jump and goto) that match one destination address (and port) and translate to what
 * the wire shows. Exactly one such origin is taken; none or several leave the packet as the
 * wire shows it, and the trace says which.
 */
import { Hook } from '../netfilter/constants.js';
import { NatFlag, NFPROTO_IPV4, tablesOfFamily, type Chain, type Match, type Rule, type Ruleset, type Table } from '../netfilter/rules/model.js';
import { formatPlace } from '../errors.js';
import type { Ipv4Packet } from '../packet/ipv4.js';

export interface DnatOrigin {
  readonly daddr: number;
  readonly dport: number;
  /** The rule, file:line and text, for the trace. */
  readonly rule: string;
}

/** The origins the wire packet `pkt` can have come from (duplicates of one origin merged). */
export function outputDnatOrigins(ruleset: Ruleset, pkt: Ipv4Packet): DnatOrigin[] {
  const found = new Map<string, DnatOrigin>();
  for (const table of tablesOfFamily(ruleset, NFPROTO_IPV4)) {
    for (const chain of table.chains.values()) {
      if (chain.base?.type !== 'nat' || chain.base.hook !== Hook.LocalOut) continue;
      for (const rule of reachableRules(table, chain)) {
        const origin = ruleOrigin(rule, pkt);
        if (origin) found.set(`${origin.daddr}:${origin.dport}`, origin);
      }
    }
  }
  return [...found.values()];
}

/** The rules of `chain` and of every chain it jumps or goes to, each chain once. */
function* reachableRules(table: Table, chain: Chain): Generator<Rule> {
  const seen = new Set<Chain>([chain]);
  const todo = [chain];
  for (let c = todo.pop(); c; c = todo.pop()) {
    for (const rule of c.rules) {
      yield rule;
      const a = rule.action;
      const next = a && (a.kind === 'jump' || a.kind === 'goto') ? table.chains.get(a.chain) : undefined;
      if (next && !seen.has(next)) {
        seen.add(next);
        todo.push(next);
      }
    }
  }
}

/** A `daddr A [dport P] … dnat to X[:Y]` rule whose translation is the wire's destination. */
function ruleOrigin(rule: Rule, pkt: Ipv4Packet): DnatOrigin | null {
  const a = rule.action;
  if (a?.kind !== 'dnat') return null;
  const r = a.range;
  if (r.flags & NatFlag.MapIps && (pkt.daddr < r.minAddr || pkt.daddr > r.maxAddr)) return null;
  const portMapped = (r.flags & NatFlag.ProtoSpecified) !== 0;
  if (portMapped && (pkt.dport < r.minProto || pkt.dport > r.maxProto)) return null;
  const daddr = single(rule.matches, 'daddr');
  if (daddr === null) return null;
  const dport = single(rule.matches, 'dport', pkt.proto);
  if (portMapped && dport === null) return null;
  return { daddr, dport: dport ?? pkt.dport, rule: `${formatPlace(rule.place)}: ${rule.text}` };
}

/** The one address (or port, of protocol `proto`) a rule's un-negated match allows, else null. */
function single(matches: readonly Match[], kind: 'daddr' | 'dport', proto?: number): number | null {
  for (const m of matches) {
    if (kind === 'daddr' && m.kind === 'daddr' && !m.negate && m.prefixes.length === 1 && m.prefixes[0]!.len === 32) return m.prefixes[0]!.addr;
    if (kind === 'dport' && m.kind === 'dport' && !m.negate && m.proto === proto && m.ranges.length === 1 && m.ranges[0]!.min === m.ranges[0]!.max) return m.ranges[0]!.min;
  }
  return null;
}
