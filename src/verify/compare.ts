/**
 * Matches what natsim sent with what the kernel sent (the capture's Out IPv4 and IPv6 packets): in order,
 * interface by interface, byte for byte — except the values the kernel chose itself where
 * natsim may choose differently and still be right: the IP id of a packet the kernel made
 * itself (an ICMP error, a reset; not a forwarded packet, whose id it keeps), the fragment
 * identification of IPv6 fragments the kernel cut itself (ipv6_select_ident draws it at random;
 * forwarded fragments keep theirs), and a NAT port drawn at random, when natsim used one port
 * for the flow wherever the kernel used another.
 */
import { formatIpv4 } from '../packet/ipv4-addr.js';
import { formatIpv6, ipv6Handle } from '../packet/ipv6-addr.js';
import type { NatsimPacket, SentPacket } from '../world/capture-replay.js';

export type Outcome = 'match' | 'differs' | 'missing' | 'extra';

export interface FieldDifference {
  readonly field: string;
  readonly kernel: string;
  readonly natsim: string;
}

export interface PacketSide {
  /** 1-based number among the packets that side sent (all interfaces). */
  readonly index: number;
  /** Seconds since the capture's first record. */
  readonly time: number;
  readonly summary: string;
}

export interface PacketResult {
  readonly outcome: Outcome;
  readonly ifindex: number;
  readonly dev: string;
  readonly kernel: PacketSide | null;
  readonly natsim: PacketSide | null;
  /** For `differs`: field by field. For a `match` that tolerated a field: that field. */
  readonly differences: FieldDifference[];
  /** Why a match is one although bytes differ (the kernel's own IP id, a random port). */
  readonly note: string | null;
  /** natsim's packet is the node's own, taken from the capture (NatsimPacket.fromCapture). */
  readonly fromCapture: boolean;
}

export interface VerifySummary {
  readonly matched: number;
  readonly total: number;
  readonly differs: number;
  readonly missing: number;
  readonly extra: number;
  readonly kernelSent: number;
  readonly natsimSent: number;
  /** Matches whose natsim packet was taken from the capture: they check the way out, not the making. */
  readonly fromCapture: number;
}

/**
 * Received packets by protocol and IP id (IPv6: next header and flow label), and IPv6 fragments
 * by identification, with their times (ns), to tell forwarded packets from the kernel's own.
 */
export class ReceivedIds {
  private readonly times = new Map<number, number[]>();

  add(time: number, bytes: Uint8Array): void {
    if (bytes.length < 20) return;
    this.note(idKey(bytes), time);
    if (isV6Fragment(bytes)) this.note(fragKey(bytes), time);
  }

  /** Was a packet with this protocol and id received in the second before `time`? */
  receivedBefore(time: number, bytes: Uint8Array): boolean {
    return bytes.length >= 20 && this.seen(idKey(bytes), time);
  }

  /** Was an IPv6 fragment with this fragment's identification received in the second before `time`? */
  fragmentReceivedBefore(time: number, bytes: Uint8Array): boolean {
    return isV6Fragment(bytes) && this.seen(fragKey(bytes), time);
  }

  private note(key: number, time: number): void {
    const list = this.times.get(key);
    if (list) list.push(time);
    else this.times.set(key, [time]);
  }

  private seen(key: number, time: number): boolean {
    return this.times.get(key)?.some((t) => t <= time && time - t <= 1e9) ?? false;
  }
}

/** An IPv6 packet whose fixed header is followed by a fragment header (next header 44). */
function isV6Fragment(d: Uint8Array): boolean {
  return isV6(d) && d[6] === IPPROTO_FRAGMENT && d.length >= 48;
}

/** An IPv6 fragment's identification, kept apart from idKey's keys (all under 2^33). */
function fragKey(d: Uint8Array): number {
  return 2 ** 33 + readU32(d, 44);
}

/**
 * What tells a forwarded packet from one the kernel made: IPv4's protocol and IP id; IPv6's
 * next header and flow label (forwarding keeps the label; the kernel's own packets get its
 * hash), kept apart from IPv4's keys.
 */
function idKey(d: Uint8Array): number {
  if (isV6(d)) return 2 ** 32 + d[6]! * 2 ** 20 + flowLabel(d);
  return d[9]! * 65536 + readU16(d, 4);
}

