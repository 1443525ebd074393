/**
 * `-m hashlimit` (net/netfilter/xt_hashlimit.c, revision 3 as iptables 1.8 loads it): a token
 * bucket per key, the key being the packet's masked source and/or destination address and/or
 * ports as --hashlimit-mode says (no mode: one bucket for every packet). Buckets live in a hash
 * table of the network namespace named by --hashlimit-name; rules naming the same table share
 * it, with the configuration of the first (htable_find_get). --hashlimit-upto matches while a
 * bucket has credit, --hashlimit-above once it has run out (XT_HASHLIMIT_INVERT).
 * Credits are u64 (CREDITS_PER_JIFFY = 2^39 at HZ 250), kept as bigint; a bucket not seen for
 * --hashlimit-htable-expire ms (by default one unit of the rate: 1 s for N/sec) is freed by
 * the garbage collector, which runs every
 * --hashlimit-htable-gcinterval ms; a table holding --hashlimit-htable-max buckets drops the
 * packets of new keys (hotdrop). ip6tables' tables key on IPv6 addresses masked to
 * --hashlimit-srcmask/--hashlimit-dstmask bits (0..128, default 128; iptables' 0..32, default
 * 32); the two families' tables are apart even under one name. Byte rates (b/s, kb/s, mb/s) and
 * --hashlimit-rate-match are refused.
 */
import { formatInetAddr, inetPrefixAddr } from '../../packet/inet-addr.js';
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import { HZ, jiffiesAt, msecsToJiffies } from './jiffies.js';
import { NFPROTO_IPV6, type Match, type NfProto, type Rule, type XtMatch } from './model.js';
import { noInvert, wholeOption, type XtCheck, type XtMatchOptions } from './xt-options.js';

/** XT_HASHLIMIT_SCALE_v2: revision 2 and 3 rates are in µs per packet. */
const SCALE = 1000000n;

/** CREDITS_PER_JIFFY: POW2_BELOW64(MAX_CPJ), MAX_CPJ = U64_MAX / (HZ × one day). */
function creditsPerJiffy(): bigint {
  const maxCpj = 0xffffffffffffffffn / BigInt(HZ * 60 * 60 * 24);
  let p = 1n;
  while (p * 2n <= maxCpj) p *= 2n;
  return p;
}
const CPJ = creditsPerJiffy();

/** user2credits (revision ≥ 2): the constant factors divided first, as the kernel avoids overflow. */
export function hashlimitCredits(user: bigint): bigint {
  const hzCpj = BigInt(HZ) * CPJ;
  return SCALE >= hzCpj ? user / (SCALE / hzCpj) : BigInt.asUintN(64, user * (hzCpj / SCALE));
}

/** XT_HASHLIMIT_HASH_DIP, _DPT, _SIP, _SPT. */
const Mode = { DstIp: 1, DstPort: 2, SrcIp: 4, SrcPort: 8 } as const;
const MODE_NAME: Readonly<Record<string, number>> = { dstip: Mode.DstIp, dstport: Mode.DstPort, srcip: Mode.SrcIp, srcport: Mode.SrcPort };

/** struct hashlimit_cfg3, the parts packet-rate mode reads. */
interface HashlimitConfig {
  readonly mode: number;
  /** µs per packet. */
  readonly avg: bigint;
  readonly burst: number;
  readonly srcmask: number;
  readonly dstmask: number;
  /** Milliseconds. */
  readonly expire: number;
  readonly gcInterval: number;
  readonly max: number;
}

/**
 * struct dsthash_dst: what the mode keys on, the rest 0 — each address masked (an IPv4 u32 or
 * an IPv6 handle), each port.
 */
export interface DsthashDst {
  readonly src: number;
  readonly dst: number;
  readonly sport: number;
  readonly dport: number;
}

/** struct dsthash_ent: its key, rateinfo and expiry. */
export interface Bucket {
  readonly dst: DsthashDst;
  expires: number;
  prev: number;
  credit: bigint;
  readonly creditCap: bigint;
  readonly cost: bigint;
}

