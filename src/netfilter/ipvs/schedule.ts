/**
 * Choosing a real server for a new connection (net/netfilter/ipvs/ip_vs_core.c:
 * ip_vs_schedule, ip_vs_sched_persist, and the service lookup of ip_vs_ctl.c
 * ip_vs_service_find).
 */
import { IPPROTO } from '../constants.js';
import type { Ipv4Packet } from '../../packet/ipv4.js';
import { IpvsConn, type IpvsConnTable } from './conn.js';
import type { IpvsDest, IpvsService } from './service.js';

/**
 * ip_vs_service_find: a firewall-mark service first (when the packet carries a mark), then the
 * exact protocol/address/port, then a port-zero catch-all for the address.
 */
export function findService(services: readonly IpvsService[], mark: number, proto: number, vaddr: number, vport: number): IpvsService | undefined {
  if (mark !== 0) {
    const fwm = services.find((s) => s.spec.key.kind === 'fwmark' && s.spec.key.mark === mark);
    if (fwm) return fwm;
  }
  const exact = (port: number): IpvsService | undefined =>
    services.find((s) => s.spec.key.kind === 'addr' && s.spec.key.protocol === proto && s.spec.key.addr === vaddr && s.spec.key.port === port);
  return exact(vport) ?? exact(0);
}

/** The outcome of ip_vs_schedule: a new connection, or why none (its `ignored` value). */
export type Scheduled =
  | { readonly kind: 'conn'; readonly cp: IpvsConn }
  /** ignored > 0: not for IPVS after all; the packet goes on (NF_ACCEPT). */
  | { readonly kind: 'pass'; readonly why: string }
  /** ignored == 0: no server; ip_vs_leave answers port unreachable and drops. */
  | { readonly kind: 'leave'; readonly why: string };

export interface ScheduleContext {
  readonly table: IpvsConnTable;
  /** net.ipv4.vs.conntrack at the moment the connection is made. */
  readonly nfct: boolean;
  readonly now: number;
  /** The packet came from this host itself (no input device, or loopback). */
  readonly local: boolean;
}

export function schedule(svc: IpvsService, pkt: Ipv4Packet, ctx: ScheduleContext): Scheduled {
  const key = svc.spec.key;
  const svcPort = key.kind === 'addr' ? key.port : 0;
  // Do not schedule replies from a local real server to an existing connection.
  if (ctx.local && ctx.table.inGet(pkt.proto, pkt.daddr, pkt.dport, pkt.saddr, pkt.sport))
    return { kind: 'pass', why: 'reply of a local real server' };
  if (svc.spec.persistent !== null) return schedulePersistent(svc, pkt, ctx, svcPort);
  if (key.kind === 'addr' && pkt.dport !== svcPort) return { kind: 'leave', why: 'port zero only supported in persistent services' };
  const dest = svc.scheduler.schedule(svc, pkt);
  if (!dest) return { kind: 'leave', why: `scheduler ${svc.spec.scheduler}: no destination available` };
  return { kind: 'conn', cp: newConn(svc, dest, pkt, ctx, dest.port || pkt.dport, null) };
}

/**
 * ip_vs_sched_persist: one template per client network (source & netmask) and service sends
 * every connection of that client to the same real server while the template lives.
 */
function schedulePersistent(svc: IpvsService, pkt: Ipv4Packet, ctx: ScheduleContext, svcPort: number): Scheduled {
  const key = svc.spec.key;
  const cnet = (pkt.saddr & svc.spec.netmask) >>> 0;
  const tproto = key.kind === 'fwmark' ? 0 : pkt.proto;
  const tvaddr = key.kind === 'fwmark' ? key.mark : pkt.daddr;
  const tvport = key.kind === 'addr' && pkt.dport === svcPort ? pkt.dport : 0;
  let template = ctx.table.templateGet(tproto, cnet, tvaddr, tvport);
  if (!template) {
    const dest = svc.scheduler.schedule(svc, pkt);
    if (!dest) return { kind: 'leave', why: `scheduler ${svc.spec.scheduler}: no destination available` };
    const tdport = pkt.dport === svcPort ? dest.port : 0;
    template = new IpvsConn(tproto, cnet, 0, tvaddr, tvport, dest.addr, tdport, dest, svc, false, false, true, ctx.now);
    template.timeout = svc.spec.persistent! * 1e9;
    ctx.table.add(template);
  }
  const dest = template.dest;
  const dport = pkt.dport === svcPort && dest.port ? dest.port : pkt.dport;
  return { kind: 'conn', cp: newConn(svc, dest, pkt, ctx, dport, template) };
}

/** ip_vs_conn_new + ip_vs_control_add: the entry, counted on its server, under its template. */
function newConn(svc: IpvsService, dest: IpvsDest, pkt: Ipv4Packet, ctx: ScheduleContext, dport: number, template: IpvsConn | null): IpvsConn {
  const onePacket = svc.spec.onePacket && pkt.proto === IPPROTO.UDP;
  const cp = new IpvsConn(pkt.proto, pkt.saddr, pkt.sport, pkt.daddr, pkt.dport, dest.addr, dport, dest, svc, ctx.nfct, onePacket, false, ctx.now);
  cp.control = template;
  if (template) {
    template.controlled++;
    ctx.table.put(template, ctx.now);
  }
  ctx.table.add(cp);
  return cp;
}
