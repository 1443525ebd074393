/**
 * Random rule choices taken from the capture. Replaying a capture, the kernel's draw for
 * `-m statistic --mode random`, `numgen random` or `meta random` (what iptables-translate writes
 * for the statistic match: `meta random & 2147483647 < 1073741824`) is unknown, but where it led
 * is on the wire:
 * the packet the kernel sent shows which endpoint a DNAT (or SNAT) chose. Any outcome a draw can
 * have is what some draw gives, so natsim takes the outcome whose branch can NAT the packet to
 * what the kernel sent, and says so in the trace; when no branch (or every branch) can, it
 * draws its own. This is the rule-level twin of nat/unique-tuple.ts followRecording.
 *
 * What a branch can do is read from the ruleset once: the NAT statements reachable from a
 * rule's action (through jump, goto and verdict maps), each with the range it maps into.
 */
import { compareInetAddr, formatInetAddrPort } from '../../packet/inet-addr.js';
import type { WireTuple } from '../net.js';
import { NatFlag, type Action, type Chain, type KeyExpr, type Match, type NatRange, type Ruleset, type Table, type VerdictAction } from './model.js';
import { setLookup, type FieldRange, type NftSet } from './nft-set.js';
import { rangeFromData } from './nft-nat.js';

type Numgen = Extract<KeyExpr, { kind: 'numgen' }>;
type Statistic = Extract<Match, { kind: 'random' }>;
type Lookup = Extract<Match, { kind: 'lookup' }>;
/** What a random choice leads to: the rule's action when it holds, the rules after it when not. */
interface Branches {
  readonly taken: readonly NatTarget[];
  readonly after: readonly NatTarget[];
}

/** A NAT statement a branch can reach: which end it maps, and where to. */
interface NatTarget {
  readonly manip: 'src' | 'dst';
  /** null: masquerade or redirect, whose address the range does not say. */
  readonly range: NatRange | null;
}

/** xt_statistic's threshold for a probability of 1: every draw below it (random31 < 2^31). */
const ALWAYS = 0x80000000;

export class DrawFollower {
  /** For a statistic match: what the rule's action can NAT to when it holds, and what the rules after it can when it does not. */
  private readonly statistic = new Map<Statistic, Branches>();
  /** For a `meta random` comparison whose outcome the draw decides (randomLookupIsChance). */
  private readonly randomLookup = new Map<Lookup, Branches>();
  /** For a numgen that alone keys a verdict map: per value (less the offset), what its element's verdict can NAT to. */
  private readonly numgen = new Map<Numgen, (readonly NatTarget[])[]>();
  private readonly memo = new Map<Chain, readonly NatTarget[]>();
  /** The numgens whose map's data are the NAT target itself (not a verdict leading to one). */
  private readonly natData = new Set<Numgen>();
  /** The chains chainTargets is reading the called chains of. */
  private readonly open = new Set<Chain>();

  constructor(
    ruleset: Ruleset,
    /** What the kernel sent for the packet being evaluated (NetfilterNet.recorded). */
    private readonly recorded: () => WireTuple | null,
  ) {
    for (const table of ruleset.tables) {
      for (const chain of table.chains.values()) {
        // from the last rule up, what the rules after each one can NAT to (a match that fails)
        let after: readonly NatTarget[] = [];
        for (let i = chain.rules.length - 1; i >= 0; i--) {
          const rule = chain.rules[i]!;
          const a = rule.action;
          if (!a) continue;
          const taken = this.actionTargets(table, a);
          for (const m of rule.matches) {
            if (m.kind === 'random') this.statistic.set(m, { taken, after });
            else if (m.kind === 'lookup' && randomLookupIsChance(m)) this.randomLookup.set(m, { taken, after });
          }
          after = after.concat(taken);
          // a numgen that alone keys a verdict map, or the map a NAT statement takes its target from
          const keyed = a.kind === 'vmap' ? { key: a.key, map: a.map } : (a.kind === 'snat' || a.kind === 'dnat') && a.map ? { key: a.map.key, map: a.map.set } : null;
          const ng = keyed && keyed.key.length === 1 && keyed.key[0]!.kind === 'numgen' ? keyed.key[0] : null;
          if (ng?.kind === 'numgen' && ng.mode === 'random') this.numgen.set(ng, this.valueTargets(table, ng, keyed!.map, a));
        }
      }
    }
  }

