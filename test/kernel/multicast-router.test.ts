/**
 * The kernel recordings multicast-router (scripts/record/multicast-router.sh) and
 * ip6-multicast-router (ip6-multicast-router.sh): a forwarding router with a default route
 * receives datagrams (and pings) to groups and broadcast addresses. ip_route_input_rcu routes a
 * group by membership (igmp.txt), never by the default route, and so does ip6_mc_input (an IPv6
 * router is in all-routers); a broadcast is delivered; nothing is answered.
 * (conntrack-tools-views.test.ts compares their conntrack -L and -S, as for every recording.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadNode, nodeScenario, type NodeSnapshot } from '../../src/node/snapshot.js';
import { replayCapture } from '../../src/world/capture-replay.js';
import { Hook } from '../../src/netfilter/constants.js';
import { formatIpv4 } from '../../src/packet/ipv4-addr.js';
import { formatInetAddr } from '../../src/packet/inet-addr.js';
import { Ipv6Packet } from '../../src/packet/ipv6.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { expectSameBytes, pairUp } from './compare.js';

const DIR = 'fixtures/kernel/multicast-router';

async function replay(node: NodeSnapshot = loadNode(DIR), dir = node.dir) {
  const events: TraceEvent[] = [];
  const r = await replayCapture(`${dir}/capture.pcap`, nodeScenario(node), { keepPackets: true, sink: { emit: (e) => void events.push(e) } });
  return { r, events };
}

/** The kernel's nstat count of a counter (0 when nstat left it out). */
function nstat(counter: string): number {
  const m = new RegExp(`^${counter}\\s+(\\d+)`, 'm').exec(readFileSync(`${DIR}/nstat.txt`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** The destinations of the packets that reached `hook`, one per packet, in order. */
function reached(events: readonly TraceEvent[], hook: Hook): string[] {
  const seen = new Map<number, string>();
  for (const e of events) if (e.kind === 'hook' && e.hook === hook && !seen.has(e.skb)) seen.set(e.skb, formatInetAddr(e.before.daddr));
  return [...seen.values()];
}

describe('kernel recording multicast-router', () => {
  it('sends only what the kernel sent: the forwarded unicast datagram, byte for byte', async () => {
    const { r } = await replay();
    const pairs = pairUp(r.packets!.sent, r.packets!.recorded);
    expect(pairs).toHaveLength(1);
    pairs.forEach((p, i) => expectSameBytes(p, i));
    expect(formatIpv4(pairs[0]!.natsim.daddr)).toBe('192.168.206.1');
  });

  it('delivers the joined groups and the broadcasts through LOCAL_IN and forwards none of them, as the nft counters show', async () => {
    const { events } = await replay();
    const input = reached(events, Hook.LocalIn);
    // nft list ruleset's counters: input's three rules (groups, 10.0.3.255, 255.255.255.255), then forward's (groups)
    const counters = [...readFileSync(`${DIR}/nft-ruleset.txt`, 'utf8').matchAll(/ip daddr (\S+) counter packets (\d+)/g)].map((m) => Number(m[2]));
    expect(counters).toHaveLength(4);
    const isGroup = (d: string): boolean => /^2(2[4-9]|3\d)\./.test(d);
    expect([input.filter(isGroup).length, input.filter((d) => d === '10.0.3.255').length, input.filter((d) => d === '255.255.255.255').length]).toEqual(counters.slice(0, 3));
    expect(input).toEqual(['224.0.0.1', '239.1.1.1', '239.1.1.1', '10.0.3.255', '255.255.255.255', '224.0.0.1', '10.0.3.255']);
    const forwarded = reached(events, Hook.Forward);
    expect(forwarded.filter(isGroup)).toHaveLength(counters[3]!);
    expect(forwarded).toEqual(['192.168.206.1']);
  });

  it('drops the groups eth1 has not joined in routing, with no ICMP and no entry', async () => {
    const { r, events } = await replay();
    const drops = events.filter((e) => e.kind === 'route' && e.result === 'drop').map((e) => (e.kind === 'route' ? e.reason : ''));
    expect(drops).toEqual([
      'multicast group 239.255.255.250 not joined on eth1 (ip_route_input_rcu: no multicast routing)',
      'multicast group 239.255.255.250 not joined on eth1 (ip_route_input_rcu: no multicast routing)',
      'multicast group 224.0.0.251 not joined on eth1 (ip_route_input_rcu: no multicast routing)',
    ]);
    expect([...r.host.nf.table.connections()].map((c) => formatIpv4(c.tuple(0).dst))).not.toContain('239.255.255.250');
  });

  it('counts what nstat counted: IpExtInMcastPkts, IpExtInBcastPkts, and IcmpInErrors for the two pings icmp_echo_ignore_broadcasts drops', async () => {
    const { r } = await replay();
    const mib = r.host.nf.mib;
    expect([mib.get('IpExtInMcastPkts'), mib.get('IpExtInBcastPkts'), mib.get('IcmpInErrors'), mib.get('IpInAddrErrors')]).toEqual([
      nstat('IpExtInMcastPkts'),
      nstat('IpExtInBcastPkts'),
      nstat('IcmpInErrors'),
      nstat('IpInAddrErrors'),
    ]);
    expect([nstat('IpExtInMcastPkts'), nstat('IpExtInBcastPkts'), nstat('IcmpInErrors')]).toEqual([4, 3, 2]);
  });

  it('takes 239.1.1.1 from igmp.txt: without it, eth1 is in 224.0.0.1 only and the receiver\'s datagrams are dropped', async () => {
    const node = loadNode(DIR);
    expect(node.host.interfaces.find((i) => i.name === 'eth1')?.groups?.map(formatIpv4)).toEqual(['239.1.1.1']);
    const without = { ...node, host: { ...node.host, interfaces: node.host.interfaces.map((i) => ({ ...i, groups: [] })) } };
    const { r, events } = await replay(without);
    expect(reached(events, Hook.LocalIn)).not.toContain('239.1.1.1');
    expect(r.host.nf.mib.get('IpExtInMcastPkts')).toBe(nstat('IpExtInMcastPkts') - 2);
  });

  it('with icmp_echo_ignore_broadcasts=0 (multicast-router-echo), answers both pings from 10.0.3.254, as the kernel did', async () => {
    const dir = `${DIR}-echo`;
    const { r } = await replay(loadNode(dir));
    const pairs = pairUp(r.packets!.sent, r.packets!.recorded);
    pairs.forEach((p, i) => expectSameBytes(p, i, { ipId: p.kernel.proto === 1 }));
    const replies = pairs.filter((p) => p.natsim.proto === 1).map((p) => `${formatIpv4(p.natsim.saddr)} > ${formatIpv4(p.natsim.daddr)}`);
    expect(replies).toEqual(['10.0.3.254 > 10.0.3.1', '10.0.3.254 > 10.0.3.1']);
    expect(r.host.nf.mib.get('IcmpInErrors')).toBe(0);
  });
});

describe('kernel recording ip6-multicast-router', () => {
  const dir = 'fixtures/kernel/ip6-multicast-router';

  it('sends only the forwarded unicast datagram, byte for byte', async () => {
    const { r } = await replay(loadNode(dir));
    expect(r.packets!.sent.map((s) => Buffer.from(s.bytes).toString('hex'))).toEqual(r.packets!.recorded.map((s) => Buffer.from(s.bytes).toString('hex')));
    expect(r.packets!.sent.map((s) => formatInetAddr((Ipv6Packet.decode(s.bytes) as Ipv6Packet).daddr))).toEqual(['fd00:206::1']);
  });

  it('delivers all-routers (ff02::2, ff05::2) and all-nodes through LOCAL_IN, as the input counter shows, and drops the groups it is not in', async () => {
    const { events } = await replay(loadNode(dir));
    const counters = [...readFileSync(`${dir}/nft-ruleset.txt`, 'utf8').matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
    const input = reached(events, Hook.LocalIn);
    expect(input).toEqual(['ff02::2', 'ff05::2', 'ff02::1']);
    expect([input.length, reached(events, Hook.Forward).filter((d) => d.startsWith('ff')).length]).toEqual(counters);
    const drops = events.flatMap((e) => (e.kind === 'route' && e.result === 'drop' ? [e.reason] : []));
    expect(drops).toEqual(['ff02::3', 'ff05::1:3', 'ff0e::1234'].map((g) => `multicast group ${g} not joined on eth1 (ip6_mc_input: no multicast routing)`));
  });
});

/** An iptables-save -c rule's packet count: `[P:B] -A CHAIN -d DST`. */
function ruleCount(dir: string, chain: string, dst: string): number {
  const m = new RegExp(`^\\[(\\d+):\\d+\\] -A ${chain} -d ${dst.replace(/\./g, '\\.')}$`, 'm').exec(readFileSync(`${dir}/iptables-save-c.txt`, 'utf8'));
  return Number(m![1]);
}

describe.each(['on', 'off'])('kernel recording bridge-multicast-brnf-%s', (brnf) => {
  const dir = `fixtures/kernel/bridge-multicast-brnf-${brnf}`;

  it('floods the groups and broadcasts to the other port, as the kernel did, and routes only the unicast out of eth0', async () => {
    const { r } = await replay(loadNode(dir));
    const pairs = pairUp(r.packets!.sent, r.packets!.recorded);
    pairs.forEach((p, i) => expectSameBytes(p, i));
    expect(pairs.map((p) => `${p.ifindex} ${formatIpv4(p.natsim.daddr)}`)).toEqual(['5 224.0.0.251', '5 239.255.255.250', '5 224.0.0.1', '5 172.17.255.255', '5 255.255.255.255', '5 172.17.0.3', '2 192.168.206.1']);
  });

  it('passes up to docker0 the groups it is in and the broadcasts (INPUT counters), and through FORWARD only with br_netfilter', async () => {
    const { events } = await replay(loadNode(dir));
    const input = reached(events, Hook.LocalIn);
    expect([input.filter((d) => d.startsWith('22')).length, input.filter((d) => d === '172.17.255.255').length]).toEqual([ruleCount(dir, 'INPUT', '224.0.0.0/4'), ruleCount(dir, 'INPUT', '172.17.255.255/32')]);
    expect(input).toEqual(['224.0.0.1', '172.17.255.255', '255.255.255.255']);
    const forward = reached(events, Hook.Forward);
    expect([forward.filter((d) => /^2(2[4-9]|3\d)\./.test(d)).length, forward.filter((d) => d === '172.17.255.255').length]).toEqual([ruleCount(dir, 'FORWARD', '224.0.0.0/4'), ruleCount(dir, 'FORWARD', '172.17.255.255/32')]);
  });
});
