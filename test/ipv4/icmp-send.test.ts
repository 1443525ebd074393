/**
 * What __icmp_send will not answer (ipv4/icmp.ts): a fragment but the first, an ICMP error or
 * a type it does not know, a packet to a broadcast address or a group. Each is checked beside
 * a packet it does answer, on a router of a scenario.
 */
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import { World } from '../../src/world/world.js';
import { icmpSend } from '../../src/ipv4/icmp.js';
import { Skb } from '../../src/netfilter/skb.js';
import { buildIcmpEcho, buildUdp } from '../../src/packet/build.js';
import { Ipv4Packet } from '../../src/packet/ipv4.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_PORT_UNREACH } from '../../src/packet/icmp.js';

const rt = new World(
  parseScenario(
    `natsim: 1
name: t
hosts:
  rt:
    interfaces: { eth1: { addr: [10.0.3.254/24], link: lan } }
`,
    't.yaml',
  ),
).hosts.get('rt')!;

const C = parseIpv4('10.0.3.1')!;

/** A datagram from c to `daddr`, its fragment offset and more-fragments bit set as given. */
function udp(daddr: string, fragOffset = 0, more = false): Ipv4Packet {
  const bytes = Uint8Array.from(buildUdp({ saddr: C, daddr: parseIpv4(daddr)!, sport: 40000, dport: 9, ipId: 1, ttl: 64, payload: new Uint8Array(16), df: false }).data);
  const word = (more ? 0x2000 : 0) | (fragOffset >> 3);
  bytes[6] = word >> 8;
  bytes[7] = word & 0xff;
  return decoded(bytes);
}

function icmp(type: number): Ipv4Packet {
  const bytes = Uint8Array.from(buildIcmpEcho({ saddr: C, daddr: parseIpv4('10.0.3.254')!, ipId: 1, ttl: 64, type, echoId: 1, seq: 1, payload: new Uint8Array(8) }).data);
  return decoded(bytes);
}

function decoded(bytes: Uint8Array): Ipv4Packet {
  const p = Ipv4Packet.decode(bytes);
  if (typeof p === 'string') throw new Error(p);
  return p;
}

const answered = (pkt: Ipv4Packet): boolean => icmpSend(rt, new Skb(1, pkt, 0, 0, null), ICMP_DEST_UNREACH, ICMP_PORT_UNREACH);

describe('icmp_send', () => {
  it('answers the first fragment, not a later one', () => {
    expect(answered(udp('10.0.3.254', 0, true))).toBe(true);
    expect(answered(udp('10.0.3.254', 1480))).toBe(false);
  });

  it('answers an echo request, not a type past NR_ICMP_TYPES (18), which it takes for an error', () => {
    expect(answered(icmp(ICMP_ECHO))).toBe(true);
    expect(answered(icmp(19))).toBe(false);
  });

  it('answers nothing sent to a broadcast address or a group', () => {
    expect(['10.0.3.255', '255.255.255.255', '224.0.0.1', '239.1.1.1'].map((d) => answered(udp(d)))).toEqual([false, false, false, false]);
  });
});
