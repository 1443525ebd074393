/**
 * Building blocks of the NAT unit tests: a namespace on a chosen kernel, connections, ranges as
 * rules give them, and a source NAT bound and confirmed as a packet's trip to POST_ROUTING would.
 */
import { Conn, Status } from '../../src/netfilter/conntrack/conn.js';
import { Dir, invertTuple, Tuple } from '../../src/netfilter/conntrack/tuple.js';
import { NetfilterNet } from '../../src/netfilter/net.js';
import { NatFlag, type NatRange } from '../../src/netfilter/rules/model.js';
import { natSetupInfo } from '../../src/netfilter/nat/setup.js';
import { ManipType, type NatSearch } from '../../src/netfilter/nat/unique-tuple.js';
import { Sysctl } from '../../src/host/sysctl.js';
import { Prng } from '../../src/sim/prng.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { KERNEL_PROFILES, type KernelVersion } from '../../src/kernel/profile.js';

export const ip = (s: string): number => parseIpv4(s)!;
export const TCP = 6;
export const UDP = 17;

export function net(seed = 1, kernel: KernelVersion = '6.18'): NetfilterNet {
  return new NetfilterNet(new Sysctl(KERNEL_PROFILES[kernel]), new Prng(seed), 1, seed);
}

export function conn(n: NetfilterNet, src: string, sport: number, dst: string, dport: number, proto = TCP): Conn {
  const orig = new Tuple(ip(src), sport, ip(dst), dport, proto);
  return n.newConn(orig, invertTuple(orig)!);
}

export function range(min: string, max: string, ports?: [number, number], flags = 0): NatRange {
  return {
    flags: NatFlag.MapIps | (ports ? NatFlag.ProtoSpecified : 0) | flags,
    minAddr: ip(min),
    maxAddr: ip(max),
    minProto: ports?.[0] ?? 0,
    maxProto: ports?.[1] ?? 0,
    baseProto: 0,
  };
}

export function search(n: NetfilterNet, ct: Conn): NatSearch {
  return { net: n, ct, now: 0, cpu: 0, notes: null };
}

/** Confirms an entry into the table as its first packet's confirm would. */
export function confirmEntry(n: NetfilterNet, ct: Conn): void {
  ct.status |= Status.Confirmed;
  ct.timeout = 1e12;
  n.table.insert(ct);
}

/** Binds a source NAT and confirms the entry, as the packet's trip to POST_ROUTING would. */
export function snat(n: NetfilterNet, ct: Conn, r: NatRange): Tuple {
  natSetupInfo(search(n, ct), r, ManipType.Src);
  confirmEntry(n, ct);
  return invertTuple(ct.tuple(Dir.Reply))!;
}
