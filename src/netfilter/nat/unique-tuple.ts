/**
 * get_unique_tuple and its helpers (net/netfilter/nf_nat_core.c, 6.18; where older kernels
 * differ, their KernelProfile says how): given the tuple a connection would have and a NAT
 * range, choose the address and port (or ICMP id) it gets, unique among the confirmed
 * connections if at all possible. When every candidate is taken the last one tried is
 * returned, and the clash then happens at confirm (the "SNAT failure looks like a timeout" of
 * the seed article).
 */
import { IPPROTO, isIcmp } from '../constants.js';
import type { NetfilterNet } from '../net.js';
import { NatFlag, NAT_RANGE_PROTO_RANDOM_ALL, type NatRange } from '../rules/model.js';
import { Dir, invertTuple, Tuple } from '../conntrack/tuple.js';
import { NO_NODE } from '../conntrack/tuplehash.js';
import type { Conn } from '../conntrack/conn.js';
import { jhash2, rawLe32, reciprocalScale } from './jhash.js';
import { compareInetAddr, inetAddrOfWords, inetAddrWords } from '../../packet/inet-addr.js';
import { evictable, MAX_ATTEMPTS, tupleHolder, usedTuple, usedTupleHarder, usedTupleNew } from './used-tuple.js';
import { TcpState } from '../conntrack/tcp-state.js';
import { roverSearch, roverStartsRandom, type KeySpace } from './port-rover.js';
import type { PortSearch } from '../../kernel/profile.js';

export const enum ManipType {
  Src = 0,
  Dst = 1,
}

/** What a search needs besides the tuple: the namespace, the connection, the time and the CPU. */
export interface NatSearch {
  readonly net: NetfilterNet;
  readonly ct: Conn;
  readonly now: number;
  readonly cpu: number;
  /** Where to explain choices in the trace (null when not tracing). */
  readonly notes: string[] | null;
}


/** nf_nat_inet_in_range: by the addresses' bits (an IPv6 handle's number says nothing of them). */
function addrInRange(addr: number, range: NatRange): boolean {
  return compareInetAddr(addr, range.minAddr) >= 0 && compareInetAddr(addr, range.maxAddr) <= 0;
}

/** The manipulable L4 part of a tuple: source or destination port, or the ICMP id. */
function l4Key(t: Tuple, manip: ManipType): number {
  if (isIcmp(t.proto) || manip === ManipType.Src) return t.srcU;
  return t.dstU;
}

function setL4Key(t: Tuple, manip: ManipType, value: number): void {
  if (isIcmp(t.proto) || manip === ManipType.Src) t.srcU = value;
  else t.dstU = value;
}

function hasL4Key(proto: number): boolean {
  return isIcmp(proto) || proto === IPPROTO.TCP || proto === IPPROTO.UDP || proto === IPPROTO.UDPLITE || proto === IPPROTO.SCTP;
}

/** l4proto_in_range */
function l4InRange(t: Tuple, manip: ManipType, range: NatRange): boolean {
  if (!hasL4Key(t.proto)) return true;
  const key = l4Key(t, manip);
  return key >= range.minProto && key <= range.maxProto;
}

/** in_range: would mapping the source onto this tuple satisfy the range? */
function inRange(t: Tuple, range: NatRange): boolean {
  if (range.flags & NatFlag.MapIps && !addrInRange(t.src, range)) return false;
  if (!(range.flags & NatFlag.ProtoSpecified)) return true;
  return l4InRange(t, ManipType.Src, range);
}

/**
 * find_appropriate_src: an existing source-NATed connection from the same source
 * (address, port, protocol) whose mapping also fits this range: reuse that mapping. Like the
 * kernel, it does not ask whether that entry has expired but not yet been reaped.
 */
function findAppropriateSrc(s: NatSearch, orig: Tuple, range: NatRange): Tuple | null {
  const bysource = s.net.bysource;
  for (let other = bysource.firstSameSource(orig); other !== null; other = bysource.nextSameSource(other, orig)) {
    const mapped = other.inverse(Dir.Reply);
    if (!mapped) continue;
    const result = new Tuple(mapped.src, mapped.srcU, orig.dst, orig.dstU, orig.proto);
    if (inRange(result, range)) return result;
  }
  return null;
}

/**
 * find_best_ips_proto: pick the address inside [minAddr, maxAddr] by jhash2 over the source
 * address (initval: the destination's last word, or 0 with `persistent`), so a client keeps
 * its address across connections. Hashes the u32 words as a little-endian machine holds them.
 */
function findBestIps(t: Tuple, range: NatRange, manip: ManipType): void {
  if (!(range.flags & NatFlag.MapIps)) return;
  const chosen = range.minAddr === range.maxAddr ? range.minAddr : hashedAddr(t, range);
  if (manip === ManipType.Src) t.src = chosen;
  else t.dst = chosen;
}

/**
 * find_best_ips_proto's walk over the address's words (one for IPv4, four for IPv6): each
 * within the range's words while the ones before are at the range's maximum, any value after
 * one is not; `j` takes in the destination's word after each (unless persistent).
 */
