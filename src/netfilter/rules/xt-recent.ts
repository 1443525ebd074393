/**
 * `-m recent` (net/netfilter/xt_recent.c): per network namespace, tables of recently seen
 * addresses, each shared by every rule that names it. `--set` records the packet's source (or
 * destination) address, `--rcheck` matches an address seen within `--seconds` (and at least
 * `--hitcount` times), `--update` does the same and records the sighting, `--remove` forgets
 * the address. kube-proxy's iptables mode keeps session affinity this way: `--set` in the
 * endpoint chain, `--rcheck --seconds T --reap` in the service chain.
 * Times are natsim's virtual nanoseconds where the kernel counts jiffies. ip6tables' rules
 * record IPv6 addresses (an entry's nf_inet_addr and family), masked by an IPv6 --mask, and
 * compare the hop limit where iptables' compare the TTL.
 */
import { formatInetAddr, maskInetAddr } from '../../packet/inet-addr.js';
import { parseIpv4 } from '../../packet/ipv4-addr.js';
import { parseIpv6 } from '../../packet/ipv6-addr.js';
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import { NFPROTO_IPV6, type Match, type NfProto, type Rule } from './model.js';

const NS_PER_SEC = 1e9;

/** ip_list_tot, the module parameter's default: a table remembers at most 100 addresses. */
export const IP_LIST_TOT = 100;

/** XT_RECENT_MAX_NSTAMPS: --hitcount must stay below it. */
const MAX_NSTAMPS = 65536;

/** XT_RECENT_NAME_LEN, the terminating NUL included. */
const NAME_LEN = 200;

/** struct recent_entry: an address, the TTL it was last recorded with, and when it was seen. */
interface RecentEntry {
  ttl: number;
  /** The sightings, a ring of nstamps_max_mask + 1 slots; `index` is one past the newest. */
  readonly stamps: Float64Array;
  index: number;
  nstamps: number;
}

/** struct recent_table: created by the first rule naming it, with that rule's --mask. */
export class RecentTable {
  /**
   * Keyed by the masked address (an IPv4 u32 or an IPv6 handle: one address, one key); iteration
   * order is the LRU list, least recently seen first.
   */
  readonly entries = new Map<number, RecentEntry>();

  constructor(
    readonly name: string,
    /** t->mask: an address of the rules' family, ANDed with the packet's (nf_inet_addr_mask). */
    readonly mask: number,
    /** How many sightings an entry keeps, minus one (a power of two minus one). */
    public nstampsMaxMask: number,
  ) {}
}

/** The namespace's tables by name (struct recent_net). */
export type RecentTables = Map<string, RecentTable>;

/** --rcheck and --update's conditions (XT_RECENT_CHECK / XT_RECENT_UPDATE and their modifiers). */
export interface RecentCheck {
  /** 0: any sighting counts, however old. */
  readonly seconds: number;
  /** 0: one sighting is enough. */
  readonly hitCount: number;
  /** --reap: also forget the least recently seen address if it is older than --seconds. */
  readonly reap: boolean;
  /** --rttl: only an address recorded with the packet's TTL. */
  readonly rttl: boolean;
}

export type RecentCommand = { readonly op: 'set' } | { readonly op: 'remove' } | { readonly op: 'rcheck' | 'update'; readonly check: RecentCheck };

type RecentMatch = Extract<Match, { kind: 'recent' }>;

