/**
 * The link header a captured frame arrived with, as skb_mac_header holds it for LOG's MAC=
 * field. An Ethernet capture has it whole; SLL and SLL2 keep only the sender's address, so the
 * receiver's is the one the packet type implies — the interface's own address (PACKET_HOST, from
 * the node snapshot or the scenario), the broadcast address, or the multicast group's
 * (ip_eth_mc_map); it stays unknown otherwise.
 */
import { PacketDirection, type CaptureRecord } from '../capture/record.js';
import { ETH_ALEN } from '../capture/link-layer.js';
import type { EthHeader, NetDevice } from '../host/device.js';

/** What a record tells of its link header. */
export interface CapturedLink {
  readonly direction: PacketDirection;
  readonly source: Uint8Array | null;
  readonly dest: Uint8Array | null;
  readonly proto: number;
}

export function captureLink(r: CaptureRecord): CapturedLink {
  // copied: the chunk is read into again once the record is fed
  const address = (at: number): Uint8Array | null => (at < 0 ? null : r.chunk.bytes.slice(r.frameAt + at, r.frameAt + at + ETH_ALEN));
  return { direction: r.direction, source: address(r.hwSourceAt), dest: address(r.hwDestAt), proto: r.protocol };
}

const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** The header of a frame received on `dev` for IPv4 destination `daddr`. */
export function receivedHeader(link: CapturedLink, dev: NetDevice, daddr: number): EthHeader {
  return { dest: link.dest ?? impliedDest(link.direction, dev, daddr), source: link.source, proto: link.proto };
}

function impliedDest(direction: PacketDirection, dev: NetDevice, daddr: number): Uint8Array | null {
  switch (direction) {
    case PacketDirection.Host:
      return dev.mac;
    case PacketDirection.Broadcast:
      return BROADCAST;
    case PacketDirection.Multicast:
      return multicastMac(daddr);
    default:
      return null;
  }
}

/** ip_eth_mc_map: the Ethernet group address of an IPv4 multicast group. */
export function multicastMac(daddr: number): Uint8Array {
  return new Uint8Array([0x01, 0x00, 0x5e, (daddr >>> 16) & 0x7f, (daddr >>> 8) & 0xff, daddr & 0xff]);
}