/** struct xt_hashlimit_htable: the first rule's configuration and the buckets by key. */
export class HashlimitTable {
  readonly buckets = new Map<string, Bucket>();
  /** The jiffy of the garbage collector's next run (htable_gc). */
  private nextGc: number;

  constructor(
    readonly name: string,
    readonly cfg: HashlimitConfig,
  ) {
    this.nextGc = msecsToJiffies(cfg.gcInterval);
  }

  /**
   * htable_gc, run lazily: the runs due by `now` free every bucket expired at the last of them
   * (no packet came in between, so the earlier runs freed a subset of those). The kernel queues
   * it as deferrable work, which an idle CPU may run a little late; natsim runs it on time.
   */
  collect(now: number): void {
    if (now < this.nextGc) return;
    const interval = msecsToJiffies(this.cfg.gcInterval);
    const last = this.nextGc + Math.floor((now - this.nextGc) / interval) * interval;
    for (const [key, b] of this.buckets) if (last >= b.expires) this.buckets.delete(key);
    this.nextGc = last + interval;
  }
}

export type HashlimitTables = Map<string, HashlimitTable>;

/**
 * hashlimit_init_dst: the addresses masked as the mode says (maskl for IPv4,
 * hashlimit_ipv6_mask for IPv6: the address is an IPv6 handle, the masked one too) and the
 * ports, as one key.
 */
function hashlimitInitDst(cfg: HashlimitConfig, ctx: RuleContext): DsthashDst {
  const p = ctx.skb.pkt;
  const mode = cfg.mode;
  const dst = mode & Mode.DstIp ? inetPrefixAddr(p.daddr, cfg.dstmask) : 0;
  const src = mode & Mode.SrcIp ? inetPrefixAddr(p.saddr, cfg.srcmask) : 0;
  // proto_ports_offset: ports for TCP, UDP, UDP-Lite, SCTP (and DCCP); 0 for the others
  const ports = p.hasPorts();
  const sport = mode & Mode.SrcPort && ports ? p.sport : 0;
  const dport = mode & Mode.DstPort && ports ? p.dport : 0;
  return { src, dst, sport, dport };
}

/** The buckets map's key for a dsthash_dst (one address, one handle: equal keys, equal structs). */
function keyOf(d: DsthashDst): string {
  return `${d.src}/${d.dst}/${d.sport}/${d.dport}`;
}

export class XtHashlimit implements XtMatch {
  readonly name = 'hashlimit';
  readonly stateful = true;
  readonly needsConntrack = false;

  constructor(
    readonly table: HashlimitTable,
    /** --hashlimit-above (XT_HASHLIMIT_INVERT). */
    private readonly above: boolean,
  ) {}

  /** hashlimit_mt_common in packet mode: find or make the key's bucket, refill it, spend one packet's cost. */
  match(ctx: RuleContext, rule: Rule): boolean {
    const t = this.table;
    const cfg = t.cfg;
    const now = jiffiesAt(ctx.skb.time);
    t.collect(now);
    const dst = hashlimitInitDst(cfg, ctx);
    const key = keyOf(dst);
    let b = t.buckets.get(key);
    if (b === undefined) {
      // dsthash_alloc_init: a full table cannot take the key; the packet is dropped
      if (t.buckets.size >= cfg.max) {
        ctx.hotdrop = `hashlimit ${t.name}: max count of ${cfg.max} reached (rule "${rule.text}")`;
        return false;
      }
      b = rateinfoInit(cfg, dst, now);
      t.buckets.set(key, b);
    } else rateinfoRecalc(b, now);
    b.expires = now + msecsToJiffies(cfg.expire);
    const under = b.credit >= b.cost;
    if (under) b.credit -= b.cost;
    ctx.state.notes?.push(`HASHLIMIT ${t.name} ${describeKey(cfg, dst)}: ${under ? 'under' : 'over'} the limit (rule "${rule.text}")`);
    return under !== this.above;
  }
}