function hashedAddr(t: Tuple, range: NatRange): number {
  const min = inetAddrWords(range.minAddr);
  const max = inetAddrWords(range.maxAddr);
  const dst = inetAddrWords(t.dst);
  const src = inetAddrWords(t.src);
  const persistent = (range.flags & NatFlag.Persistent) !== 0;
  // the hash covers the whole nf_inet_addr: an IPv4 address and three zero words
  let j = jhash2([0, 1, 2, 3].map((i) => rawLe32(src[i] ?? 0)), persistent ? 0 : rawLe32(dst[dst.length - 1]!));
  const out = new Uint32Array(min.length);
  let fullRange = false;
  for (let i = 0; i < min.length; i++) {
    const lo = fullRange ? 0 : min[i]!;
    const dist = fullRange ? 0xffffffff : (max[i]! - min[i]! + 1) >>> 0;
    out[i] = lo + reciprocalScale(j, dist);
    if (out[i] !== max[i]) fullRange = true;
    if (!persistent) j = (j ^ rawLe32(dst[i]!)) >>> 0;
  }
  return inetAddrOfWords(out, range.minAddr);
}

/**
 * Replaying a capture, the kernel's random offset is unknown but its outcome is on the wire:
 * the port (or ICMP id) it sent, when that is inside [min, min+size) at the address natsim
 * chose and free now — what some draw of the offset gives. Null: natsim draws its own.
 */
function recordedKey(s: NatSearch, t: Tuple, manip: ManipType, { min, size }: KeySpace): number | null {
  const wire = s.net.recorded;
  if (wire === null || size === 1) return null;
  const src = manip === ManipType.Src;
  const addr = src ? wire.saddr : wire.daddr;
  const key = isIcmp(t.proto) || src ? wire.sport : wire.dport;
  if (addr !== (src ? t.src : t.dst) || key < min || key >= min + size) return null;
  return isFree(s, t, manip, key) ? key : null;
}

/** Would the kernel's check find `key` free (tupleHolder, or a holder the 6.x search evicts)? */
function isFree(s: NatSearch, t: Tuple, manip: ManipType, key: number): boolean {
  const probe = t.clone();
  setL4Key(probe, manip, key);
  if (tupleHolder(s, probe) === null) return true;
  const search = s.net.kernel.nat.portSearch;
  if (search.kind === 'rover' || !search.evictClosing || probe.proto !== IPPROTO.TCP || s.ct.tcp?.state !== TcpState.SynSent) return false;
  const found = s.net.table.find(invertTuple(probe)!);
  return found !== NO_NODE && evictable(s, found) !== null;
}

function followNote(s: NatSearch, t: Tuple, key: number, space: KeySpace, before: number): void {
  const what = isIcmp(t.proto) ? 'id' : 'port';
  const walk = before === 0 ? 'so one draw of the kernel\'s random offset gives it' : `the kernel's search started ${before} taken ${what}${before > 1 ? 's' : ''} before it (natsim's draw among the starts that give it)`;
  s.notes?.push(`${what} ${key} as in the capture: inside ${space.min}-${space.min + space.size - 1} and free, ${walk}`);
}

/**
 * The offset the bounded search starts from to end at the recorded key: the kernel walked
 * forward from its random offset over taken keys (each bumping `found`) to the first free one,
 * so any start in the run of taken keys just before the recorded one, or the key itself, gives
 * it. natsim draws one of those starts (each as likely, as get_random_u16 makes them), so that
 * `found` counts a walk the kernel could have made.
 */
function recordedStart(s: NatSearch, t: Tuple, manip: ManipType, space: KeySpace): number | null {
  const key = recordedKey(s, t, manip, space);
  if (key === null) return null;
  const at = (back: number): number => space.min + ((key - space.min - back + space.size * MAX_ATTEMPTS) % space.size);
  let taken = 0;
  while (taken + 1 < Math.min(space.size, MAX_ATTEMPTS) && !isFree(s, t, manip, at(taken + 1))) taken++;
  const back = taken === 0 ? 0 : s.net.prng.below(taken + 1);
  followNote(s, t, key, space, back);
  return at(back) - space.min;
}

/**
 * The keys a search may give: the range's ports (or ids), or without one the class of the
 * original port — 1–511, 600–1023, 1024–65535 — and any ICMP id (0–65535; 4.15's
 * icmp_unique_tuple: `range_size = 0xFFFF` from the range's min). A destination port is never
 * changed without a range. Null: nothing to search.
 */
function keySpace(t: Tuple, range: NatRange, manip: ManipType, search: PortSearch): KeySpace | null {
  const specified = (range.flags & NatFlag.ProtoSpecified) !== 0;
  if (isIcmp(t.proto)) {
    if (specified) return { min: range.minProto, size: range.maxProto - range.minProto + 1 };
    return search.kind === 'rover' ? { min: range.minProto, size: 0xffff } : { min: 0, size: 65536 };
  }
  if (!hasL4Key(t.proto)) return null;
  if (specified) {
    const min = Math.min(range.minProto, range.maxProto);
    return { min, size: Math.max(range.minProto, range.maxProto) - min + 1 };
  }
  if (manip === ManipType.Dst) return null;
  const port = l4Key(t, manip);
  if (port < 512) return { min: 1, size: 511 };
  if (port < 1024) return { min: 600, size: 424 };
  return { min: 1024, size: 64512 };
}

