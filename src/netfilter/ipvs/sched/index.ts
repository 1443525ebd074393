/**
 * The IPVS schedulers by ipvsadm -s name. A scheduler is built once per service from its final
 * destination set (natsim's does not change during a run); the table-building ones (wrr, sh,
 * dh, mh) replay what the kernel's add_dest callbacks leave behind.
 */
import type { IpvsService, Scheduler, SchedulerName } from '../service.js';
import { dhScheduler } from './dh.js';
import { lcScheduler } from './lc.js';
import { mhScheduler } from './mh.js';
import { rrScheduler } from './rr.js';
import { shScheduler } from './sh.js';
import { wlcScheduler } from './wlc.js';
import { wrrScheduler } from './wrr.js';

const FACTORIES: Record<SchedulerName, (svc: Pick<IpvsService, 'dests'>) => Scheduler> = {
  rr: rrScheduler,
  wrr: wrrScheduler,
  lc: lcScheduler,
  wlc: wlcScheduler,
  sh: shScheduler,
  dh: dhScheduler,
  mh: mhScheduler,
};

/** Only `dests` is read, so a service still being assembled (no scheduler yet) will do. */
export function makeScheduler(name: SchedulerName, svc: Pick<IpvsService, 'dests'>): Scheduler {
  return FACTORIES[name](svc);
}