/** rateinfo_init: a full bucket. */
function rateinfoInit(cfg: HashlimitConfig, dst: DsthashDst, now: number): Bucket {
  const credit = hashlimitCredits(BigInt.asUintN(64, cfg.avg * BigInt(cfg.burst)));
  return { dst, expires: 0, prev: now, credit, creditCap: credit, cost: hashlimitCredits(cfg.avg) };
}

/** rateinfo_recalc: CREDITS_PER_JIFFY per jiffy since the last packet, capped. */
function rateinfoRecalc(b: Bucket, now: number): void {
  const delta = now - b.prev;
  if (delta === 0) return;
  b.prev = now;
  const credit = BigInt.asUintN(64, b.credit + BigInt(delta) * CPJ);
  b.credit = credit > b.creditCap ? b.creditCap : credit;
}

/** The key as the trace names it: the parts the mode keys on, each address with its mask. */
function describeKey(cfg: HashlimitConfig, d: DsthashDst): string {
  const parts: string[] = [];
  if (cfg.mode & Mode.SrcIp) parts.push(`src ${formatInetAddr(d.src)}/${cfg.srcmask}`);
  if (cfg.mode & Mode.SrcPort) parts.push(`sport ${d.sport}`);
  if (cfg.mode & Mode.DstIp) parts.push(`dst ${formatInetAddr(d.dst)}/${cfg.dstmask}`);
  if (cfg.mode & Mode.DstPort) parts.push(`dport ${d.dport}`);
  return parts.length === 0 ? 'key (all packets)' : `key ${parts.join(' ')}`;
}

const UNITS: readonly (readonly [string, bigint])[] = [
  ['second', 1n],
  ['minute', 60n],
  ['hour', 3600n],
  ['day', 86400n],
];

/**
 * libxt_hashlimit's parse_rate (revision 3): N[/UNIT] to µs per packet, and the unit in seconds
 * (udata->mult, of which the default --hashlimit-htable-expire is made).
 */
function parseRate(r: OptionReader): { readonly avg: bigint; readonly unitSeconds: number } {
  const text = r.value();
  if (/b\/s$/i.test(text)) r.fail(`byte-based rates ('${text}') are not modelled by natsim yet`);
  const m = /^(\d+)(?:\/([a-z]+))?$/i.exec(text);
  const unit = m?.[2] === undefined ? UNITS[0] : UNITS.find(([name]) => name.startsWith(m[2]!.toLowerCase()));
  if (!m || unit === undefined || BigInt(m[1]!) === 0n) return r.fail(`bad rate '${text}' (N/second, N/minute, N/hour or N/day)`);
  const avg = (SCALE * unit[1]) / BigInt(m[1]!);
  return avg === 0n ? r.fail(`rate too fast '${text}'`) : { avg, unitSeconds: Number(unit[1]) };
}

/** The bits of the family's address: hashlimit_mt_check_common's bound on the masks. */
function addrBits(family: NfProto): number {
  return family === NFPROTO_IPV6 ? 128 : 32;
}

/** IFNAMSIZ: the table's name with its NUL. */
const NAME_SIZE = 16;

/**
 * htable_create's defaults on a machine with more than 1 GiB of memory: 8192 hash buckets,
 * so at most 8 × 8192 entries.
 */
const DEFAULT_SIZE = 8192;

/** -m hashlimit's options as libxt_hashlimit's hashlimit_mt_save prints them. */
export class HashlimitOptions implements XtMatchOptions {
  private avg: bigint | null = null;
  private above = false;
  private burst = 5;
  private mode = 0;
  private name: string | null = null;
  /** Null: the family's whole address (libxt_hashlimit's init: 32, or 128 for ip6tables). */
  private srcmask: number | null = null;
  private dstmask: number | null = null;
  private size = DEFAULT_SIZE;
  private max = 0;
  /**
   * Null: hashlimit_mt_check_v2's default, one unit of the rate (`udata->mult * 1000` ms: 1 s
   * for N/sec, 60 s for N/min); iptables-save leaves it out exactly when it is that (the
   * quantum print_rate returns), so the text read back means the same.
   */
  private expire: number | null = null;
  private unitSeconds = 1;
  private gcInterval = 1000;