/** recent_mt: whether the rule's recent condition holds, after recording what the command records. */
export function recentMatch(m: RecentMatch, rule: Rule, ctx: RuleContext): boolean {
  const p = ctx.skb.pkt;
  const t = m.table;
  const addr = maskInetAddr(m.side === 'dst' ? p.daddr : p.saddr, t.mask);
  // use TTL as seen before forwarding: a packet not made by a local socket, past routing
  const ttl = ctx.state.out !== null && ctx.skb.indev !== null ? (p.ttl + 1) & 0xff : p.ttl;
  const now = ctx.skb.time;
  const cmd = m.command;
  // recent_entry_lookup compares TTLs only for --rttl (0 agrees with any)
  const e = entryLookup(t, addr, 'check' in cmd && cmd.check.rttl ? ttl : 0);
  if (e === undefined) {
    if (cmd.op !== 'set') return m.negate;
    entryInit(t, addr, ttl, now);
    ctx.state.notes?.push(`RECENT ${t.name}: ${formatInetAddr(addr)} recorded (rule "${rule.text}")`);
    return !m.negate;
  }
  let ret = m.negate;
  if (cmd.op === 'set') {
    ret = !ret;
  } else if (cmd.op === 'remove') {
    t.entries.delete(addr);
    ctx.state.notes?.push(`RECENT ${t.name}: ${formatInetAddr(addr)} removed (rule "${rule.text}")`);
    ret = !ret;
  } else {
    const since = now - cmd.check.seconds * NS_PER_SEC;
    if (seenEnough(e, cmd.check, since)) {
      ret = !ret;
      ctx.state.notes?.push(`RECENT ${t.name}: ${formatInetAddr(addr)} seen ${secondsAgo(e, t, now)} s ago (rule "${rule.text}")`);
    }
    const reaped = cmd.check.reap ? entryReap(t, since, e, cmd.op === 'update' && ret) : null;
    if (reaped !== null) ctx.state.notes?.push(`RECENT ${t.name}: ${formatInetAddr(reaped)} reaped, not seen for ${cmd.check.seconds} s (rule "${rule.text}")`);
  }
  if (cmd.op === 'set' || (cmd.op === 'update' && ret)) {
    entryUpdate(t, addr, e, now);
    e.ttl = ttl;
  }
  return ret;
}

/** recent_entry_lookup: the address's entry, if its TTL agrees (0 on either side agrees with any). */
function entryLookup(t: RecentTable, addr: number, ttl: number): RecentEntry | undefined {
  const e = t.entries.get(addr);
  return e !== undefined && (ttl === e.ttl || ttl === 0 || e.ttl === 0) ? e : undefined;
}

/** The sighting loop of recent_mt: `hitCount` sightings (one if 0) no older than `since` (any if seconds is 0). */
function seenEnough(e: RecentEntry, check: RecentCheck, since: number): boolean {
  let hits = 0;
  for (let i = 0; i < e.nstamps; i++) {
    if (check.seconds !== 0 && since > e.stamps[i]!) continue;
    if (check.hitCount === 0 || ++hits >= check.hitCount) return true;
  }
  return false;
}

function secondsAgo(e: RecentEntry, t: RecentTable, now: number): string {
  return ((now - e.stamps[(e.index - 1) & t.nstampsMaxMask]!) / NS_PER_SEC).toFixed(3);
}

/** recent_entry_init: a new entry seen now, evicting the least recently seen one when the table is full. */
function entryInit(t: RecentTable, addr: number, ttl: number, now: number): void {
  if (t.entries.size >= IP_LIST_TOT) t.entries.delete(t.entries.keys().next().value!);
  const stamps = new Float64Array(t.nstampsMaxMask + 1);
  stamps[0] = now;
  t.entries.set(addr, { ttl, stamps, index: 1, nstamps: 1 });
}

/** recent_entry_update: one more sighting in the ring, and the entry to the end of the LRU list. */
function entryUpdate(t: RecentTable, addr: number, e: RecentEntry, now: number): void {
  e.index &= t.nstampsMaxMask;
  e.stamps[e.index++] = now;
  if (e.index > e.nstamps) e.nstamps = e.index;
  t.entries.delete(addr);
  t.entries.set(addr, e);
}

/**
 * recent_entry_reap: the least recently seen entry goes if its newest sighting is older than
 * `since` — unless it is the entry this packet is about to update. Returns the address reaped.
 */
function entryReap(t: RecentTable, since: number, working: RecentEntry, update: boolean): number | null {
  const [addr, e] = t.entries.entries().next().value!;
  if ((e === working && update) || since <= e.stamps[e.index - 1]!) return null;
  t.entries.delete(addr);
  return addr;
}

/**
 * -m recent's options as iptables-save writes them (libxt_recent's recent_save): one command
 * (--set, --rcheck, --update, --remove, which `!` may precede), --seconds, --reap, --hitcount,
 * --rttl, --name, --mask, --rsource | --rdest. They arrive one by one and make one match when
 * the next module, the target or the end of the rule comes.
 */
export class RecentOptions {
  private op: RecentCommand['op'] | null = null;
  private negate = false;
  private seconds = 0;
  private hitCount = 0;
  private reap = false;
  private rttl = false;
  private name = 'DEFAULT';
  /** Null: all ones (libxt_recent's recent_init), of the family the table is read for. */
  private mask: number | null = null;
  private side: 'src' | 'dst' = 'src';

