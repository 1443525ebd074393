/**
 * `-m nfacct --nfacct-name NAME` (net/netfilter/xt_nfacct.c, nfacct_mt): counts the packet in
 * the namespace's accounting object of that name (nfnl_acct_update: packets + 1, bytes +
 * skb->len) and matches unless the object has a quota it is still under.
 * The kernel refuses the rule when the object does not exist (nfacct_mt_checkentry, -ENOENT);
 * it is made beforehand with `nfacct add NAME` (kube-proxy does it through netlink), which
 * iptables-save does not record. natsim takes every object a rule names as made so, without a
 * quota — what `nfacct add NAME` makes — so the match always holds.
 */
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import type { Match, Rule, XtMatch } from './model.js';
import { noInvert, type XtCheck, type XtMatchOptions } from './xt-options.js';

/** struct nf_acct without a quota: its counters. */
export interface NfAcct {
  readonly name: string;
  packets: number;
  bytes: number;
}

export type NfAcctObjects = Map<string, NfAcct>;

/** NFACCT_NAME_MAX, the terminating NUL included. */
const NAME_MAX = 32;

class XtNfacct implements XtMatch {
  readonly name = 'nfacct';
  readonly stateful = true;
  readonly needsConntrack = false;

  constructor(private readonly acct: NfAcct) {}

  /** nfacct_mt: nfnl_acct_update, then NFACCT_NO_QUOTA, which is not NFACCT_UNDERQUOTA: a match. */
  match(ctx: RuleContext, rule: Rule): boolean {
    const a = this.acct;
    a.packets++;
    a.bytes += ctx.skb.pkt.length;
    ctx.state.notes?.push(`NFACCT ${a.name}: pkts ${a.packets} bytes ${a.bytes} (rule "${rule.text}")`);
    return true;
  }
}

export class NfacctOptions implements XtMatchOptions {
  private objectName: string | null = null;

  read(r: OptionReader): boolean {
    if (r.option !== '--nfacct-name') return false;
    noInvert(r, '-m nfacct');
    const name = r.value();
    if (name === '' || name.length >= NAME_MAX) r.fail(`--nfacct-name needs 1 to ${NAME_MAX - 1} characters, got '${name}'`);
    this.objectName = name;
    return true;
  }

  /** nfnl_acct_find_get: the namespace's object of that name, shared by every rule naming it. */
  build(check: XtCheck): Match {
    const name = this.objectName ?? check.fail('-m nfacct needs --nfacct-name');
    const objects = check.namespace.nfacct;
    let acct = objects.get(name);
    if (acct === undefined) objects.set(name, (acct = { name, packets: 0, bytes: 0 }));
    return { kind: 'xt', module: new XtNfacct(acct) };
  }
}
