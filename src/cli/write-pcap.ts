/**
 * --write-pcap FILE: every IPv4 and IPv6 packet that arrives on or leaves the traced host, as
 * `tcpdump -i any` writes it (LINUX_SLL2 with interface index and direction, nanosecond
 * timestamps; pcapng, as dumpcap writes it, when FILE ends in .pcapng), so Wireshark or
 * `tcpdump -r -nn -e` can read natsim's packets beside a real capture. Replaying a capture, times are the capture's own (ClockOrigin; a packet the kernel
 * sent too has the kernel's time) and packets are in time order, as tcpdump saw them: a packet
 * the kernel sent later than the next one arrived is written after that one.
 */
import { LinkType, PacketDirection } from '../capture/record.js';
import { openCaptureWriter, type CaptureWriter } from '../capture/index.js';
import { ETH_P_IP, ETH_P_IPV6 } from '../capture/link-layer.js';
import type { ClockOrigin } from '../capture/clock-origin.js';
import { InputError } from '../errors.js';
import type { PacketTap } from '../host/host.js';
import { requireOutputFile } from './input-file.js';

export interface CaptureOut {
  readonly tap: PacketTap;
  close(): void;
}

interface Held {
  readonly time: number;
  readonly ifindex: number;
  readonly direction: PacketDirection;
  /** skb->protocol, which SLL2 carries: an IPv6 packet written as ETH_P_IP is unreadable. */
  readonly protocol: number;
  readonly bytes: Uint8Array;
}

export function openCaptureOut(path: string, origin: ClockOrigin): CaptureOut {
  requireOutputFile(path);
  let writer: CaptureWriter;
  try {
    writer = openCaptureWriter(path, { linkType: LinkType.LinuxSll2, nanosecond: true });
  } catch (e) {
    throw new InputError({ file: path }, `cannot write: ${(e as Error).message}`);
  }
  // Packets a host sends may carry a later time than the next one it receives; every packet
  // tapped later is at or after the latest arrival, so what is held up to it can be written.
  let held: Held[] = [];
  const writeUpTo = (time: number): void => {
    held.sort((a, b) => a.time - b.time); // stable: same-time packets stay in the order made
    const due = held.filter((h) => h.time <= time);
    held = held.filter((h) => h.time > time);
    for (const h of due) writer.write({ ...origin.wall(h.time), ifindex: h.ifindex, direction: h.direction, protocol: h.protocol, payload: h.bytes });
  };
  return {
    tap: (direction: PacketDirection.Host | PacketDirection.Outgoing, dev, pkt, time) => {
      held.push({ time, ifindex: dev.index, direction, protocol: pkt.family === 6 ? ETH_P_IPV6 : ETH_P_IP, bytes: Uint8Array.from(pkt.data) });
      if (direction === PacketDirection.Host) writeUpTo(time);
    },
    close: () => {
      writeUpTo(Number.POSITIVE_INFINITY);
      writer.close();
    },
  };
}
