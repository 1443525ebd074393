/**
 * The contract between the iptables-save reader and the x_tables modules that have a file of
 * their own (xt-limit.ts, xt-nflog.ts, …): a module's options arrive one by one, as
 * iptables-save writes them after `-m NAME` or `-j NAME`, and make one match or target when the
 * next module, the target or the end of the rule comes — where the kernel's checkentry runs.
 */
import type { Effect, Match, NfProto, Table } from './model.js';
import type { OptionReader } from './iptables-modules.js';
import type { HashlimitTables } from './xt-hashlimit.js';
import type { NfAcctObjects } from './xt-nfacct.js';

/** What belongs to the network namespace and rules share by name. */
export interface XtNamespace {
  /** xt_hashlimit's hash tables (hashlimit_net.htables), by --hashlimit-name. */
  readonly hashlimit: HashlimitTables;
  /** nfnetlink_acct's objects (nfnl_acct_net.nfnl_acct_list), by --nfacct-name. */
  readonly nfacct: NfAcctObjects;
}

export function newXtNamespace(): XtNamespace {
  return { hashlimit: new Map(), nfacct: new Map() };
}

/** What checkentry sees (struct xt_mtchk_param / xt_tgchk_param) and how it refuses. */
export interface XtCheck {
  readonly table: Table;
  /** par->family: NFPROTO_IPV4 for iptables-save text, NFPROTO_IPV6 for ip6tables-save's. */
  readonly family: NfProto;
  /** The rule's -p (0 for none or a negated one). */
  readonly proto: number;
  /** The rule's matches so far (TCPMSS looks for a SYN match among them). */
  readonly matches: readonly Match[];
  readonly namespace: XtNamespace;
  /** Refuses the rule at the module's name. */
  fail(reason: string): never;
}

/** One module's options for one rule. */
export interface XtMatchOptions {
  /** True when the option is one of the module's (it has then consumed its value). */
  read(r: OptionReader): boolean;
  build(check: XtCheck): Match;
}

export interface XtTargetOptions {
  read(r: OptionReader): boolean;
  build(check: XtCheck): Effect;
}

/** Reads a whole number from `min` to `max`, as xtables' XTTYPE_UINT* options do. */
export function wholeOption(r: OptionReader, min: number, max: number): number {
  const text = r.value();
  const n = Number(text);
  if (!/^\d{1,10}$/.test(text) || n < min || n > max) r.fail(`${r.option} needs a whole number from ${min} to ${max}, got '${text}'`);
  return n;
}

/**
 * xtables' XTTYPE_UINT16RC (libxt_length's --length, libxt_tcpmss's --mss): N, N:M, N: (to
 * 65535) or :M (from 0) — iptables-save prints `--mss 1000:` back as `1000:65535`. Null when
 * the text is none of these.
 */
export function parseU16Range(text: string): { min: number; max: number } | null {
  const m = /^(\d{0,5})(?::(\d{0,5}))?$/.exec(text);
  if (!m || (m[1] === '' && m[2] === undefined)) return null;
  const min = m[1] === '' ? 0 : Number(m[1]);
  const max = m[2] === undefined ? min : m[2] === '' ? 65535 : Number(m[2]);
  return min <= max && max <= 65535 ? { min, max } : null;
}

/** Refuses '!' before an option the module cannot invert. */
export function noInvert(r: OptionReader, module: string): void {
  if (r.negate) r.fail(`${module} cannot invert ${r.option}`);
}