  /** The outcome of a statistic match the capture shows, or null to draw. */
  statisticOutcome(m: Statistic, notes: string[] | null): boolean | null {
    if (m.threshold === 0 || m.threshold >= ALWAYS) return null;
    return this.outcome(this.statistic.get(m), 'statistic random', notes);
  }

  /** The outcome of a `meta random` comparison the capture shows, or null to draw. */
  randomLookupOutcome(m: Lookup, notes: string[] | null): boolean | null {
    return this.outcome(this.randomLookup.get(m), 'meta random', notes);
  }

  private outcome(branches: Branches | undefined, what: string, notes: string[] | null): boolean | null {
    const wire = this.recorded();
    if (!wire || !branches) return null;
    const taken = leadsTo(branches.taken, wire);
    const after = leadsTo(branches.after, wire);
    // only when one outcome leads where the kernel sent it and the other cannot
    if (taken === null || after === null || taken === after) return null;
    notes?.push(`${what}: ${taken ? 'matched' : 'did not match'} as in the capture (${taken ? "the rule's branch" : 'the rules after it'} NAT the packet to ${wireText(wire)}, where the kernel sent it)`);
    return taken;
  }

  /** The value of a numgen the capture shows (one of those whose element leads there), or null to draw. */
  numgenValue(ng: Numgen, draw: (n: number) => number, notes: string[] | null): number | null {
    const wire = this.recorded();
    const perValue = this.numgen.get(ng);
    if (!wire || !perValue) return null;
    const fits: number[] = [];
    perValue.forEach((targets, v) => {
      if (leadsTo(targets, wire) === true) fits.push(v);
    });
    if (fits.length === 0 || fits.length === perValue.length) return null;
    const value = fits[fits.length === 1 ? 0 : draw(fits.length)]! + ng.offset;
    notes?.push(`numgen random mod ${ng.modulus}: ${value} as in the capture (its element ${this.natData.has(ng) ? 'is the NAT target' : "'s branch NATs the packet to"} ${wireText(wire)}, where the kernel sent it)`);
    return value;
  }

  /** Per value of the numgen: what its element leads to — the verdict's branch, or the NAT target its data are. */
  private valueTargets(table: Table, ng: Numgen, map: NftSet, a: Action): (readonly NatTarget[])[] {
    const out: (readonly NatTarget[])[] = [];
    const nat = a.kind === 'snat' || a.kind === 'dnat' ? a : null;
    if (nat) this.natData.add(ng);
    for (let v = 0; v < ng.modulus; v++) {
      // the element as the ruleset was loaded (virtual time 0), the catch-all for a value no other holds
      const element = setLookup(map, [v + ng.offset], 0);
      if (nat) out.push(element?.data ? [dataTarget(nat, element.data)] : []);
      else out.push(element?.verdict ? this.actionTargets(table, element.verdict) : []);
    }
    return out;
  }

  /** The NAT statements an action can reach. */
  private actionTargets(table: Table, a: Action | VerdictAction): readonly NatTarget[] {
    switch (a.kind) {
      case 'snat':
      case 'dnat': {
        const map = a.map;
        if (map) return map.set.elements.flatMap((e) => (e.data ? [dataTarget(a, e.data)] : []));
        return [{ manip: a.kind === 'snat' ? 'src' : 'dst', range: a.range }];
      }
      case 'masquerade':
        return [{ manip: 'src', range: null }];
      case 'redirect':
        return [{ manip: 'dst', range: null }];
      case 'jump':
      case 'goto':
        return this.jumpTargets(table, a.chain);
      case 'vmap':
        return a.map.elements.flatMap((e) => (e.verdict ? this.actionTargets(table, e.verdict) : []));
      case 'accept':
      case 'drop':
      case 'return':
      case 'continue':
      case 'reject':
      case 'queue':
        return [];
    }
  }

  /**
   * Every NAT statement of a chain and of the chains it reaches, each once: the called chains
   * are read first, on an explicit stack (a chain jumped to twice is not read twice, and a chain
   * nested 10,000 deep does not recurse). A chain met again while it is open adds nothing new.
   */
  private chainTargets(table: Table, root: Chain): readonly NatTarget[] {
    const open = this.open;
    const todo = [root];
    while (todo.length > 0) {
      const chain = todo[todo.length - 1]!;
      if (this.memo.has(chain)) {
        todo.pop();
        continue;
      }
      const waiting = open.has(chain) ? [] : calledChains(table, chain).filter((c) => !this.memo.has(c) && !open.has(c));
      if (waiting.length > 0) {
        open.add(chain);
        todo.push(...waiting);
        continue;
      }
      todo.pop();
      open.delete(chain);
      this.memo.set(chain, [...new Set(chain.rules.flatMap((r) => (r.action ? this.actionTargets(table, r.action) : [])))]);
    }
    return this.memo.get(root)!;
  }

