/**
 * The references packets hold on an unconfirmed conntrack entry (nf_conntrack_get / nf_ct_put):
 * a flooded frame's clones share one entry, so one clone dropped in FORWARD must not free it
 * under the others; and a new entry the protocol tracker refuses dies with its packet, its
 * records back in its table's slab.
 */
import { describe, expect, it } from 'vitest';
import { conntrackIn } from '../../src/netfilter/conntrack/core.js';
import { Hook } from '../../src/netfilter/constants.js';
import { NetfilterNet } from '../../src/netfilter/net.js';
import { Skb } from '../../src/netfilter/skb.js';
import { Sysctl } from '../../src/host/sysctl.js';
import { Prng } from '../../src/sim/prng.js';
import { buildIcmpEcho, buildUdp } from '../../src/packet/build.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { KERNEL_PROFILES, DEFAULT_KERNEL } from '../../src/kernel/profile.js';
import { parseScenario } from '../../src/scenario/load.js';
import { buildHost } from '../../src/world/build-host.js';
import { quietPorts } from '../support/quiet-ports.js';
import { parseMac } from '../../src/host/device.js';
import { ETH_P_IP } from '../../src/capture/link-layer.js';

const ip = (s: string) => parseIpv4(s)!;

const BRIDGE = `natsim: 1
hosts:
  br:
    sysctl: { net.ipv4.ip_forward: 1, net.bridge.bridge-nf-call-iptables: 1 }
    interfaces:
      br0: { kind: bridge, addr: [10.0.0.1/24], mac: "02:00:00:00:00:b0" }
      p1: { master: br0, link: l1, mac: "02:00:00:00:00:01" }
      p2: { master: br0, link: l2, mac: "02:00:00:00:00:02" }
      p3: { master: br0, link: l3, mac: "02:00:00:00:00:03" }
    ruleset: |
      *filter
      :INPUT ACCEPT [0:0]
      :FORWARD ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      -A FORWARD -m conntrack --ctstate INVALID -j DROP
      -A FORWARD -m physdev --physdev-out p2 -j DROP
      COMMIT
`;

describe('references to an unconfirmed entry', () => {
  it('a flooded frame: the clone dropped towards p2 leaves the entry to the one sent out p3', () => {
    const spec = parseScenario(BRIDGE, 'bridge.yaml').hosts[0]!;
    const sent: string[] = [];
    const ports = quietPorts((_h, dev) => void sent.push(dev.name));
    const host = buildHost(spec, ports, new Prng(1), 1, DEFAULT_KERNEL, false);
    const pkt = buildUdp({ saddr: ip('10.0.0.2'), daddr: ip('10.0.0.3'), sport: 1000, dport: 53, ipId: 1, ttl: 64, payload: new Uint8Array(4) });
    // an unknown destination MAC: the bridge floods to p2 and p3
    host.receive(pkt, host.device('p1')!, 0, { dest: parseMac('02:00:00:00:00:0b')!, source: parseMac('02:00:00:00:00:0a')!, proto: ETH_P_IP });
    expect([sent, host.nf.table.count]).toEqual([['p3'], 1]);
  });

  it('a new entry the tracker finds invalid gives its record back', () => {
    const net = new NetfilterNet(new Sysctl(KERNEL_PROFILES['6.18']), new Prng(1), 1, 1);
    const reply = (id: number) => new Skb(id, buildIcmpEcho({ saddr: ip('10.0.0.1'), daddr: ip('10.0.0.2'), ipId: 1, ttl: 64, type: 0, echoId: id, seq: 1, payload: new Uint8Array(8) }), id, 0, null);
    const pass = (skb: Skb) => conntrackIn(net, skb, { hook: Hook.PreRouting, in: null, out: null, trace: null, notes: null });
    pass(reply(0)); // an echo reply makes no entry (nf_conntrack_icmp_packet): invalid
    const capacity = net.table.records.capacity;
    for (let id = 1; id <= 5000; id++) pass(reply(id));
    expect([net.table.count, net.stats.total().invalid, net.table.records.capacity]).toEqual([0, 5001, capacity]);
  });

  it('a REJECTed packet: its answer takes its reference to the entry before the packet lets go of its own', () => {
    const spec = parseScenario(
      `natsim: 1
hosts:
  rt:
    interfaces: { eth0: { addr: [10.0.0.1/24], link: l } }
    ruleset: |
      *filter
      :INPUT ACCEPT [0:0]
      -A INPUT -p udp -m conntrack --ctstate NEW -j REJECT
      COMMIT
`,
      'reject.yaml',
    ).hosts[0]!;
    const refsOnTheWire: number[] = [];
    const ports = quietPorts((_h, _dev, skb) => void refsOnTheWire.push(skb.ct?.refs ?? -1));
    const host = buildHost(spec, ports, new Prng(1), 1, DEFAULT_KERNEL, false);
    const pkt = buildUdp({ saddr: ip('10.0.0.2'), daddr: ip('10.0.0.1'), sport: 1000, dport: 53, ipId: 1, ttl: 64, payload: new Uint8Array(4) });
    host.receive(pkt, host.device('eth0')!, 0, null);
    // the port unreachable left holding the entry beside the rejected packet (nf_ct_attach before kfree_skb)
    expect(refsOnTheWire).toEqual([2]);
    expect(host.nf.table.count).toBe(0);
  });
});
