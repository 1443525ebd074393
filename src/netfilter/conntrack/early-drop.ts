/**
 * A full table (__nf_conntrack_alloc, early_drop and early_drop_list in
 * net/netfilter/nf_conntrack_core.c): when allocating one more entry would pass
 * nf_conntrack_max, the kernel looks at the new tuple's bucket and the next ones, up to
 * NF_CT_EVICTION_RANGE buckets, and kills every confirmed entry that is not ASSURED in the first
 * bucket that has any (counted as `early_drop`). Finding none, the new packet is dropped.
 */
import type { NetfilterNet } from '../net.js';
import { Status } from './conn.js';
import { isExpired } from './core.js';
import type { Tuple } from './tuple.js';

const NF_CT_EVICTION_RANGE = 8;

/** True when the new entry may be allocated (there was room, or early drop made some). */
export function makeRoom(net: NetfilterNet, orig: Tuple, cpu: number, now: number): boolean {
  const max = net.sysctl.num('net.netfilter.nf_conntrack_max');
  if (max === 0 || net.table.count + 1 <= max) return true;
  let bucket = net.table.bucketIndex(orig);
  for (let i = 0; i < NF_CT_EVICTION_RANGE; i++, bucket = (bucket + 1) % net.table.size) {
    const drops = earlyDropList(net, bucket, now);
    if (drops > 0) {
      net.stats.inc(cpu, 'early_drop', drops);
      return true;
    }
  }
  return false;
}

/** early_drop_list: expired entries are reaped on the way; non-assured ones are killed. */
function earlyDropList(net: NetfilterNet, bucket: number, now: number): number {
  let drops = 0;
  const seen = new Set();
  for (const ct of net.table.bucketAt(bucket).map((n) => net.table.conn(n))) {
    if (seen.has(ct)) continue; // both directions in this bucket
    seen.add(ct);
    if (isExpired(ct, now)) {
      net.destroy(ct, ct.timeout);
      continue;
    }
    if (ct.has(Status.Assured)) continue;
    net.probe?.evicted(ct, now);
    net.destroy(ct, now);
    drops++;
  }
  return drops;
}
