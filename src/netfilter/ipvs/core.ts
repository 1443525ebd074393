/**
 * IPVS's hook ops (net/netfilter/ipvs/ip_vs_core.c, ip_vs_ops4), registered once a host has a
 * virtual service:
 *   LOCAL_IN   NAT_SRC-2 (98)  ip_vs_out_hook  replies of real servers to local clients
 *   LOCAL_IN   NAT_SRC-1 (99)  ip_vs_in_hook   clients' packets for a VIP of this host
 *   LOCAL_OUT  NAT_DST+1 (-99) ip_vs_out_hook
 *   LOCAL_OUT  NAT_DST+2 (-98) ip_vs_in_hook   this host's own connections to a VIP
 *   FORWARD    100             ip_vs_out_hook  real servers' replies routed through (NAT mode)
 * ICMP errors from real servers about clients' packets are translated back (ip_vs_out_icmp);
 * errors from clients about real servers' packets (ip_vs_in_icmp, ip_vs_forward_icmp at
 * FORWARD 99) are not modelled.
 */
import { Hook, IPPROTO, Priority, Verdict } from '../constants.js';
import type { Host } from '../../host/host.js';
import { icmpSend } from '../../ipv4/icmp.js';
import type { HookState } from '../hooks.js';
import type { Ipv4Skb } from '../skb.js';
import { TcpFlag } from '../../packet/ipv4.js';
import { formatIpv4 } from '../../packet/ipv4-addr.js';
import { IpvsDir, IpvsTcpState, stateName } from './conn-state.js';
import type { IpvsConn } from './conn.js';
import type { Ipvs } from './ipvs.js';
import { schedule } from './schedule.js';
import { notrack, updateConntrack } from './nfct.js';
import { drXmit, natXmit } from './xmit.js';
import { ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, ICMP_SOURCE_QUENCH, ICMP_TIME_EXCEEDED } from '../../packet/icmp.js';

export function registerIpvsHooks(host: Host, ipvs: Ipvs): void {
  const inHook = (skb: Ipv4Skb, state: HookState): Verdict => ipvsInHook(host, ipvs, skb, state);
  const outHook = (skb: Ipv4Skb, state: HookState): Verdict => ipvsOutHook(host, ipvs, skb, state);
  host.hooks.register({ hook: Hook.LocalIn, priority: Priority.NatSrc - 2, name: 'ip_vs_out_hook', kind: 'fn', fn: outHook });
  host.hooks.register({ hook: Hook.LocalIn, priority: Priority.NatSrc - 1, name: 'ip_vs_in_hook', kind: 'fn', fn: inHook });
  host.hooks.register({ hook: Hook.LocalOut, priority: Priority.NatDst + 1, name: 'ip_vs_out_hook', kind: 'fn', fn: outHook });
  host.hooks.register({ hook: Hook.LocalOut, priority: Priority.NatDst + 2, name: 'ip_vs_in_hook', kind: 'fn', fn: inHook });
  host.hooks.register({ hook: Hook.Forward, priority: 100, name: 'ip_vs_out_hook', kind: 'fn', fn: outHook });
}

function handled(proto: number): boolean {
  return proto === IPPROTO.TCP || proto === IPPROTO.UDP;
}

/** ip_vs_in_hook: find or schedule the client's connection and transmit to its real server. */
function ipvsInHook(host: Host, ipvs: Ipvs, skb: Ipv4Skb, state: HookState): Verdict {
  const pkt = skb.pkt;
  if (skb.ipvsProperty || !handled(pkt.proto)) return Verdict.Accept;
  ipvs.expire(skb.time);
  let cp = ipvs.conns.inGet(pkt.proto, pkt.saddr, pkt.sport, pkt.daddr, pkt.dport);
  if (cp && isNewConn(skb) && reuseExpected(cp, ipvs.sysctl('net.ipv4.vs.conn_reuse_mode'))) {
    // A SYN on a finished connection's ports: schedule afresh, unless the packet still
    // belongs to a confirmed conntrack entry, which only a drop (and the client's
    // retransmission) can get rid of.
    const oldCt = skb.ct !== null && skb.ct.confirmed;
    // Only a connection whose conntrack entry must go takes it along when it expires.
    if (!oldCt) cp.nfct = false;
    ipvs.expireNow(cp, skb.time);
    if (oldCt) {
      skb.drop = { reason: 'IPVS: SYN reuses a finished connection still held by a confirmed conntrack entry (conn_reuse_mode)' };
      return Verdict.Drop;
    }
    state.notes?.push(`connection reuse: old entry ${connText(cp)} expired, scheduling again`);
    cp = undefined;
  }
  if (!cp) {
    const svc = schedulable(skb) ? ipvs.findService(skb.mark, pkt.proto, pkt.daddr, pkt.dport) : undefined;
    if (!svc) return Verdict.Accept;
    const local = skb.indev === null || skb.indev.name === 'lo';
    const result = schedule(svc, pkt, { table: ipvs.conns, nfct: ipvs.sysctl('net.ipv4.vs.conntrack') !== 0, now: skb.time, local });
    if (result.kind === 'pass') return Verdict.Accept;
    if (result.kind === 'leave') return leave(host, skb, state, result.why);
    cp = result.cp;
    state.notes?.push(`scheduled by ${svc.spec.scheduler}: ${connText(cp)} (${cp.dest.method === 'masq' ? 'Masq' : 'Route'})`);
  }
  cp.setState(IpvsDir.Input, pkt.tcpFlags);
  ipvs.conns.put(cp, skb.time);
  state.notes?.push(`ipvs conn ${connText(cp)} state ${stateName(cp.proto, cp.state)}`);
  return cp.dest.method === 'masq' ? natXmit(host, skb, cp, state) : drXmit(host, skb, cp, state);
}

