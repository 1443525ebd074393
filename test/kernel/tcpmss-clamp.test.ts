/**
 * MSS clamping on a dual-stack router whose WAN link has MTU 1400 (recordings tcpmss-clamp,
 * with xt_TCPMSS through iptables-nft and ip6tables-nft, and tcpmss-clamp-nft, with nft's
 * `tcp option maxseg size set rt mtu`): natsim sends every packet the kernel sent, and the
 * MSS of each forwarded SYN is the kernel's — the path MTU less 40 for IPv4 and 60 for IPv6,
 * and for a SYN without the option, TCPMSS's added 536 or 1220 (nft adds none).
 */
import { describe, expect, it } from 'vitest';
import { loadNode, nodeScenario } from '../../src/node/snapshot.js';
import { replayCapture } from '../../src/world/capture-replay.js';
import { Ipv4Packet } from '../../src/packet/ipv4.js';
import { Ipv6Packet } from '../../src/packet/ipv6.js';

const decode = (b: Uint8Array) => (b[0]! >> 4 === 6 ? Ipv6Packet.decode(b) : Ipv4Packet.decode(b));

/** The MSS option of a TCP SYN (or SYN-ACK), or null without one. */
function mssOf(bytes: Uint8Array): number | null {
  const p = decode(bytes);
  if (typeof p === 'string' || p.proto !== 6 || !(p.tcpFlags & 0x02)) return null;
  for (let i = p.tcpOptionsOffset; i < p.tcpOptionsOffset + p.tcpOptionsLength; ) {
    const kind = p.data[i]!;
    if (kind === 2) return (p.data[i + 2]! << 8) | p.data[i + 3]!;
    i += kind <= 1 ? 1 : p.data[i + 1]!;
  }
  return null;
}

async function syns(name: string): Promise<{ natsim: (number | null)[]; kernel: (number | null)[] }> {
  const dir = `fixtures/kernel/${name}`;
  const r = await replayCapture(`${dir}/capture.pcap`, nodeScenario(loadNode(dir)), { keepPackets: true, followKernel: true });
  const isSyn = (b: Uint8Array): boolean => {
    const p = decode(b);
    return typeof p !== 'string' && p.proto === 6 && (p.tcpFlags & 0x02) !== 0;
  };
  expect(r.packets!.sent).toHaveLength(r.packets!.recorded.length);
  return { natsim: r.packets!.sent.filter((p) => isSyn(p.bytes)).map((p) => mssOf(p.bytes)), kernel: r.packets!.recorded.filter((p) => isSyn(p.bytes)).map((p) => mssOf(p.bytes)) };
}

describe('kernel recordings tcpmss-clamp and tcpmss-clamp-nft', () => {
  it('xt_TCPMSS --clamp-mss-to-pmtu: 1360 and 1340 on the SYNs, the SYN-ACKs left at their own; 536 and 1220 added to option-less SYNs', async () => {
    const { natsim, kernel } = await syns('tcpmss-clamp');
    // IPv4 SYN, SYN-ACK; IPv6 SYN, SYN-ACK; the option-less SYNs (IPv4, IPv6); w's RSTs carry no SYN
    expect(kernel).toEqual([1360, 1360, 1340, 1340, 536, 1220]);
    expect(natsim).toEqual(kernel);
  });

  it('nft rt mtu: the same clamping, and a SYN without the option goes on without one', async () => {
    const { natsim, kernel } = await syns('tcpmss-clamp-nft');
    expect(kernel).toEqual([1360, 1360, 1340, 1340, null, null]);
    expect(natsim).toEqual(kernel);
  });
});
