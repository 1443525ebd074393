/**
 * Compares what natsim sent with what the kernel sent in a recording: same number of packets,
 * same interface, and the same bytes — except, where the kernel chose a port at random, the
 * source port and the L4 checksum, which are then judged by the rule by the caller.
 */
import { expect } from 'vitest';
import { Ipv4Packet } from '../../src/packet/ipv4.js';
import type { SentPacket } from '../../src/world/capture-replay.js';

export interface Pair {
  readonly natsim: Ipv4Packet;
  readonly kernel: Ipv4Packet;
  readonly ifindex: number;
}

export function pairUp(sent: readonly SentPacket[], recorded: readonly SentPacket[]): Pair[] {
  expect(sent.length, 'natsim sent as many IPv4 packets as the kernel').toBe(recorded.length);
  return recorded.map((k, i) => {
    const n = sent[i]!;
    expect(n.ifindex, `packet ${i + 1}: interface`).toBe(k.ifindex);
    return { natsim: decode(n.bytes), kernel: decode(k.bytes), ifindex: k.ifindex };
  });
}

function decode(bytes: Uint8Array): Ipv4Packet {
  const p = Ipv4Packet.decode(bytes);
  if (typeof p === 'string') throw new Error(`not an IPv4 packet: ${p}`);
  return p;
}

/**
 * Byte equality, except the fields the kernel chose at random: the source or destination port
 * (with the L4 checksum), or the IP id of a packet the kernel made itself (with the IP checksum).
 */
export function expectSameBytes(pair: Pair, i: number, ignore: { sport?: boolean; dport?: boolean; ipId?: boolean } = {}): void {
  const a = Uint8Array.from(pair.natsim.data);
  const b = Uint8Array.from(pair.kernel.data);
  const l4 = pair.kernel.l4off;
  const blank = (at: number, len: number): void => {
    a.fill(0, at, at + len);
    b.fill(0, at, at + len);
  };
  if (ignore.ipId) {
    blank(4, 2);
    blank(10, 2);
  }
  if (ignore.sport || ignore.dport) {
    if (ignore.sport) blank(l4, 2);
    if (ignore.dport) blank(l4 + 2, 2);
    blank(l4 + (pair.kernel.proto === 6 ? 16 : 6), 2);
  }
  expect(Buffer.from(a).toString('hex'), `packet ${i + 1} bytes`).toBe(Buffer.from(b).toString('hex'));
  expect(pair.natsim.checksumsValid(), `packet ${i + 1} checksums`).toBe(true);
}
