/**
 * The packets natsim's own stack made in a capture replay (an echo reply, an ICMP error) wait
 * a second for the kernel's copy in the capture, and no longer: a capture that never shows them
 * must not make natsim's memory grow with its length.
 */
import { describe, expect, it } from 'vitest';
import { loadNode, nodeScenario } from '../../src/node/snapshot.js';
import { World } from '../../src/world/world.js';
import { OwnOutput } from '../../src/world/own-output.js';
import { Skb } from '../../src/netfilter/skb.js';
import { buildIcmpEcho } from '../../src/packet/build.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';

const host = new World(nodeScenario(loadNode('fixtures/kernel/icmp-masq'))).hosts.values().next().value!;
const reply = (echoId: number) => buildIcmpEcho({ saddr: parseIpv4('192.168.206.250')!, daddr: parseIpv4('192.168.206.1')!, ipId: 1, ttl: 64, type: 0, echoId, seq: 1, payload: new Uint8Array(0) });
const made = (own: OwnOutput, echoId: number, time: number) => own.sent(new Skb(echoId, reply(echoId), time, 0, null));

describe('OwnOutput: what natsim made', () => {
  it('is claimed by its copy within a second', () => {
    const own = new OwnOutput(host, []);
    made(own, 1, 1e9);
    expect(own.classify(reply(1), 1.5e9).kind).toBe('made');
    expect(own.waiting).toBe(0);
  });

  it('is forgotten a second after it was made, so an Out record later is the node’s own', () => {
    const own = new OwnOutput(host, []);
    made(own, 1, 1e9);
    made(own, 2, 2.5e9);
    expect(own.waiting).toBe(1);
    expect(own.classify(reply(1), 2.6e9).kind).toBe('feed');
  });

  it('holds only the last second’s packets however many the capture never shows', () => {
    const own = new OwnOutput(host, []);
    // one made packet each millisecond for 20 s, each with an echo id of its own
    for (let i = 0; i < 20_000; i++) made(own, i & 0xffff, i * 1e6);
    expect(own.waiting).toBeLessThanOrEqual(1001);
  });
});
