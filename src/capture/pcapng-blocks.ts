/**
 * The pcapng blocks natsim reads and writes (draft-ietf-opsawg-pcapng; libpcap's pcap-ng.c and
 * Wireshark's wiretap/pcapng.c read them the same way): block types, option codes, the Section
 * Header's byte-order magic, an Interface Description's options, and the timestamp units an
 * interface's if_tsresol gives. Shared by the reader and the writer, so that the two agree on
 * every constant.
 *
 * A block is: type (4 bytes), total length (4), body, total length again (4); the length is a
 * multiple of 4, and options (code 2, length 2, value padded to 4) fill the body's tail.
 */
import { PacketDirection } from './record.js';

export const BLOCK_SHB = 0x0a0d0d0a;
export const BLOCK_IDB = 0x00000001;
/** The Packet Block, obsolete since pcapng 1.0 but still read (pcap-ng.c BT_PB). */
export const BLOCK_OPB = 0x00000002;
export const BLOCK_SPB = 0x00000003;
export const BLOCK_EPB = 0x00000006;

/** The Section Header's byte-order magic, as written in the section's own byte order. */
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** Type, length, and the trailing length copy. */
export const BLOCK_OVERHEAD = 12;
/** Each block type's fixed part, overhead included: a shorter block is corrupt. */
export const MIN_SHB_LENGTH = 28;
export const MIN_IDB_LENGTH = 20;
export const MIN_EPB_LENGTH = 32;
export const MIN_OPB_LENGTH = 32;
export const MIN_SPB_LENGTH = 16;

export const OPT_ENDOFOPT = 0;
export const IF_NAME = 2;
export const IF_TSRESOL = 9;
export const IF_TSOFFSET = 14;
/** epb_flags, and the obsolete block's pack_flags: the same code and the same bits. */
export const EPB_FLAGS = 2;
export const SHB_USERAPPL = 4;

/** pcapng 1.0, and 1.2, which libpcap reads as 1.0 (pcap-ng.c: "1.2 is the same as 1.0"). */
export const VERSION_MAJOR = 1;
export const READABLE_MINORS: readonly number[] = [0, 2];

/** The 32-bit padding of a length. */
export function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** epb_flags bits 0-1: the direction (0 when the capture does not say; 3 is undefined). */
const EPB_INBOUND = 1;
const EPB_OUTBOUND = 2;
/** epb_flags bits 2-4: how an inbound packet was addressed (0 unspecified, 1 unicast). */
const EPB_UNICAST = 1;
const EPB_MULTICAST = 2;
const EPB_BROADCAST = 3;
const EPB_PROMISCUOUS = 4;

/**
 * epb_flags as SLL's packet type says it (include/uapi/linux/if_packet.h PACKET_*): outbound
 * is PACKET_OUTGOING, inbound PACKET_HOST unless the reception type says multicast, broadcast
 * or promiscuous; null for the undefined direction bits 11.
 */
export function flagsDirection(flags: number): PacketDirection | null {
  switch (flags & 3) {
    case 0:
      return PacketDirection.Unknown;
    case EPB_OUTBOUND:
      return PacketDirection.Outgoing;
    case EPB_INBOUND:
      switch ((flags >>> 2) & 7) {
        case EPB_MULTICAST:
          return PacketDirection.Multicast;
        case EPB_BROADCAST:
          return PacketDirection.Broadcast;
        case EPB_PROMISCUOUS:
          return PacketDirection.OtherHost;
        default:
          return PacketDirection.Host;
      }
    default:
      return null;
  }
}

/** The packet type as epb_flags says it (flagsDirection's inverse); 0 when it is not known. */
export function directionFlags(direction: PacketDirection): number {
  switch (direction) {
    case PacketDirection.Host:
      return EPB_INBOUND | (EPB_UNICAST << 2);
    case PacketDirection.Broadcast:
      return EPB_INBOUND | (EPB_BROADCAST << 2);
    case PacketDirection.Multicast:
      return EPB_INBOUND | (EPB_MULTICAST << 2);
    case PacketDirection.OtherHost:
      return EPB_INBOUND | (EPB_PROMISCUOUS << 2);
    case PacketDirection.Outgoing:
      return EPB_OUTBOUND;
    case PacketDirection.Unknown:
      return 0;
  }
}