/**
 * Does the search start at a random offset (the only starts followRecording may stand for)?
 * The rover's own rule; otherwise yes unless PROTO_OFFSET gives the start, or (6.x) a
 * destination manip without random flags searches from the range's start.
 */
function startsRandom(t: Tuple, range: NatRange, manip: ManipType, search: PortSearch): boolean {
  if (search.kind === 'rover') return roverStartsRandom(t.proto, range.flags);
  if (range.flags & NatFlag.ProtoOffset) return false;
  return (range.flags & NAT_RANGE_PROTO_RANDOM_ALL) !== 0 || manip !== ManipType.Dst || !search.dnatFromRangeStart;
}

/**
 * The bounded search (5.0 on): from a random offset (or the PROTO_OFFSET base, or 6.x's range
 * start for DNAT), try min(range, 128) keys, then retry from new random offsets with half as
 * many attempts while more than 16 are left and less than the range. Each attempt asks
 * nf_nat_used_tuple (5.x), or on 6.x nf_nat_used_tuple_harder, which in the last attempts may
 * evict a closing TCP connection.
 */
function boundedSearch(s: NatSearch, t: Tuple, manip: ManipType, { min, size }: KeySpace, start: number, evictClosing: boolean): void {
  let off = start;
  let attempts = Math.min(size, MAX_ATTEMPTS);
  for (;;) {
    for (let i = 0; i < attempts; i++, off = (off + 1) & 0xffff) {
      setL4Key(t, manip, min + (off % size));
      if (!(evictClosing ? usedTupleHarder(s, t, attempts - i) : usedTuple(s, t))) return;
    }
    if (attempts >= size || attempts < 16) return;
    attempts = attempts >>> 1;
    off = s.net.prng.u16();
  }
}

/**
 * nf_nat_l4proto_unique_tuple: move the port (or ICMP id) into its key space until the tuple
 * is unused — by the kernel's search: 4.15's rover (port-rover.ts) or the bounded one, from a
 * random offset (the recorded outcome's, replaying a capture), the PROTO_OFFSET base, or 0.
 */
function l4UniqueTuple(s: NatSearch, t: Tuple, range: NatRange, manip: ManipType): void {
  const search = s.net.kernel.nat.portSearch;
  const space = keySpace(t, range, manip, search);
  if (!space) return;
  const random = startsRandom(t, range, manip, search);
  if (search.kind === 'rover') {
    const key = random ? recordedKey(s, t, manip, space) : null;
    if (key !== null) {
      setL4Key(t, manip, key);
      followNote(s, t, key, space, 0);
      return;
    }
    roverSearch(s.net, t.proto, range.flags, space, (k) => setL4Key(t, manip, k), () => usedTuple(s, t));
    return;
  }
  const start = range.flags & NatFlag.ProtoOffset ? (l4Key(t, manip) - range.baseProto) & 0xffff : random ? (recordedStart(s, t, manip, space) ?? s.net.prng.u16()) : 0;
  boundedSearch(s, t, manip, space, start, search.evictClosing);
}

/** Is the connection's original tuple taken? 6.x asks nf_nat_used_tuple_new, older kernels nf_nat_used_tuple. */
function originalTaken(s: NatSearch, orig: Tuple): boolean {
  return s.net.kernel.nat.keepOriginal === 'used-tuple-new' ? usedTupleNew(s, orig) : usedTuple(s, orig);
}

/**
 * get_unique_tuple: 1) for SNAT without random flags, keep the original tuple if it is in range
 * and unused, else reuse this source's existing mapping; 2) choose the address; 3) keep the
 * port if it is in range and unused, else search one.
 */
export function getUniqueTuple(s: NatSearch, orig: Tuple, range: NatRange, manip: ManipType): Tuple {
  if (manip === ManipType.Src && !(range.flags & NAT_RANGE_PROTO_RANDOM_ALL)) {
    if (inRange(orig, range)) {
      if (!originalTaken(s, orig)) return orig.clone();
    } else {
      const mapped = findAppropriateSrc(s, orig, range);
      if (mapped && !usedTuple(s, mapped)) return mapped;
    }
  }
  const t = orig.clone();
  findBestIps(t, range, manip);
  if (!(range.flags & NAT_RANGE_PROTO_RANDOM_ALL)) {
    if (range.flags & NatFlag.ProtoSpecified) {
      if (!(range.flags & NatFlag.ProtoOffset) && l4InRange(t, manip, range) && (range.minProto === range.maxProto || !usedTuple(s, t))) return t;
    } else if (!usedTuple(s, t)) {
      return t;
    }
  }
  l4UniqueTuple(s, t, range, manip);
  return t;
}
