/**
 * --write-pcap FILE: every IPv4 packet that arrives on or leaves the traced host, as
 * `tcpdump -i any` writes it (LINUX_SLL2 with interface index and direction, nanosecond
 * timestamps from the virtual clock), so Wireshark or `tcpdump -r -nn -e` can read natsim's
 * packets beside a real capture.
 */
import { LinkType, PacketDirection } from '../capture/record.js';
import { PcapWriter } from '../capture/pcap-writer.js';
import { ETH_P_IP } from '../capture/link-layer.js';
import { InputError } from '../errors.js';
import type { PacketTap } from '../host/host.js';
import { requireOutputFile } from './input-file.js';


export interface CaptureOut {
  readonly tap: PacketTap;
  close(): void;
}

export function openCaptureOut(path: string): CaptureOut {
  requireOutputFile(path);
  let writer: PcapWriter;
  try {
    writer = new PcapWriter(path, { linkType: LinkType.LinuxSll2, nanosecond: true });
  } catch (e) {
    throw new InputError({ file: path }, `cannot write: ${(e as Error).message}`);
  }
  return {
    tap: (direction: PacketDirection.Host | PacketDirection.Outgoing, dev, pkt, time) =>
      writer.write({ sec: Math.floor(time / 1e9), nsec: time % 1e9, ifindex: dev.index, direction, protocol: ETH_P_IP, payload: pkt.data }),
    close: () => writer.close(),
  };
}
