/**
 * The `masq` trace style, after the seed "Linux NAT Masquerade 研究(下)": the show_status()
 * lines its author added around nf_nat_masquerade_ipv4, printed whenever a NAT rule binds a
 * connection. Like that printk, the ports are the tuple's u.tcp.port fields read with ntohs,
 * so for ICMP the "src-port" is the echo id and the "dst-port" is type << 8 | code.
 * The seed's printk is IPv4's (%pI4); an IPv6 tuple is printed the way %pI6c would, its fields
 * named src-ipv6/dst-ipv6 — natsim's extension, as the seed has no IPv6 module.
 */
import { formatInetAddr } from '../packet/inet-addr.js';
import { isIpv6 } from '../packet/ipv6-addr.js';
import type { CtView, TraceEvent, TupleView } from './events.js';
import { dmesgPrefix } from './format-common.js';
import type { Palette } from './palette.js';

export function masqStyle(e: TraceEvent, c: Palette): string[] {
  if (e.kind !== 'hook' || !e.nat || e.nat.kind === 'null' || !e.ct || !e.ctBefore) return [];
  const ts = dmesgPrefix(e.time, null);
  const out = e.nat.outdev ?? (e.nat.kind === 'dnat' ? '(none)' : '');
  return [ts + 'before nat', ...status(ts, e.ctBefore, out), ts + c.changed('after nat'), ...status(ts, e.ct, out)];
}

function status(ts: string, ct: CtView, out: string): string[] {
  return [ts + `ORIGINAL: outgoing interface: ${out}, ${tuple(ct.orig)}`, ts + `REPLY: outgoing interface: ${out}, ${tuple(ct.reply)}`];
}

function tuple(t: TupleView): string {
  const family = isIpv6(t.src) ? 'ipv6' : 'ipv4';
  return `src-${family}:${formatInetAddr(t.src)}, src-port:${t.srcU}, dst-${family}:${formatInetAddr(t.dst)}, dst-port:${t.dstU}`;
}
