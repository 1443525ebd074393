/**
 * Whether a network namespace runs IPv4 connection tracking, as nf_ct_netns_get decides it.
 *
 * Since 4.10 loading nf_conntrack registers no hook: ipv4_conntrack_ops and nf_defrag_ipv4 are
 * registered in a namespace the first time something there calls nf_ct_netns_get — the
 * checkentry/init function of every match, target or expression that needs an entry on the
 * packet. A NAT chain alone does not (nf_nat_register_fn registers only the NAT core's ops,
 * which let untracked packets pass), nor does NOTRACK (xt_ct_tg_check returns before the get for
 * XT_CT_NOTRACK; nft_notrack has no init). The functions each case mirrors are named below; the
 * switches are exhaustive, so a new kind of match cannot be added without deciding this.
 *
 * Recorded on Linux 6.18 (fixtures/kernel-experiments/conntrack-registration): a table with only a nat chain,
 * or only `notrack`, or `ct state` in an ip6 table, tracks nothing; `ct state`, `ct mark` in an ip
 * or inet table, or a masquerade rule, does.
 */
import type { Action, Effect, KeyExpr, Match, Table } from '../rules/model.js';
import type { IpvsServiceSpec } from '../ipvs/service.js';

/**
 * True when the tables a family's hooks see (model.ts tablesOfFamily: an inet table's rules get
 * both families, nf_ct_netns_inet_get; an ip6 table's only IPv6) or the IPVS services make the
 * kernel call nf_ct_netns_get for that family.
 */
export function conntrackWanted(tables: readonly Table[], services: readonly IpvsServiceSpec[]): boolean {
  return tables.some(tableWantsConntrack) || services.some(ipvsWantsConntrack);
}

/** A table (nft, iptables-nft, iptables-legacy) whose rules ask for conntrack. */
function tableWantsConntrack(table: Table): boolean {
  for (const chain of table.chains.values()) {
    for (const rule of chain.rules) {
      if (rule.matches.some(matchWants) || rule.effects.some(effectWants)) return true;
      if (rule.action && actionWants(rule.action)) return true;
    }
  }
  return false;
}

function matchWants(m: Match): boolean {
  switch (m.kind) {
    case 'mark':
      // xt_connmark_mt_check / nft_ct_get_init for ct mark; a packet mark needs nothing.
      return m.of === 'conn';
    case 'ctstate':
      // conntrack_mt_check (-m conntrack), state_mt_check (-m state), nft_ct_get_init (ct state).
      return true;
    case 'lookup':
      return m.key.some(keyWants);
    case 'dynset':
      return m.key.some(keyWants) || (m.data?.some(keyWants) ?? false);
    case 'saddr':
    case 'daddr':
    case 'iifname':
    case 'oifname':
    case 'l4proto':
    case 'sport':
    case 'dport':
    case 'addrtype':
    case 'physdev':
    case 'random':
    case 'nth':
    case 'tcpflags':
    case 'icmptype':
    case 'ipset':
    case 'recent':
      return false;
    case 'xt':
      return m.module.needsConntrack;
    case 'nft':
      // nft_ct_helper_obj_init, nft_flow_offload_init, nft_ct_set_init (ct mark set … map)
      return m.expr.needsConntrack;
  }
}

function effectWants(e: Effect): boolean {
  switch (e.kind) {
    case 'mark':
      // connmark_tg_check (CONNMARK --set-mark) / nft_ct_set_init (ct mark set).
      return e.of === 'conn';
    case 'copymark':
      // connmark_tg_check (CONNMARK --save-mark / --restore-mark).
      return true;
    case 'log':
    case 'notrack':
    case 'nftrace':
      return false;
    case 'xt':
      return e.target.needsConntrack;
  }
}

function actionWants(a: Action): boolean {
  switch (a.kind) {
    case 'snat':
    case 'dnat':
    case 'masquerade':
    case 'redirect':
      // xt_nat_checkentry, masquerade_tg_check, redirect_tg4_check; nft_nat_init, nft_masq_init,
      // nft_redir_init: every NAT statement gets conntrack for its family.
      return true;
    case 'vmap':
      return a.key.some(keyWants);
    case 'accept':
    case 'drop':
    case 'return':
    case 'continue':
    case 'jump':
    case 'goto':
    case 'reject':
    case 'queue':
      return false;
  }
}

function keyWants(k: KeyExpr): boolean {
  switch (k.kind) {
    case 'saddr':
    case 'daddr':
    case 'l4proto':
    case 'sport':
    case 'dport':
    case 'numgen':
    case 'meta':
    case 'payload':
    case 'tcpopt':
    case 'const':
    case 'fib':
    case 'exthdr6':
      return false;
    case 'ct':
      // nft_ct_get_init calls nf_ct_netns_get for every key
      return true;
    case 'bitwise':
    case 'mask128':
      return keyWants(k.of);
  }
}

/**
 * ip_vs_register_conntrack is called from __ip_vs_update_dest for a NAT (masq) real server of a
 * service on port 21 only (FTP-NAT mangles through conntrack); net.ipv4.vs.conntrack by itself
 * registers nothing — it only keeps an entry that something else created.
 */
function ipvsWantsConntrack(svc: IpvsServiceSpec): boolean {
  return svc.key.kind === 'addr' && svc.key.port === 21 && svc.dests.some((d) => d.method === 'masq');
}