  /** The NAT statements a jump or goto can reach: the chain's, once read (chainTargets). */
  private jumpTargets(table: Table, name: string): readonly NatTarget[] {
    const chain = table.chains.get(name);
    if (!chain || this.open.has(chain)) return [];
    return this.memo.get(chain) ?? this.chainTargets(table, chain);
  }
}

/** `meta random`, or `meta random & (2^k - 1)`: the draw alone decides the comparison's key. */
export function keyIsRandomDraw(k: KeyExpr): boolean {
  const of = k.kind === 'bitwise' && !k.by && k.xor === 0 && (k.mask & (k.mask + 1)) === 0 ? k.of : k;
  return of.kind === 'meta' && of.key === 'random';
}

/**
 * A `meta random [& MASK] CMP|{ … }` comparison whose outcome the draw decides: some value the
 * draw can give (0 … MASK) matches and some does not. One that always or never holds is left
 * to itself, as a statistic probability of 0 or 1 is.
 */
function randomLookupIsChance(m: Lookup): boolean {
  const k = m.key.length === 1 ? m.key[0]! : null;
  if (k === null || !keyIsRandomDraw(k)) return false;
  const top = k.kind === 'bitwise' ? k.mask : 0xffffffff;
  const ranges = m.set.elements.flatMap((e) => (e.key.length === 1 && typeof e.key[0]!.min === 'number' && typeof e.key[0]!.max === 'number' ? [[Math.max(e.key[0]!.min, 0), Math.min(e.key[0]!.max, top)] as const] : []));
  if (ranges.length !== m.set.elements.length) return false;
  // how many of the values 0 … top the elements hold, overlaps counted once
  let held = 0;
  let next = 0;
  for (const [lo, hi] of ranges.filter(([lo, hi]) => lo <= hi).sort((a, b) => a[0] - b[0])) {
    const from = Math.max(lo, next);
    if (hi >= from) held += hi - from + 1;
    next = Math.max(next, hi + 1);
  }
  return held > 0 && held < top + 1;
}

/** The chains a chain's rules jump or go to, directly or through a verdict map. */
function calledChains(table: Table, chain: Chain): Chain[] {
  const names = chain.rules.flatMap((r) => (r.action?.kind === 'vmap' ? r.action.map.elements.map((e) => e.verdict) : [r.action]));
  return names.flatMap((v) => (v && (v.kind === 'jump' || v.kind === 'goto') ? [table.chains.get(v.chain)].filter((c) => c !== undefined) : []));
}

/**
 * Can one of `targets` have made `wire`? true / false, or null when a masquerade or redirect
 * could have (its address is the host's choice, which a range does not show).
 */
function leadsTo(targets: readonly NatTarget[], wire: WireTuple): boolean | null {
  let unknown = false;
  for (const t of targets) {
    if (t.range === null) {
      unknown = true;
      continue;
    }
    const [addr, port] = t.manip === 'dst' ? [wire.daddr, wire.dport] : [wire.saddr, wire.sport];
    const r = t.range;
    // by the addresses' bits: an IPv6 handle's number says nothing of them
    const addrFits = !(r.flags & NatFlag.MapIps) || (compareInetAddr(r.minAddr, addr) <= 0 && compareInetAddr(addr, r.maxAddr) <= 0);
    const portFits = !(r.flags & NatFlag.ProtoSpecified) || (r.minProto <= port && port <= r.maxProto);
    if (addrFits && portFits) return true;
  }
  return unknown ? null : false;
}

/** The NAT target a map element's data make: the address (range) and, when there, the port (range). */
function dataTarget(a: Extract<Action, { kind: 'snat' | 'dnat' }>, data: readonly FieldRange[]): NatTarget {
  return { manip: a.kind === 'snat' ? 'src' : 'dst', range: rangeFromData(a.range, data) };
}

function wireText(w: WireTuple): string {
  return `${formatInetAddrPort(w.saddr, w.sport)} -> ${formatInetAddrPort(w.daddr, w.dport)}`;
}