function isV6(d: Uint8Array): boolean {
  return d.length >= 40 && d[0]! >> 4 === 6;
}

function flowLabel(d: Uint8Array): number {
  return ((d[1]! & 0x0f) << 16) | readU16(d, 2);
}

/** The protocol and the offset of its header: IPv4's protocol after IHL, IPv6's next header after the fixed header (extension headers are payload here). */
function l4Of(d: Uint8Array): { proto: number; l4: number; frag: boolean } {
  if (isV6(d)) return { proto: d[6]!, l4: 40, frag: false };
  return { proto: d[9]!, l4: (d[0]! & 0x0f) * 4, frag: d.length >= 8 && (readU16(d, 6) & 0x1fff) !== 0 };
}

const IPPROTO_ICMPV6 = 58;
/** NEXTHDR_FRAGMENT */
const IPPROTO_FRAGMENT = 44;
const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
/** How far ahead the alignment looks for the next packets that match again. */
const LOOKAHEAD = 64;

function readU16(d: Uint8Array, at: number): number {
  return (d[at]! << 8) | d[at + 1]!;
}

function readU32(d: Uint8Array, at: number): number {
  return ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) >>> 0;
}

interface Field {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly show: (d: Uint8Array) => string;
}

const hex16 = (at: number) => (d: Uint8Array) => `0x${readU16(d, at).toString(16).padStart(4, '0')}`;
const dec16 = (at: number) => (d: Uint8Array) => String(readU16(d, at));
const dec8 = (at: number) => (d: Uint8Array) => String(d[at]!);
const addr = (at: number) => (d: Uint8Array) => formatIpv4(readU32(d, at));
const addr6 = (at: number) => (d: Uint8Array) => formatIpv6(ipv6Handle(d, at));
const hex8 = (at: number) => (d: Uint8Array) => `0x${d[at]!.toString(16).padStart(2, '0')}`;
const TCP_FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];

function tcpFlagText(bits: number): string {
  const names = TCP_FLAG_NAMES.filter((_, i) => bits & (1 << i));
  return names.length ? names.join('|') : 'none';
}

/** The fixed IPv6 header's fields. */
function ipv6Fields(): Field[] {
  return [
    { name: 'version/traffic class', start: 0, end: 1, show: hex8(0) },
    { name: 'traffic class/flow label', start: 1, end: 2, show: hex8(1) },
    { name: 'flow label', start: 2, end: 4, show: (x) => `0x${flowLabel(x).toString(16)}` },
    { name: 'payload length', start: 4, end: 6, show: dec16(4) },
    { name: 'next header', start: 6, end: 7, show: dec8(6) },
    { name: 'hop limit', start: 7, end: 8, show: dec8(7) },
    { name: 'saddr', start: 8, end: 24, show: addr6(8) },
    { name: 'daddr', start: 24, end: 40, show: addr6(24) },
  ];
}

/** The header fields of an IPv4 or IPv6 packet and its TCP/UDP/ICMP/ICMPv6 header, by byte range. */
function fieldsOf(d: Uint8Array): Field[] {
  if (isV6Fragment(d)) return [...ipv6Fields(), ...fragmentFields(d)];
  if (isV6(d)) return [...ipv6Fields(), ...l4Fields(d, d[6]!, 40)];
  const ihl = d.length > 0 ? (d[0]! & 0x0f) * 4 : 20;
  const fields: Field[] = [
    { name: 'version/ihl', start: 0, end: 1, show: (x) => `0x${x[0]!.toString(16)}` },
    { name: 'tos', start: 1, end: 2, show: dec8(1) },
    { name: 'length', start: 2, end: 4, show: dec16(2) },
    { name: 'ip id', start: 4, end: 6, show: dec16(4) },
    { name: 'ip flags/fragment', start: 6, end: 8, show: hex16(6) },
    { name: 'ttl', start: 8, end: 9, show: dec8(8) },
    { name: 'protocol', start: 9, end: 10, show: dec8(9) },
    { name: 'ip checksum', start: 10, end: 12, show: hex16(10) },
    { name: 'saddr', start: 12, end: 16, show: addr(12) },
    { name: 'daddr', start: 16, end: 20, show: addr(16) },
  ];
  if (ihl > 20) fields.push({ name: 'ip options', start: 20, end: ihl, show: (x) => Buffer.from(x.subarray(20, ihl)).toString('hex') });
  const fragOff = d.length >= 8 ? readU16(d, 6) & 0x1fff : 0;
  if (fragOff !== 0) return fields;
  return [...fields, ...l4Fields(d, d[9]!, ihl)];
}

