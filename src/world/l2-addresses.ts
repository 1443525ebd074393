/**
 * Link addresses a capture shows, for the bridge: SLL2 keeps a frame's source address but not
 * its destination, which the bridge forwards by. The capture tells who has which IPv4 address —
 * every ARP packet names its sender, every IPv4 frame on a port its source, every neighbour
 * advertisement its target's — so the destination of a frame entering a port is taken as the
 * one its sender addressed: for a destination on the bridge's subnet, that address's owner; for
 * any other, the bridge (the containers' gateway).
 * A frame whose destination owner the capture never names is flooded, as the bridge floods an
 * unknown destination (the trace shows `??`).
 */
import { PacketDirection, type CaptureRecord } from '../capture/record.js';
import { readU16, readU32 } from '../packet/ipv4.js';
import { ipv6Handle } from '../packet/ipv6-addr.js';
import { ICMPV6, ND_OPT } from '../packet/ipv6.js';
import { ifaMatch, type EthHeader } from '../host/device.js';
import type { BridgePort } from '../bridge/bridge.js';
import type { L3Packet } from '../packet/l3-packet.js';
import { ETH_P_IP } from '../capture/link-layer.js';
import { macKey } from '../bridge/br-fdb.js';
import { multicastMac } from './link-header.js';

const ARPHRD_ETHER = 1;
const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export class L2Addresses {
  private readonly byAddr = new Map<number, Uint8Array>();

  /** An ARP packet of the capture (any direction): its sender's hardware and protocol address. */
  observeArp(r: CaptureRecord): void {
    const a = r.payload;
    if (a.length < 28 || readU16(a, 0) !== ARPHRD_ETHER || a[4] !== 6 || a[5] !== 4) return;
    this.learn(readU32(a, 14), a.slice(8, 14));
  }

  /**
   * A neighbour advertisement to the host: its target's link-layer address option (ndisc_recv_na
   * takes the neighbour's address from it), what the host then knows the target by.
   */
  observeNdp(r: CaptureRecord): void {
    const a = r.payload;
    if (r.direction === PacketDirection.Outgoing || a.length < 72 || a[40] !== ICMPV6.NDISC_NEIGHBOUR_ADVERTISEMENT) return;
    if (a[64] === ND_OPT.TARGET_LL_ADDR && a[65] === 1) this.learn(ipv6Handle(a, 48), a.slice(66, 72));
  }

  /** `addr` is at link address `mac` (an IPv4 frame's sender on a port, an ARP sender, an advertised target). */
  learn(addr: number, mac: Uint8Array): void {
    const known = this.byAddr.get(addr);
    if (known === undefined || macKey(known) !== macKey(mac)) this.byAddr.set(addr, Uint8Array.from(mac));
  }

  macOf(addr: number): Uint8Array | null {
    return this.byAddr.get(addr) ?? null;
  }

  /** The header of an IPv4 frame that entered `port`, from its packet type, source and IPv4 destination. */
  portFrame(port: BridgePort, direction: PacketDirection, source: Uint8Array | null, pkt: L3Packet): EthHeader {
    return { dest: this.destOf(port, direction, pkt.daddr), source, proto: ETH_P_IP };
  }

  private destOf(port: BridgePort, direction: PacketDirection, daddr: number): Uint8Array | null {
    switch (direction) {
      case PacketDirection.Host:
        return port.dev.mac;
      case PacketDirection.Broadcast:
        return BROADCAST;
      case PacketDirection.Multicast:
        return multicastMac(daddr);
      default: {
        const br = port.br.dev;
        if (br.addrs.some((a) => a.local === daddr) || !br.addrs.some((a) => ifaMatch(daddr, a))) return br.mac;
        return this.macOf(daddr);
      }
    }
  }
}
