/**
 * One host's IPVS (struct netns_ipvs): its virtual services with their schedulers, the
 * connection table, and the net.ipv4.vs sysctls. Entries expire on the virtual clock as their
 * timers would (ip_vs_conn_expire), checked whenever an IPVS hook runs.
 */
import type { Sysctl, SysctlName } from '../../host/sysctl.js';
import type { NetfilterNet } from '../net.js';
import { Tuple } from '../conntrack/tuple.js';
import { IpvsConnTable, type IpvsConn } from './conn.js';
import { findService } from './schedule.js';
import { newDest, type IpvsService, type IpvsServiceSpec } from './service.js';
import { makeScheduler } from './sched/index.js';

export class Ipvs {
  readonly services: IpvsService[];
  readonly conns = new IpvsConnTable();

  constructor(
    specs: readonly IpvsServiceSpec[],
    private readonly nf: NetfilterNet,
    private readonly sysctls: Sysctl,
  ) {
    this.services = specs.map((spec) => {
      const dests = spec.dests.map(newDest);
      return { spec, dests, scheduler: makeScheduler(spec.scheduler, { dests }) };
    });
  }

  sysctl(name: SysctlName): number {
    return this.sysctls.num(name);
  }

  findService(mark: number, proto: number, vaddr: number, vport: number): IpvsService | undefined {
    return findService(this.services, mark, proto, vaddr, vport);
  }

  /** Run the timers that are due by `now`, in the order they run out, each at its own time. */
  expire(now: number): void {
    for (let cp = this.conns.nextExpired(now); cp !== null; cp = this.conns.nextExpired(now)) this.expireNow(cp, cp.expires);
  }

  /**
   * ip_vs_conn_expire: unhash the entry and, for one made with conntrack=1, kill the conntrack
   * entry of the connection too (ip_vs_conn_drop_conntrack finds it by the client → VIP tuple,
   * in either direction).
   */
  expireNow(cp: IpvsConn, now: number): void {
    this.conns.remove(cp);
    if (!cp.nfct || cp.onePacket || cp.cport === 0) return;
    const found = this.nf.table.lookup(new Tuple(cp.caddr, cp.cport, cp.vaddr, cp.vport, cp.proto));
    if (found) this.nf.destroy(found, now);
  }
}