/** ip_vs_out_hook: a real server's packet to its client gets the VIP back as source (NAT). */
function ipvsOutHook(host: Host, ipvs: Ipvs, skb: Ipv4Skb, state: HookState): Verdict {
  const pkt = skb.pkt;
  if (skb.ipvsProperty) return Verdict.Accept;
  if (pkt.proto === IPPROTO.ICMP) return outIcmp(host, ipvs, skb, state);
  if (!handled(pkt.proto)) return Verdict.Accept;
  ipvs.expire(skb.time);
  const cp = ipvs.conns.outGet(pkt.proto, pkt.saddr, pkt.sport, pkt.daddr, pkt.dport);
  if (!cp) return Verdict.Accept;
  // handle_response
  if (cp.dest.method === 'masq') {
    if (pkt.hasPorts() && pkt.sport !== cp.vport) pkt.setSport(cp.vport);
    pkt.setSaddr(cp.vaddr);
    state.notes?.push(`handle_response: source -> ${formatIpv4(cp.vaddr)}:${cp.vport}`);
  }
  cp.setState(IpvsDir.Output, pkt.tcpFlags);
  ipvs.conns.put(cp, skb.time);
  state.notes?.push(`ipvs conn ${connText(cp)} state ${stateName(cp.proto, cp.state)}`);
  skb.ipvsProperty = true;
  if (!cp.nfct) notrack(host.nf, skb, state.notes);
  else updateConntrack(skb, cp, false, state.notes);
  return Verdict.Accept;
}

/** The ICMP errors IPVS relates to its connections (ip_vs_out_icmp, ip_vs_in_icmp). */
const ICMP_ERRORS_RELATED = new Set([ICMP_DEST_UNREACH, ICMP_SOURCE_QUENCH, ICMP_TIME_EXCEEDED]);

/**
 * ip_vs_out_icmp + handle_response_icmp: an ICMP error a real server sends about a client's
 * packet (quoting client → real server) is found by the quote, and for NAT gets the VIP as its
 * own source and as the quote's destination (ip_vs_nat_icmp), so the client can match it.
 */
function outIcmp(host: Host, ipvs: Ipvs, skb: Ipv4Skb, state: HookState): Verdict {
  const pkt = skb.pkt;
  if (!ICMP_ERRORS_RELATED.has(pkt.icmpType)) return Verdict.Accept;
  const quoted = pkt.quotedPacket();
  if (typeof quoted === 'string' || !handled(quoted.proto)) return Verdict.Accept;
  ipvs.expire(skb.time);
  // The quote holds the connection's addresses in reverse order.
  const cp = ipvs.conns.outGet(quoted.proto, quoted.daddr, quoted.dport, quoted.saddr, quoted.sport);
  if (!cp) return Verdict.Accept;
  if (cp.dest.method === 'masq') {
    quoted.setDaddr(cp.vaddr);
    if (quoted.dport !== cp.vport) quoted.setDport(cp.vport);
    pkt.refreshIcmpChecksum();
    pkt.setSaddr(cp.vaddr);
    state.notes?.push(`ip_vs_nat_icmp: ICMP error about ${connText(cp)} now from ${formatIpv4(cp.vaddr)}, quoting ${formatIpv4(cp.vaddr)}:${cp.vport}`);
  }
  skb.ipvsProperty = true;
  if (!cp.nfct) notrack(host.nf, skb, state.notes);
  else updateConntrack(skb, cp, false, state.notes);
  return Verdict.Accept;
}

/** tcp_conn_schedule / udp_conn_schedule: only a TCP SYN (without RST) opens a connection. */
function schedulable(skb: Ipv4Skb): boolean {
  if (skb.pkt.proto !== IPPROTO.TCP) return true;
  const flags = skb.pkt.tcpFlags;
  return (flags & TcpFlag.SYN) !== 0 && (flags & TcpFlag.RST) === 0;
}

/** is_new_conn */
function isNewConn(skb: Ipv4Skb): boolean {
  return skb.pkt.proto === IPPROTO.TCP && (skb.pkt.tcpFlags & TcpFlag.SYN) !== 0;
}

/** is_new_conn_expected: a TCP connection in TIME_WAIT or CLOSE (or, mode bit 2, a DR one in FIN_WAIT). */
function reuseExpected(cp: IpvsConn, mode: number): boolean {
  if (mode === 0 || cp.control || cp.proto !== IPPROTO.TCP) return false;
  return cp.state === IpvsTcpState.TimeWait || cp.state === IpvsTcpState.Close || ((mode & 2) !== 0 && cp.state === IpvsTcpState.FinWait && cp.noOutput);
}

/** ip_vs_leave: a service with no usable server answers port unreachable, for TCP too. */
function leave(host: Host, skb: Ipv4Skb, state: HookState, why: string): Verdict {
  state.notes?.push(`ip_vs_leave: ${why}`);
  icmpSend(host, skb, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH);
  skb.drop = { reason: `IPVS: ${why}` };
  return Verdict.Drop;
}

function connText(cp: IpvsConn): string {
  return `c:${formatIpv4(cp.caddr)}:${cp.cport} v:${formatIpv4(cp.vaddr)}:${cp.vport} d:${formatIpv4(cp.daddr)}:${cp.dport}`;
}