  /** True when the option was one of -m recent's. */
  read(r: OptionReader): boolean {
    const op = COMMANDS[r.option];
    if (op !== undefined) {
      if (this.op !== null) r.fail('only one of --set, --rcheck, --update or --remove may be given');
      this.op = op;
      this.negate = r.negate;
      return true;
    }
    if (!MODIFIERS.has(r.option)) return false;
    if (r.negate) r.fail(`'!' cannot negate ${r.option} (it goes before --set, --rcheck, --update or --remove)`);
    this.modifier(r);
    return true;
  }

  private modifier(r: OptionReader): void {
    switch (r.option) {
      case '--seconds':
        this.seconds = whole(r, 0xffffffff);
        return;
      case '--hitcount':
        this.hitCount = whole(r, MAX_NSTAMPS - 1);
        return;
      case '--reap':
        this.reap = true;
        return;
      case '--rttl':
        this.rttl = true;
        return;
      case '--name':
        this.name = procName(r);
        return;
      case '--mask': {
        const text = r.value();
        // XTTYPE_HOST: an address of the table's family
        const mask = r.nfproto === NFPROTO_IPV6 ? parseIpv6(text) : parseIpv4(text);
        this.mask = mask ?? r.fail(`bad --mask '${text}' (expected ${r.nfproto === NFPROTO_IPV6 ? 'an IPv6 address' : 'A.B.C.D'})`);
        return;
      }
      default:
        this.side = r.option === '--rdest' ? 'dst' : 'src';
    }
  }

  /**
   * recent_mt_check: the match, bound to the namespace's table of its name (created with this
   * rule's --mask if it is the first); a rule wanting more sightings than the table keeps
   * enlarges it. Throws through `fail` what the kernel refuses with EINVAL. `family`: the
   * family of the rules (and of the namespace's `tables` given, read apart for ip6tables).
   */
  build(tables: RecentTables, family: NfProto, fail: (reason: string) => never): Match {
    const op = this.op ?? fail('-m recent needs one of --set, --rcheck, --update or --remove');
    const modified = this.seconds !== 0 || this.hitCount !== 0 || this.reap || this.rttl;
    if ((op === 'set' || op === 'remove') && modified) fail(`--seconds, --hitcount, --reap and --rttl go with --rcheck or --update, not --${op}`);
    if (this.reap && this.seconds === 0) fail('--reap needs --seconds');
    const nstampsMask = this.hitCount > 0 ? roundupPowerOfTwo(this.hitCount) - 1 : 31;
    let table = tables.get(this.name);
    if (table === undefined) tables.set(this.name, (table = new RecentTable(this.name, this.mask ?? allOnes(family), nstampsMask)));
    else table.nstampsMaxMask = Math.max(table.nstampsMaxMask, nstampsMask);
    const command: RecentCommand = op === 'set' || op === 'remove' ? { op } : { op, check: { seconds: this.seconds, hitCount: this.hitCount, reap: this.reap, rttl: this.rttl } };
    return { kind: 'recent', negate: this.negate, table, side: this.side, command };
  }
}

/** The all-ones address of the family: a --mask that keeps every bit. */
function allOnes(family: NfProto): number {
  return family === NFPROTO_IPV6 ? parseIpv6('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')! : 0xffffffff;
}

const COMMANDS: Readonly<Record<string, RecentCommand['op']>> = { '--set': 'set', '--rcheck': 'rcheck', '--update': 'update', '--remove': 'remove' };

const MODIFIERS = new Set(['--seconds', '--hitcount', '--reap', '--rttl', '--name', '--mask', '--rsource', '--rdest']);

/** xt_check_proc_name: the table is a /proc/net/xt_recent file name. */
function procName(r: OptionReader): string {
  const name = r.value();
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.length >= NAME_LEN) r.fail(`bad --name '${name}' (1 to ${NAME_LEN - 1} characters, no '/', not '.' or '..')`);
  return name;
}

function whole(r: OptionReader, max: number): number {
  const text = r.value();
  const n = Number(text);
  if (!/^\d{1,10}$/.test(text) || n > max) r.fail(`${r.option} needs a whole number up to ${max}, got '${text}'`);
  return n;
}

function roundupPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
