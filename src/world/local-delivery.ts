/**
 * What a host's sockets do with a packet delivered to it: the kernel answers echo requests
 * (icmp_echo), and a local ping application takes echo replies.
 */
import type { Host } from '../host/host.js';
import type { Skb } from '../netfilter/skb.js';
import { buildIcmpEcho } from '../packet/build.js';
import { ICMP_ECHO, ICMP_ECHOREPLY } from '../packet/ipv4.js';
import { IPPROTO } from '../netfilter/constants.js';
import type { World } from './world.js';

export function answerLocally(world: World, host: Host, skb: Skb): void {
  const p = skb.pkt;
  if (p.proto !== IPPROTO.ICMP) return;
  if (p.icmpType === ICMP_ECHO) {
    // icmp_echo → icmp_reply: same id, sequence and data, from the address that was pinged.
    const payload = p.data.subarray(p.l4off + 8);
    const seq = (p.data[p.l4off + 6]! << 8) | p.data[p.l4off + 7]!;
    const reply = buildIcmpEcho({ saddr: p.daddr, daddr: p.saddr, ipId: world.prng.u16(), ttl: 64, type: ICMP_ECHOREPLY, echoId: p.sport, seq, payload });
    host.output(reply, world.queue.now);
  } else if (p.icmpType === ICMP_ECHOREPLY) {
    const seq = (p.data[p.l4off + 6]! << 8) | p.data[p.l4off + 7]!;
    world.replies.push({ host: host.name, time: world.queue.now, from: p.saddr, seq });
  }
}