/** An IPv6 fragment header right after the fixed header, and the L4 header of a first fragment after it. */
function fragmentFields(d: Uint8Array): Field[] {
  const fields: Field[] = [
    { name: 'fragment next header', start: 40, end: 41, show: dec8(40) },
    { name: 'fragment offset/M', start: 42, end: 44, show: hex16(42) },
    { name: 'fragment id', start: 44, end: 48, show: (x) => `0x${readU32(x, 44).toString(16).padStart(8, '0')}` },
  ];
  return (readU16(d, 42) & ~7) === 0 ? [...fields, ...l4Fields(d, d[40]!, 48)] : fields;
}

/** The L4 header's fields at `l4`: TCP, UDP, ICMP, ICMPv6 (echo id as `sport`, as NAT treats it). */
function l4Fields(d: Uint8Array, proto: number, l4: number): Field[] {
  const fields: Field[] = [];
  if (proto === IPPROTO_TCP) {
    fields.push(
      { name: 'sport', start: l4, end: l4 + 2, show: dec16(l4) },
      { name: 'dport', start: l4 + 2, end: l4 + 4, show: dec16(l4 + 2) },
      { name: 'tcp seq', start: l4 + 4, end: l4 + 8, show: (x) => String(readU32(x, l4 + 4)) },
      { name: 'tcp ack', start: l4 + 8, end: l4 + 12, show: (x) => String(readU32(x, l4 + 8)) },
      { name: 'tcp data offset', start: l4 + 12, end: l4 + 13, show: (x) => String((x[l4 + 12]! >> 4) * 4) },
      { name: 'flags', start: l4 + 13, end: l4 + 14, show: (x) => tcpFlagText(x[l4 + 13]!) },
      { name: 'tcp window', start: l4 + 14, end: l4 + 16, show: dec16(l4 + 14) },
      { name: 'l4 checksum', start: l4 + 16, end: l4 + 18, show: hex16(l4 + 16) },
      { name: 'tcp urgent', start: l4 + 18, end: l4 + 20, show: dec16(l4 + 18) },
    );
    const doff = d.length > l4 + 12 ? (d[l4 + 12]! >> 4) * 4 : 20;
    if (doff > 20) fields.push({ name: 'tcp options', start: l4 + 20, end: l4 + doff, show: (x) => Buffer.from(x.subarray(l4 + 20, l4 + doff)).toString('hex') });
  } else if (proto === IPPROTO_UDP) {
    fields.push(
      { name: 'sport', start: l4, end: l4 + 2, show: dec16(l4) },
      { name: 'dport', start: l4 + 2, end: l4 + 4, show: dec16(l4 + 2) },
      { name: 'udp length', start: l4 + 4, end: l4 + 6, show: dec16(l4 + 4) },
      { name: 'l4 checksum', start: l4 + 6, end: l4 + 8, show: hex16(l4 + 6) },
    );
  } else if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
    fields.push(
      { name: 'icmp type', start: l4, end: l4 + 1, show: dec8(l4) },
      { name: 'icmp code', start: l4 + 1, end: l4 + 2, show: dec8(l4 + 1) },
      { name: 'l4 checksum', start: l4 + 2, end: l4 + 4, show: hex16(l4 + 2) },
    );
    if (isEcho(proto, d[l4]!)) {
      // the echo id is what NAT treats as the ICMP "port"
      fields.push({ name: 'sport', start: l4 + 4, end: l4 + 6, show: dec16(l4 + 4) }, { name: 'icmp seq', start: l4 + 6, end: l4 + 8, show: dec16(l4 + 6) });
    } else {
      fields.push({ name: 'icmp rest of header', start: l4 + 4, end: l4 + 8, show: (x) => Buffer.from(x.subarray(l4 + 4, l4 + 8)).toString('hex') });
    }
  }
  return fields;
}

function headerEnd(fields: Field[]): number {
  return fields.reduce((m, f) => Math.max(m, f.end), 0);
}

