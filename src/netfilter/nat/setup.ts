/**
 * nf_nat_setup_info and nf_nat_alloc_null_binding (net/netfilter/nf_nat_core.c): bind a new,
 * unconfirmed connection to its NAT mapping by rewriting the reply tuple. The packet itself is
 * rewritten afterwards, by nf_nat_packet.
 */
import { Verdict } from '../constants.js';
import { Status, type Conn } from '../conntrack/conn.js';
import { Dir, invertTuple } from '../conntrack/tuple.js';
import { NatFlag, type NatRange } from '../rules/model.js';
import { getUniqueTuple, ManipType, type NatSearch } from './unique-tuple.js';

/** nf_nat_initialized: has this manip type been decided (possibly as a null binding)? */
export function natInitialized(ct: Conn, manip: ManipType): boolean {
  return ct.has(manip === ManipType.Src ? Status.SrcNatDone : Status.DstNatDone);
}

/**
 * 1. The tuple the connection has now, seen from the original side: the inverse of the reply.
 * 2. get_unique_tuple within the range.
 * 3. If that differs, the reply tuple becomes its inverse and SRC_NAT / DST_NAT is set.
 * 4. A source manip enters the bysource index; the manip is marked done.
 */
export function natSetupInfo(s: NatSearch, range: NatRange, manip: ManipType): Verdict {
  const ct = s.ct;
  if (ct.confirmed) return Verdict.Accept;
  const current = ct.inverse(Dir.Reply)!;
  const chosen = getUniqueTuple(s, current, range, manip);
  if (!chosen.equals(current)) {
    ct.setReply(invertTuple(chosen)!);
    ct.status |= manip === ManipType.Src ? Status.SrcNat : Status.DstNat;
  }
  if (manip === ManipType.Src) s.net.bysource.add(ct);
  ct.status |= manip === ManipType.Src ? Status.SrcNatDone : Status.DstNatDone;
  return Verdict.Accept;
}

/**
 * nf_nat_alloc_null_binding: no rule bound this manip, so map onto the address the connection
 * already has (from the reply tuple, which an earlier manip may have changed). The port is
 * still made unique: a null binding can change a source port that another mapping took.
 */
export function natNullBinding(s: NatSearch, manip: ManipType): Verdict {
  const addr = manip === ManipType.Src ? s.ct.dst(Dir.Reply) : s.ct.src(Dir.Reply);
  const range: NatRange = { flags: NatFlag.MapIps, minAddr: addr, maxAddr: addr, minProto: 0, maxProto: 0, baseProto: 0 };
  return natSetupInfo(s, range, manip);
}
