/** The IPv6 frames of a kernel recording, decoded, with their direction (for the IPv6 tests). */
import { readCapture, type CaptureRecord, type PacketDirection } from '../../src/capture/index.js';
import { ETH_P_IPV6 } from '../../src/capture/link-layer.js';
import { Ipv6Packet } from '../../src/packet/ipv6.js';

export interface Frame6 {
  readonly dir: PacketDirection;
  readonly ifindex: number;
  readonly pkt: Ipv6Packet;
}

export async function ipv6Frames(path: string): Promise<Frame6[]> {
  const out: Frame6[] = [];
  await readCapture(path, (r: CaptureRecord) => {
    if (r.protocol !== ETH_P_IPV6) return;
    const pkt = Ipv6Packet.decode(r.payload);
    if (typeof pkt === 'string') throw new Error(`${path} record ${r.index}: ${pkt}`);
    out.push({ dir: r.direction, ifindex: r.ifindex, pkt });
  });
  return out;
}