/** The fields in which two packets differ (bytes past the headers are "payload"). */
export function diffFields(kernel: Uint8Array, natsim: Uint8Array): FieldDifference[] {
  const out: FieldDifference[] = [];
  const fields = fieldsOf(kernel);
  const sameRange = (s: number, e: number): boolean => {
    for (let i = s; i < e; i++) if (kernel[i] !== natsim[i]) return false;
    return true;
  };
  for (const f of fields) {
    if (f.end > kernel.length && f.end > natsim.length) continue;
    if (f.end > kernel.length || f.end > natsim.length || !sameRange(f.start, f.end)) {
      out.push({ field: f.name, kernel: f.end <= kernel.length ? f.show(kernel) : '(absent)', natsim: f.end <= natsim.length ? f.show(natsim) : '(absent)' });
    }
  }
  const end = headerEnd(fields);
  const kRest = kernel.subarray(Math.min(end, kernel.length));
  const nRest = natsim.subarray(Math.min(end, natsim.length));
  if (kRest.length !== nRest.length || !kRest.every((b, i) => b === nRest[i])) {
    const first = firstDifference(kRest, nRest);
    out.push({ field: 'payload', kernel: `${kRest.length} bytes`, natsim: `${nRest.length} bytes, first difference at byte ${end + first}` });
  }
  return out;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** An echo (or, for ICMP, timestamp) request or reply: the types whose id is the "port". */
function isEcho(proto: number, type: number): boolean {
  return proto === IPPROTO_ICMPV6 ? type === 128 || type === 129 : type === 0 || type === 8 || type === 13 || type === 14;
}

/** An IPv6 packet in one line, tcpdump-like. */
function describeIpv6(d: Uint8Array): string {
  const proto = d[6]!;
  const src = formatIpv6(ipv6Handle(d, 8));
  const dst = formatIpv6(ipv6Handle(d, 24));
  const tail = `hlim ${d[7]} flow 0x${flowLabel(d).toString(16)} len ${d.length}`;
  if ((proto === IPPROTO_TCP || proto === IPPROTO_UDP) && d.length >= 44) {
    const ports = `[${src}]:${readU16(d, 40)} > [${dst}]:${readU16(d, 42)}`;
    if (proto === IPPROTO_TCP && d.length >= 54) return `TCP ${ports} [${tcpFlagText(d[53]!)}] ${tail}`;
    return `${proto === IPPROTO_TCP ? 'TCP' : 'UDP'} ${ports} ${tail}`;
  }
  if (proto === IPPROTO_ICMPV6 && d.length >= 48) {
    const type = d[40]!;
    const what = isEcho(proto, type) ? ` id ${readU16(d, 44)} seq ${readU16(d, 46)}` : ` code ${d[41]!}`;
    return `ICMPv6 ${src} > ${dst} type ${type}${what} ${tail}`;
  }
  return `next header ${proto} ${src} > ${dst} ${tail}`;
}

/** A one-line description of a packet, tcpdump-like. */
export function describePacket(d: Uint8Array): string {
  if (isV6(d)) return describeIpv6(d);
  if (d.length < 20 || d[0]! >> 4 !== 4) return `${d.length} bytes, not IP`;
  const ihl = (d[0]! & 0x0f) * 4;
  const proto = d[9]!;
  const src = formatIpv4(readU32(d, 12));
  const dst = formatIpv4(readU32(d, 16));
  const len = readU16(d, 2);
  const id = readU16(d, 4);
  const frag = readU16(d, 6) & 0x1fff;
  const l4 = ihl;
  if (frag === 0 && (proto === IPPROTO_TCP || proto === IPPROTO_UDP) && d.length >= l4 + 4) {
    const ports = `${src}:${readU16(d, l4)} > ${dst}:${readU16(d, l4 + 2)}`;
    if (proto === IPPROTO_TCP && d.length >= l4 + 14) return `TCP ${ports} [${tcpFlagText(d[l4 + 13]!)}] id ${id} len ${len}`;
    return `${proto === IPPROTO_TCP ? 'TCP' : 'UDP'} ${ports} id ${id} len ${len}`;
  }
  if (frag === 0 && proto === IPPROTO_ICMP && d.length >= l4 + 8) {
    const type = d[l4]!;
    const echo = type === 0 || type === 8 ? ` id ${readU16(d, l4 + 4)} seq ${readU16(d, l4 + 6)}` : ` code ${d[l4 + 1]!}`;
    return `ICMP ${src} > ${dst} type ${type}${echo} ip id ${id} len ${len}`;
  }
  return `proto ${proto} ${src} > ${dst} id ${id} len ${len}`;
}

interface Indexed extends SentPacket {
  readonly n: number;
  readonly fromCapture?: boolean;
}

/** How two packets compare: equal, equal but for a value the kernel chose itself, or not. */
type Judgement = { kind: 'equal' } | { kind: 'own-id' | 'own-flow-label' | 'own-fragment-id'; diffs: FieldDifference[] } | { kind: 'port'; field: 'sport' | 'dport'; diffs: FieldDifference[] } | { kind: 'different' };

const IGNORABLE_WITH_ID = new Set(['ip id', 'ip checksum']);
/** An IPv6 packet the kernel made: its flow label is ip6_make_flowlabel's hash under a per-boot secret; the ICMPv6 checksum covers it through nothing (it is not in the pseudo-header), so only the label differs. */
const IGNORABLE_WITH_FLOW_LABEL = new Set(['flow label', 'traffic class/flow label']);

function judge(k: Indexed, n: Indexed, received: ReceivedIds): Judgement {
  if (k.ifindex !== n.ifindex) return { kind: 'different' };
  if (sameBytes(k.bytes, n.bytes)) return { kind: 'equal' };
  if (k.bytes.length !== n.bytes.length) return { kind: 'different' };
  const diffs = diffFields(k.bytes, n.bytes);
  const names = diffs.map((d) => d.field);
  if (names.includes('ip id') && names.every((f) => IGNORABLE_WITH_ID.has(f)) && !received.receivedBefore(k.time, k.bytes)) {
    return { kind: 'own-id', diffs };
  }
  if (isV6(k.bytes) && names.length > 0 && names.every((f) => IGNORABLE_WITH_FLOW_LABEL.has(f)) && !received.receivedBefore(k.time, k.bytes)) {
    return { kind: 'own-flow-label', diffs };
  }
  if (names.length === 1 && names[0] === 'fragment id' && !received.fragmentReceivedBefore(k.time, k.bytes)) return { kind: 'own-fragment-id', diffs };
  const ports = names.filter((f) => f === 'sport' || f === 'dport');
  if (ports.length === 1 && names.every((f) => f === ports[0] || f === 'l4 checksum')) return { kind: 'port', field: ports[0] as 'sport' | 'dport', diffs };
  return { kind: 'different' };
}

/** Could these two be the same packet, sent differently (to be shown field by field)? */
function similar(k: Indexed, n: Indexed): boolean {
  const a = k.bytes;
  const b = n.bytes;
  if (isV6(a) || isV6(b)) return isV6(a) && isV6(b) && a[6] === b[6] && differingIpv6(a, b) <= 2;
  if (a.length < 20 || b.length < 20 || a[9] !== b[9]) return false;
  let differing = 0;
  if (readU32(a, 12) !== readU32(b, 12)) differing++;
  if (readU32(a, 16) !== readU32(b, 16)) differing++;
  if (readU16(a, 4) !== readU16(b, 4)) differing++;
  const l4a = (a[0]! & 0x0f) * 4;
  const l4b = (b[0]! & 0x0f) * 4;
  if (a.length >= l4a + 4 && b.length >= l4b + 4) {
    if (readU16(a, l4a) !== readU16(b, l4b)) differing++;
    if (readU16(a, l4a + 2) !== readU16(b, l4b + 2)) differing++;
  }
  return differing <= 2;
}

/** How many of source, destination, flow label and the two ports two IPv6 packets differ in. */
function differingIpv6(a: Uint8Array, b: Uint8Array): number {
  const same = (s: number, e: number): boolean => a.subarray(s, e).every((x, i) => x === b[s + i]);
  let n = 0;
  if (!same(8, 24)) n++;
  if (!same(24, 40)) n++;
  if (flowLabel(a) !== flowLabel(b)) n++;
  if (a.length >= 44 && b.length >= 44) {
    if (!same(40, 42)) n++;
    if (!same(42, 44)) n++;
  }
  return n;
}

interface Step {
  readonly k: Indexed | null;
  readonly n: Indexed | null;
  readonly judgement: Judgement | null;
}

/**
 * Aligns one interface's two sequences: equal packets pair up in order; where they part, the
 * nearest point (within LOOKAHEAD) where they agree again closes a gap, whose packets pair up
 * as differing when alike and are otherwise missing (kernel only) or extra (natsim only).
 */
function align(ks: Indexed[], ns: Indexed[], received: ReceivedIds): Step[] {
  const steps: Step[] = [];
  const ok = (k: Indexed, n: Indexed): Judgement | null => {
    const j = judge(k, n, received);
    return j.kind === 'different' ? null : j;
  };
  let i = 0;
  let j = 0;
  while (i < ks.length || j < ns.length) {
    if (i < ks.length && j < ns.length) {
      const jd = ok(ks[i]!, ns[j]!);
      if (jd) {
        steps.push({ k: ks[i++]!, n: ns[j++]!, judgement: jd });
        continue;
      }
    }
    // find the nearest resynchronisation (a, b): ks[i+a] ~ ns[j+b], smallest a+b
    let resync: [number, number] | null = null;
    for (let sum = 1; sum <= 2 * LOOKAHEAD && !resync; sum++) {
      for (let a = 0; a <= sum; a++) {
        const b = sum - a;
        if (a > LOOKAHEAD || b > LOOKAHEAD || i + a >= ks.length || j + b >= ns.length) continue;
        if (ok(ks[i + a]!, ns[j + b]!)) {
          resync = [a, b];
          break;
        }
      }
    }
    let gapK: Indexed[];
    let gapN: Indexed[];
    if (resync) [gapK, gapN] = [ks.slice(i, i + resync[0]), ns.slice(j, j + resync[1])];
    else if (i < ks.length && j < ns.length) [gapK, gapN] = [[ks[i]!], [ns[j]!]];
    else [gapK, gapN] = [ks.slice(i), ns.slice(j)];
    steps.push(...pairGap(gapK, gapN));
    i += gapK.length;
    j += gapN.length;
  }
  return steps;
}

/** Within a gap, pair alike packets in order; the rest are missing or extra. */
function pairGap(ks: Indexed[], ns: Indexed[]): Step[] {
  const steps: Step[] = [];
  let next = 0;
  for (const k of ks) {
    let found = -1;
    for (let x = next; x < ns.length; x++) {
      if (similar(k, ns[x]!)) {
        found = x;
        break;
      }
    }
    if (found < 0) {
      steps.push({ k, n: null, judgement: null });
      continue;
    }
    for (let x = next; x < found; x++) steps.push({ k: null, n: ns[x]!, judgement: null });
    steps.push({ k, n: ns[found]!, judgement: { kind: 'different' } });
    next = found + 1;
  }
  for (let x = next; x < ns.length; x++) steps.push({ k: null, n: ns[x]!, judgement: null });
  return steps;
}

/** A flow as one side sent it, including the port in `field` (the one a NAT may have drawn). */
function flowKey(d: Uint8Array, field: 'sport' | 'dport'): string {
  const addrs = isV6(d) ? `${ipv6Handle(d, 8)}/${ipv6Handle(d, 24)}` : `${readU32(d, 12)}/${readU32(d, 16)}`;
  return `${l4Of(d).proto}/${addrs}/${field}/${portOf(d, 'sport')}/${portOf(d, 'dport')}`;
}

/** The TCP/UDP port (or ICMP echo id, as `sport`) in `field`, or null when the packet has none. */
function portOf(d: Uint8Array, field: 'sport' | 'dport'): number | null {
  if (d.length < 20) return null;
  const { proto, l4, frag } = l4Of(d);
  if (frag) return null;
  if ((proto === IPPROTO_TCP || proto === IPPROTO_UDP) && d.length >= l4 + 4) return readU16(d, field === 'sport' ? l4 : l4 + 2);
  if ((proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) && field === 'sport' && d.length >= l4 + 8 && isEcho(proto, d[l4]!) && d[l4] !== 13 && d[l4] !== 14) return readU16(d, l4 + 4);
  return null;
}

export interface VerifyInput {
  readonly sent: readonly NatsimPacket[];
  readonly recorded: readonly SentPacket[];
  readonly received: ReceivedIds;
  readonly devName: (ifindex: number) => string;
}

export function verifyPackets(input: VerifyInput): { results: PacketResult[]; summary: VerifySummary } {
  const kernel: Indexed[] = input.recorded.map((p, i) => ({ ...p, n: i + 1 }));
  const natsim: Indexed[] = input.sent.map((p, i) => ({ ...p, n: i + 1 }));
  const ifindexes = [...new Set([...kernel, ...natsim].map((p) => p.ifindex))];
  const steps: Step[] = [];
  for (const ifindex of ifindexes) {
    steps.push(...align(kernel.filter((p) => p.ifindex === ifindex), natsim.filter((p) => p.ifindex === ifindex), input.received));
  }
  // A random port is the kernel's choice only if, over the whole run, the kernel's flow and
  // natsim's map one to one: each uses one port where the other uses another.
  const natsimPorts = new Map<string, Set<number>>();
  const kernelPorts = new Map<string, Set<number>>();
  const note = (map: Map<string, Set<number>>, key: string, port: number): void => void (map.get(key) ?? map.set(key, new Set()).get(key)!).add(port);
  for (const s of steps) {
    if (!s.k || !s.n || (s.judgement?.kind !== 'port' && s.judgement?.kind !== 'equal')) continue;
    for (const field of ['sport', 'dport'] as const) {
      const kp = portOf(s.k.bytes, field);
      const np = portOf(s.n.bytes, field);
      if (kp === null || np === null) continue;
      note(natsimPorts, flowKey(s.k.bytes, field), np);
      note(kernelPorts, flowKey(s.n.bytes, field), kp);
    }
  }
  const consistent = (k: Indexed, n: Indexed, field: 'sport' | 'dport'): boolean =>
    natsimPorts.get(flowKey(k.bytes, field))?.size === 1 && kernelPorts.get(flowKey(n.bytes, field))?.size === 1;
  const side = (p: Indexed): PacketSide => ({ index: p.n, time: p.time / 1e9, summary: describePacket(p.bytes) });
  const results = steps.map((s): PacketResult & { order: number } => {
    const p = (s.k ?? s.n)!;
    const base = { ifindex: p.ifindex, dev: input.devName(p.ifindex), kernel: s.k ? side(s.k) : null, natsim: s.n ? side(s.n) : null, fromCapture: s.n?.fromCapture === true, order: s.k ? s.k.time : s.n!.time };
    if (!s.k) return { ...base, outcome: 'extra', differences: [], note: null };
    if (!s.n) return { ...base, outcome: 'missing', differences: [], note: null };
    const jd = s.judgement!;
    if (jd.kind === 'equal') return { ...base, outcome: 'match', differences: [], note: null };
    if (jd.kind === 'own-id') return { ...base, outcome: 'match', differences: jd.diffs, note: 'IP id of a packet the kernel made itself: its own choice' };
    if (jd.kind === 'own-fragment-id') return { ...base, outcome: 'match', differences: jd.diffs, note: 'fragment identification of IPv6 fragments the kernel cut itself: ipv6_select_ident draws it at random' };
    if (jd.kind === 'own-flow-label') return { ...base, outcome: 'match', differences: jd.diffs, note: 'flow label of an IPv6 packet the kernel made itself: a hash under its per-boot secret' };
    if (jd.kind === 'port' && consistent(s.k, s.n, jd.field)) {
      return { ...base, outcome: 'match', differences: jd.diffs, note: `${jd.field} drawn at random: the kernel's and natsim's choices differ consistently for this flow` };
    }
    return { ...base, outcome: 'differs', differences: diffFields(s.k.bytes, s.n.bytes), note: null };
  });
  results.sort((a, b) => a.order - b.order || (a.kernel?.index ?? Infinity) - (b.kernel?.index ?? Infinity) || (a.natsim?.index ?? Infinity) - (b.natsim?.index ?? Infinity));
  const count = (o: Outcome) => results.filter((r) => r.outcome === o).length;
  const summary: VerifySummary = {
    matched: count('match'),
    total: results.length,
    differs: count('differs'),
    missing: count('missing'),
    extra: count('extra'),
    kernelSent: kernel.length,
    natsimSent: natsim.length,
    fromCapture: results.filter((r) => r.outcome === 'match' && r.fromCapture).length,
  };
  return { results: results.map(({ order: _order, ...r }) => r), summary };
}
