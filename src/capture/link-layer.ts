/**
 * Link-layer headers of the pcap link types natsim reads: where the network-layer bytes start,
 * which protocol they are, and — for the Linux "cooked" headers — the interface and direction
 * the kernel saw. Each decoder fills a caller-owned LinkFrame instead of returning a new object,
 * so that decoding a million frames allocates nothing (design.md §8); a reader picks the decoder
 * once per file with linkDecoderFor() and then calls one monomorphic function per frame.
 */
import { LinkType, PacketDirection } from './record.js';

/** What a link-layer header says about its frame. Reused from frame to frame: copy to keep. */
export interface LinkFrame {
  ifindex: number;
  direction: PacketDirection;
  /** EtherType of the payload as the kernel puts it in skb->protocol (ETH_P_*). */
  protocol: number;
  /** Where the network-layer payload starts in the frame. */
  payloadOffset: number;
  /**
   * Where the sender's 6-byte link-layer address is in the frame (Ethernet's source, the
   * address field of SLL/SLL2 when it holds 6 bytes), and the receiver's (Ethernet only); -1
   * when the header has none.
   */
  hwSourceAt: number;
  hwDestAt: number;
}

/**
 * Fills `out` from the frame `buf[at, at + length)` and returns undefined, or returns why the
 * frame cannot be decoded (then `out` is unspecified). Offsets in `out` count from the frame's
 * start. Reasons are constant strings on the common paths. The frame is read in place, where
 * the reader has it, so that decoding makes no view of it.
 */
export type LinkDecoder = (buf: Uint8Array, at: number, length: number, out: LinkFrame) => string | undefined;

export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_ARP = 0x0806;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
/** Values below this in the EtherType field are 802.3 lengths (include/uapi/linux/if_ether.h). */
const ETH_P_802_3_MIN = 0x0600;
const ETH_P_802_3 = 0x0001;
const ETH_P_802_2 = 0x0004;

export const ETH_ALEN = 6;
export const ETH_HLEN = 14;
export const VLAN_HLEN = 4;
export const SLL_HLEN = 16;
export const SLL2_HLEN = 20;

export function newLinkFrame(): LinkFrame {
  return { ifindex: 0, direction: PacketDirection.Unknown, protocol: 0, payloadOffset: 0, hwSourceAt: -1, hwDestAt: -1 };
}

/** The decoder for a pcap link type, or undefined when natsim does not read that link type. */
export function linkDecoderFor(linkType: number): LinkDecoder | undefined {
  switch (linkType) {
    case LinkType.Ethernet:
      return decodeEthernet;
    case LinkType.RawLegacy:
      return decodeRawIp;
    case LinkType.LinuxSll:
      return decodeSll;
    case LinkType.RawIpv4:
      return decodeRawIpv4;
    case LinkType.LinuxSll2:
      return decodeSll2;
    default:
      return undefined;
  }
}

function readU16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** PACKET_HOST … PACKET_OUTGOING keep their meaning; loopback/user/kernel types have none here. */
function directionOf(packetType: number): PacketDirection {
  return packetType <= PacketDirection.Outgoing ? packetType : PacketDirection.Unknown;
}

/**
 * Ethernet II, stepping over any 802.1Q / 802.1ad tags to the inner EtherType. An EtherType
 * below 0x0600 is an 802.3 length and becomes ETH_P_802_3 (raw IPX) or ETH_P_802_2 (LLC), as
 * eth_type_trans() decides.
 */
function decodeEthernet(buf: Uint8Array, at: number, length: number, out: LinkFrame): string | undefined {
  if (length < ETH_HLEN) return 'frame shorter than an Ethernet header';
  let typeAt = ETH_HLEN - 2;
  let type = readU16(buf, at + typeAt);
  while (type === ETH_P_8021Q || type === ETH_P_8021AD) {
    typeAt += VLAN_HLEN;
    if (length < typeAt + 2) return 'frame ends inside a VLAN tag';
    type = readU16(buf, at + typeAt);
  }
  const payloadOffset = typeAt + 2;
  if (type < ETH_P_802_3_MIN) {
    const rawIpx = length >= payloadOffset + 2 && readU16(buf, at + payloadOffset) === 0xffff;
    type = rawIpx ? ETH_P_802_3 : ETH_P_802_2;
  }
  out.ifindex = 0;
  out.direction = PacketDirection.Unknown;
  out.protocol = type;
  out.payloadOffset = payloadOffset;
  out.hwSourceAt = ETH_ALEN;
  out.hwDestAt = 0;
  return undefined;
}

/** LINKTYPE_LINUX_SLL: packet type, ARPHRD, address length, 8 address bytes, protocol. */
function decodeSll(buf: Uint8Array, at: number, length: number, out: LinkFrame): string | undefined {
  if (length < SLL_HLEN) return 'frame shorter than a Linux SLL header';
  out.ifindex = 0;
  out.direction = directionOf(readU16(buf, at + 0));
  out.protocol = readU16(buf, at + 14);
  out.payloadOffset = SLL_HLEN;
  out.hwSourceAt = readU16(buf, at + 4) === ETH_ALEN ? 6 : -1;
  out.hwDestAt = -1;
  return undefined;
}

/** LINKTYPE_LINUX_SLL2: protocol, reserved, ifindex, ARPHRD, packet type, address length, 8 address bytes. */
function decodeSll2(buf: Uint8Array, at: number, length: number, out: LinkFrame): string | undefined {
  if (length < SLL2_HLEN) return 'frame shorter than a Linux SLL2 header';
  out.ifindex = readU32(buf, at + 4);
  out.direction = directionOf(buf[at + 10]!);
  out.protocol = readU16(buf, at + 0);
  out.payloadOffset = SLL2_HLEN;
  out.hwSourceAt = buf[at + 11] === ETH_ALEN ? 12 : -1;
  out.hwDestAt = -1;
  return undefined;
}

/** LINKTYPE_RAW: IPv4 or IPv6, told apart by the version nibble. */
function decodeRawIp(buf: Uint8Array, at: number, length: number, out: LinkFrame): string | undefined {
  if (length < 1) return 'empty frame';
  const version = buf[at + 0]! >> 4;
  if (version === 4) out.protocol = ETH_P_IP;
  else if (version === 6) out.protocol = ETH_P_IPV6;
  else return `raw IP frame with IP version ${version}`;
  out.ifindex = 0;
  out.direction = PacketDirection.Unknown;
  out.payloadOffset = 0;
  out.hwSourceAt = -1;
  out.hwDestAt = -1;
  return undefined;
}

/** LINKTYPE_IPV4: always IPv4; the IPv4 decoder judges the bytes. */
function decodeRawIpv4(_buf: Uint8Array, _at: number, length: number, out: LinkFrame): string | undefined {
  if (length < 1) return 'empty frame';
  out.ifindex = 0;
  out.direction = PacketDirection.Unknown;
  out.protocol = ETH_P_IP;
  out.payloadOffset = 0;
  out.hwSourceAt = -1;
  out.hwDestAt = -1;
  return undefined;
}