  read(r: OptionReader): boolean {
    if (r.option === '--hashlimit-upto' || r.option === '--hashlimit' || r.option === '--hashlimit-above') {
      // libxt_hashlimit: `! --hashlimit-upto` is --hashlimit-above and the other way round
      this.above = (r.option === '--hashlimit-above') !== r.negate;
      ({ avg: this.avg, unitSeconds: this.unitSeconds } = parseRate(r));
      return true;
    }
    if (!r.option.startsWith('--hashlimit-')) return false;
    if (r.option === '--hashlimit-rate-match' || r.option === '--hashlimit-rate-interval') r.fail(`${r.option} (rate measurement mode) is not modelled by natsim yet`);
    noInvert(r, '-m hashlimit');
    this.setting(r);
    return true;
  }

  private setting(r: OptionReader): void {
    switch (r.option) {
      case '--hashlimit-burst':
        this.burst = wholeOption(r, 1, 0xffffffff);
        return;
      case '--hashlimit-mode':
        this.mode = 0;
        for (const name of r.value().split(',')) this.mode |= MODE_NAME[name] ?? r.fail(`unknown --hashlimit-mode '${name}' (srcip, srcport, dstip, dstport)`);
        return;
      case '--hashlimit-name': {
        const name = r.value();
        if (name === '' || name.length >= NAME_SIZE) r.fail(`--hashlimit-name needs 1 to ${NAME_SIZE - 1} characters, got '${name}'`);
        this.name = name;
        return;
      }
      case '--hashlimit-srcmask':
        this.srcmask = wholeOption(r, 0, addrBits(r.nfproto));
        return;
      case '--hashlimit-dstmask':
        this.dstmask = wholeOption(r, 0, addrBits(r.nfproto));
        return;
      case '--hashlimit-htable-size':
        this.size = wholeOption(r, 0, 0xffffffff) || DEFAULT_SIZE;
        return;
      case '--hashlimit-htable-max':
        this.max = wholeOption(r, 0, 0xffffffff);
        return;
      case '--hashlimit-htable-expire':
        this.expire = wholeOption(r, 0, 0xffffffff);
        return;
      case '--hashlimit-htable-gcinterval':
        this.gcInterval = wholeOption(r, 0, 0xffffffff);
        return;
      default:
        r.fail(`unknown -m hashlimit option '${r.option}'`);
    }
  }

  /**
   * hashlimit_mt_check_common: nonzero intervals, the overflow test (-ERANGE); then the
   * namespace's table of that name and family, made with this rule's configuration if it is
   * the first (htable_create: max 0 means 8 × size, and never below size). The namespace given
   * is the family's (ip6tables-save text is read apart from iptables-save's), as
   * htable_find_get compares the family with the name.
   */
  build(check: XtCheck): Match {
    const avg = this.avg ?? check.fail('-m hashlimit needs --hashlimit-upto or --hashlimit-above');
    const name = this.name ?? check.fail('-m hashlimit needs --hashlimit-name');
    const expire = this.expire ?? this.unitSeconds * 1000;
    if (expire === 0 || this.gcInterval === 0) check.fail('the kernel refuses a --hashlimit-htable-expire or --hashlimit-htable-gcinterval of 0');
    if (hashlimitCredits(BigInt.asUintN(64, avg * BigInt(this.burst))) < hashlimitCredits(avg)) check.fail(`the kernel refuses this hashlimit: overflow, try lower (${avg}/${this.burst})`);
    let table = check.namespace.hashlimit.get(name);
    if (table === undefined) {
      const max = this.max === 0 ? 8 * this.size : Math.max(this.max, this.size);
      const bits = addrBits(check.family);
      const cfg = { mode: this.mode, avg, burst: this.burst, srcmask: this.srcmask ?? bits, dstmask: this.dstmask ?? bits, expire, gcInterval: this.gcInterval, max };
      check.namespace.hashlimit.set(name, (table = new HashlimitTable(name, cfg)));
    }
    return { kind: 'xt', module: new XtHashlimit(table, this.above) };
  }
}