/**
 * An interface's timestamp unit. if_tsresol is one byte: its high bit clear, 10^-n seconds;
 * set, 2^-n (pcapng §4.2); absent, microseconds. Decimal units up to nanoseconds, which every
 * capture tool writes, are converted with a few float divisions; the others (finer than a
 * nanosecond, or binary) with BigInt, rounding toward zero below the nanosecond.
 */
export type TsResolution = { readonly base: 10 | 2; readonly exponent: number };

export const DEFAULT_TSRESOL: TsResolution = { base: 10, exponent: 6 };

export function parseTsResol(byte: number): TsResolution {
  return byte & 0x80 ? { base: 2, exponent: byte & 0x7f } : { base: 10, exponent: byte };
}

/** Turns a 64-bit count of units (high and low words) into seconds and nanoseconds, in `out`. */
export interface TimeConverter {
  (hi: number, lo: number, out: { sec: number; nsec: number }): void;
}

export function timeConverter(res: TsResolution): TimeConverter {
  if (res.base === 10 && res.exponent <= 9) return decimalConverter(10 ** res.exponent, 10 ** (9 - res.exponent));
  const big = res.base === 10 ? 10n ** BigInt(res.exponent) : 1n << BigInt(res.exponent);
  return (hi, lo, out) => {
    const units = (BigInt(hi) << 32n) | BigInt(lo);
    out.sec = Number(units / big);
    out.nsec = Number(((units % big) * 1_000_000_000n) / big);
  };
}

/**
 * (hi·2^32 + lo) / perSecond. While the count is below 2^53 (hi < 2^21: 285 years of
 * microseconds, the usual capture) it is an exact double, and one division gives the seconds:
 * a quotient k - 1/perSecond cannot round up to k, as k·perSecond < 2^53 keeps 1/perSecond
 * above half of k's last place. Beyond 2^53, long division in 16-bit digits, so that no
 * intermediate passes 2^53: perSecond is at most 10^9 < 2^30, and each partial dividend below
 * 2^46.
 */
function decimalConverter(perSecond: number, nsPerUnit: number): TimeConverter {
  return (hi, lo, out) => {
    if (hi < EXACT_HI) {
      const units = hi * 4294967296 + lo;
      const sec = Math.floor(units / perSecond);
      out.sec = sec;
      out.nsec = (units - sec * perSecond) * nsPerUnit;
      return;
    }
    const q1 = Math.floor(hi / perSecond);
    let r = hi - q1 * perSecond;
    const x = r * 65536 + (lo >>> 16);
    const q2 = Math.floor(x / perSecond);
    r = x - q2 * perSecond;
    const y = r * 65536 + (lo & 0xffff);
    const q3 = Math.floor(y / perSecond);
    r = y - q3 * perSecond;
    out.sec = q1 * 4294967296 + q2 * 65536 + q3;
    out.nsec = r * nsPerUnit;
  };
}

/** The high words below which a 64-bit count is an exact double (2^53 / 2^32). */
const EXACT_HI = 1 << 21;

/**
 * Calls `each` for every option in view[at, end) (the options area of a block) until
 * opt_endofopt or the area's end; returns a reason when an option runs past the area.
 */
export function forEachOption(
  view: DataView,
  at: number,
  end: number,
  le: boolean,
  each: (code: number, valueAt: number, length: number) => string | undefined,
): string | undefined {
  while (end - at >= 4) {
    const code = view.getUint16(at, le);
    const length = view.getUint16(at + 2, le);
    if (code === OPT_ENDOFOPT) return undefined;
    if (at + 4 + length > end) return `option ${code} of ${length} bytes runs past the end of the block's options`;
    const reason = each(code, at + 4, length);
    if (reason !== undefined) return reason;
    at += 4 + pad4(length);
  }
  return undefined;
}
