/**
 * natsim explain on the kernel recordings and the explain seeds: every failed flow gets the
 * kernel's cause, with the packet, hook, rule, function and counter as evidence.
 */
import { describe, expect, it } from 'vitest';
import { explainRun } from '../../src/cli/explain.js';
import { MemoryStream } from '../cli/helpers.js';
import type { Cause, Explanation, Finding } from '../../src/explain/finding.js';
import { FlowCollector } from '../../src/explain/collect.js';
import { explanation } from '../../src/explain/explain.js';
import { paragraph } from '../../src/explain/render-text.js';
import { loadScenario } from '../../src/scenario/load.js';
import { World } from '../../src/world/world.js';
import { buildIcmpError, buildTcp } from '../../src/packet/build.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';

async function explain(input: string): Promise<Explanation> {
  const { explanations } = await explainRun(input, { quiet: true, stderr: new MemoryStream() });
  expect(explanations).toHaveLength(1);
  return explanations[0]!;
}

function only(x: Explanation, kind: Cause['kind']): Finding[] {
  return x.findings.filter((f) => f.cause.kind === kind);
}

function cause<K extends Cause['kind']>(f: Finding, kind: K): Extract<Cause, { kind: K }> {
  expect(f.cause.kind).toBe(kind);
  return f.cause as Extract<Cause, { kind: K }>;
}

describe('explain on kernel recordings', () => {
  it('snat-fixed-port-clash: the second connection dies at confirm, the first holding the only tuple', async () => {
    const x = await explain('fixtures/kernel/snat-fixed-port-clash/capture.pcap');
    expect(x.summary).toEqual([{ cause: 'nat-clash', flows: 1 }]);
    const [f] = x.findings;
    expect(f!.flow).toEqual({ proto: 'tcp', src: '10.0.3.1', sport: 41001, dst: '192.168.206.1', dport: 8080 });
    const c = cause(f!, 'nat-clash');
    expect(c.why).toBe('only-tuple');
    expect(c.holder.flow.sport).toBe(41000);
    expect(c.holder.reply).toMatchObject({ dst: '192.168.206.250', dport: 40000 });
    expect(f!.dropped).toBe(6); // every SYN, as conntrack -S's insert_failed=6 drop=6
    expect(f!.evidence).toMatchObject({ hook: 'POSTROUTING', counter: 'insert_failed', record: 11 });
    expect(f!.evidence.fn).toMatch(/__nf_conntrack_confirm/);
    expect(f!.evidence.rule).toMatchObject({ file: 'fixtures/kernel/snat-fixed-port-clash/iptables-save.txt', line: 7 });
    expect(f!.nat).toMatchObject({ kind: 'snat', range: '192.168.206.250:40000', rangeSize: 1 });
    expect(x.counters).toEqual({ insert_failed: 6, drop: 6 });
  });

  it('multicast-router: groups eth1 is not in were dropped in routing; what went to a group or broadcast and was delivered expects no reply', async () => {
    const x = await explain('fixtures/kernel/multicast-router/capture.pcap');
    expect(x.summary).toEqual([
      { cause: 'to-group', flows: 6 },
      { cause: 'group-not-joined', flows: 2 },
      { cause: 'timeout', flows: 1 },
    ]);
    expect(only(x, 'group-not-joined').map((f) => [f.flow.dst, cause(f, 'group-not-joined').dev, f.evidence.fn])).toEqual([
      ['239.255.255.250', 'eth1', 'ip_route_input_rcu'],
      ['224.0.0.251', 'eth1', 'ip_route_input_rcu'],
    ]);
    expect(only(x, 'to-group').map((f) => `${f.flow.dst} ${cause(f, 'to-group').to}`)).toEqual(['224.0.0.1 group', '239.1.1.1 group', '10.0.3.255 broadcast', '255.255.255.255 broadcast', '224.0.0.1 group', '10.0.3.255 broadcast']);
    expect(only(x, 'timeout').map((f) => f.flow.dst)).toEqual(['192.168.206.1']);
  });

  it('port-range-exhaustion-udp: the two flows that found no free port of four', async () => {
    const x = await explain('fixtures/kernel/port-range-exhaustion-udp/capture.pcap');
    expect(x.flows).toBe(6);
    expect(x.summary).toEqual([{ cause: 'nat-exhausted', flows: 2 }]);
    expect(x.findings.map((f) => f.flow.sport)).toEqual([42004, 42005]);
    for (const f of x.findings) {
      const c = cause(f, 'nat-exhausted');
      expect(c.held).toBe(4);
      expect(c.holders.map((h) => h.reply.dport).sort()).toEqual([50000, 50001, 50002, 50003]);
      expect(f.nat).toMatchObject({ range: '192.168.206.250:50000-50003', rangeSize: 4 });
      expect(f.evidence.counter).toBe('insert_failed');
    }
  });

  it('conntrack-flush-midstream-strict: INVALID by tcp_new, which nf_conntrack_tcp_loose=0 forbids to pick a connection up', async () => {
    const x = await explain('fixtures/kernel/conntrack-flush-midstream-strict/capture.pcap');
    const invalid = only(x, 'invalid');
    expect(invalid.map((f) => f.flow.sport)).toEqual([43100, 43200]);
    for (const f of invalid) {
      expect(cause(f, 'invalid').check).toMatch(/nf_conntrack_tcp_loose=0/);
      expect(f.evidence).toMatchObject({ fn: 'tcp_new', counter: 'invalid', hook: 'FORWARD', rule: { line: 11, text: 'ct state invalid drop' } });
    }
  });

  it('filter-only-router: INVALID by tcp_error and an unrelated ICMP error, dropped by ct state invalid drop; the policy drops', async () => {
    const x = await explain('fixtures/kernel/filter-only-router/capture.pcap');
    const invalid = only(x, 'invalid');
    expect(invalid.map((f) => f.flow.sport)).toEqual([43001, 43002, 0]);
    for (const f of invalid.slice(0, 2)) {
      expect(cause(f, 'invalid').check).toMatch(/invalid tcp flag combination/);
      expect(f.evidence).toMatchObject({ fn: 'tcp_error', counter: 'invalid', hook: 'FORWARD', rule: { line: 5, text: 'ct state invalid drop' } });
    }
    expect(cause(invalid[2]!, 'invalid').check).toMatch(/quotes no tracked connection/);
    expect(invalid[2]!.evidence.counter).toBe('error');
    const policy = only(x, 'rule');
    expect(policy.map((f) => [f.flow.proto, f.flow.dport])).toEqual([['udp', 9], ['tcp', 22]]);
    expect(policy.map((f) => cause(f, 'rule'))).toEqual([0, 1].map(() => ({ kind: 'rule', verdict: 'drop', table: 'ip filter', chain: 'forward', policy: true })));
  });

  it('icmp-error-related: ICMP errors back, an ARP that never answered, a TTL that ran out', async () => {
    const x = await explain('fixtures/kernel/icmp-error-related/capture.pcap');
    const icmp = only(x, 'icmp-error').map((f) => [f.flow.sport, cause(f, 'icmp-error').type, cause(f, 'icmp-error').code]);
    expect(icmp).toEqual([[40001, 3, 3], [40002, 3, 1], [40004, 11, 0]]);
    const [n] = only(x, 'neighbour');
    expect(n!.flow.sport).toBe(40005);
    expect(cause(n!, 'neighbour')).toMatchObject({ dev: 'eth0', nexthop: '192.168.206.99' });
    const [ttl] = only(x, 'other-drop');
    expect(ttl!.flow.sport).toBe(40003);
    expect(ttl!.evidence.fn).toBe('ip_forward');
  });

  it('ip6-masq-router: the IPv6 twin of icmp-error-related, named by IPv6 addresses, ICMPv6 and neighbour discovery', async () => {
    const x = await explain('fixtures/kernel/ip6-masq-router/capture.pcap');
    const [icmp] = only(x, 'icmp-error');
    expect(icmp!.flow).toEqual({ proto: 'udp', src: 'fd00:3::1', sport: 40001, dst: 'fd00:206::1', dport: 9 });
    expect(cause(icmp!, 'icmp-error')).toMatchObject({ icmp: 'icmpv6', type: 1, code: 4, text: 'destination unreachable: port unreachable', from: 'fd00:206::1' });
    expect(icmp!.evidence.fn).toBe('nf_conntrack_icmpv6_error (RELATED)');
    expect(icmp!.nat).toMatchObject({ kind: 'masquerade', range: 'fd00:206::250', translated: { src: 'fd00:206::250', sport: 40001 } });
    const [n] = only(x, 'neighbour');
    expect(cause(n!, 'neighbour')).toMatchObject({ protocol: 'ndisc', dev: 'eth0', nexthop: 'fd00:206::99' });
    expect(n!.evidence.fn).toBe('neigh_invalidate (ndisc_error_report)');
    const [hop] = only(x, 'other-drop');
    expect(hop!.flow.sport).toBe(40003);
    expect(hop!.evidence.fn).toBe('ip6_forward');
    // rt masquerades every flow to its eth0 address (the recording's source on the WAN side)
    expect(x.masquerade).toEqual([
      { family: 'ipv6', dev: 'eth0', destination: 'fd00:206::1', source: 'fd00:206::250', why: 'the best candidate by RFC 6724 source address selection', flows: 4 },
      { family: 'ipv6', dev: 'eth0', destination: 'fd00:206::99', source: 'fd00:206::250', why: 'the best candidate by RFC 6724 source address selection', flows: 1 },
    ]);
  });

  it('ip6-udp-frag-mtu1400: an overlapping non-first fragment names its flow by its addresses and the fragment header (no ports to read)', async () => {
    const x = await explain('fixtures/kernel/ip6-udp-frag-mtu1400/capture.pcap');
    const overlap = x.findings.filter((f) => f.cause.kind === 'other-drop' && /fragments overlap/.test(f.cause.reason));
    expect(overlap.map((f) => f.flow)).toEqual([{ proto: 'proto 44', src: 'fd00:3::1', sport: null, dst: 'fd00:206::1', dport: null }]);
    expect(overlap[0]!.evidence).toMatchObject({ hook: 'PREROUTING', fn: 'ipv6_defrag' });
  });

  it("masq-to-ports-multi-ip: which address MASQUERADE picked toward each next hop, and why", async () => {
    const x = await explain('fixtures/kernel/masq-to-ports-multi-ip/capture.pcap');
    expect(x.findings).toEqual([]);
    expect(x.masquerade.map((m) => (m.family === 'ipv4' ? [m.dev, m.nexthop, m.viaGateway, m.source, m.flows] : m))).toEqual([
      ['eth0', '10.0.2.2', true, '10.0.2.15', 4],
      ['eth0', '1.2.3.4', true, '1.2.3.56', 1],
    ]);
    expect(x.masquerade[0]!.why).toBe('the primary address of eth0 whose subnet holds the next hop');
  });
});

describe('explain on the explain seeds', () => {
  it('a full table: early_drop evicts the unassured UDP entry, then a SYN finds only ASSURED entries and dies', async () => {
    const x = await explain('fixtures/seeds/explain-table-full.yaml');
    const [evicted] = only(x, 'early-dropped');
    expect(evicted!.flow).toMatchObject({ proto: 'udp', sport: 40000 });
    expect(evicted!.evidence).toMatchObject({ fn: 'early_drop', counter: 'early_drop', time: 2.00001 });
    const [full] = only(x, 'table-full');
    expect(full!.flow).toMatchObject({ proto: 'tcp', sport: 41002 });
    expect(cause(full!, 'table-full')).toEqual({ kind: 'table-full', max: 2, count: 2 });
    expect(full!.evidence).toMatchObject({ hook: 'PREROUTING', counter: 'drop' });
    expect(full!.dropped).toBe(10);
    expect(x.counters).toEqual({ drop: 10, early_drop: 1 });
  });

  it('no route, a next hop nobody owns, a REJECT rule, an expired UDP entry, a closed port', async () => {
    const x = await explain('fixtures/seeds/explain-failures.yaml');
    const by = (sport: number): Finding => x.findings.find((f) => f.flow.sport === sport)!;
    expect(cause(by(40001), 'no-route').reason).toBe('no route to host');
    expect(by(40001).evidence.fn).toBe('ip_route_input_slow');
    expect(cause(by(40002), 'neighbour')).toMatchObject({ nexthop: '192.168.206.7', dev: 'eth0' });
    expect(cause(by(41001), 'rule')).toMatchObject({ verdict: 'reject', chain: 'forward', policy: false });
    expect(by(41001).evidence.rule).toMatchObject({ line: 23, text: 'tcp dport 23 reject with tcp reset' });
    expect(cause(by(40003), 'timeout')).toMatchObject({ expired: true });
    expect(by(40003).evidence).toMatchObject({ fn: 'gc_worker (nf_ct_gc_expired)', time: 33.00001 });
    expect(cause(by(41002), 'reset').from).toBe('peer');
    expect(x.findings.every((f) => !f.midstream)).toBe(true);
  });

  it('hairpin-nat-no-snat: the LAN flows DNATed back out of eth1 to a server on their own subnet are a hairpin without SNAT; with the masquerade, none fails', async () => {
    const x = await explain('fixtures/kernel/hairpin-nat-no-snat/capture.pcap');
    const hairpins = only(x, 'hairpin');
    expect(hairpins.map((f) => [f.flow.sport, cause(f, 'hairpin')])).toEqual([42000, 42001].map((p) => [p, { kind: 'hairpin', server: '10.0.3.2', dev: 'eth1' }]));
    expect(x.findings).toHaveLength(2);
    expect(paragraph(hairpins[0]!)).toMatch(/10\.0\.3\.2 answers the client directly/);
    const fixed = await explain('fixtures/kernel/hairpin-nat/capture.pcap');
    expect(fixed.findings.filter((f) => f.flow.proto === 'tcp')).toEqual([]);
  });

  it('conntrack-flush-midstream: entries picked up mid-stream, one reset by this host itself, one by the server', async () => {
    const x = await explain('fixtures/kernel/conntrack-flush-midstream/capture.pcap');
    const reset = only(x, 'reset');
    expect(reset.map((f) => [f.flow.src, f.flow.sport, cause(f, 'reset').from, f.midstream])).toEqual([
      ['192.168.206.1', 81, 'this-host', true],
      ['10.0.3.1', 43200, 'peer', true],
    ]);
    expect(x.findings).toHaveLength(2); // connection A, picked up too, completed
    expect(paragraph(reset[0]!)).toMatch(/^This host's own TCP stack answered with RST .* picked up mid-stream: its first segment was not a SYN, and nf_conntrack_tcp_loose=1/);
  });

  it('an asymmetric route: the SYN-ACK bypasses de-NAT and the client answers it with RST', async () => {
    const x = await explain('fixtures/seeds/explain-asymmetric.yaml');
    const [f] = x.findings;
    expect(cause(f!, 'asymmetric-reply').server).toBe('10.0.2.2');
    expect(f!.nat).toMatchObject({ kind: 'dnat', translated: { dst: '10.0.2.2', dport: 80 } });
    expect(f!.evidence.counter).toBe('invalid');
  });

  /** The stateful firewall's router with a probe, and TCP segments of 10.0.3.1:45000 <-> 192.168.206.1:80 to feed it; `edit` changes its ruleset. */
  function firewallFlow(edit: (ruleset: string) => string = (r) => r) {
    const spec = loadScenario('fixtures/seeds/stateful-firewall.yaml');
    const hosts = spec.hosts.map((h) => (h.ruleset ? { ...h, ruleset: { ...h.ruleset, text: edit(h.ruleset.text) } } : h));
    const world = new World({ ...spec, hosts, run: [] });
    const rt = world.hosts.get('rt1')!;
    const collector = new FlowCollector(rt, false);
    rt.probe = collector;
    const [client, server] = [parseIpv4('10.0.3.1')!, parseIpv4('192.168.206.1')!];
    const seg = (up: boolean, seq: number, ack: number, flags: number, len = 0) =>
      buildTcp({ saddr: up ? client : server, daddr: up ? server : client, sport: up ? 45000 : 80, dport: up ? 80 : 45000, seq, ack, flags, window: 1000, ipId: 1, ttl: 64, payloadLength: len, syn: flags & 2 ? { mss: 1460, wscale: 0 } : undefined });
    return { rt, collector, seg, lan: rt.device('eth1')!, wan: rt.device('eth0')! };
  }

  it('a reset by the sender: the client answers the SYN-ACK with RST', () => {
    const { rt, collector, seg, lan, wan } = firewallFlow();
    rt.receive(seg(true, 1000, 0, 0x02), lan, 1e6, null);
    rt.receive(seg(false, 5000, 1001, 0x12), wan, 2e6, null);
    rt.receive(seg(true, 1001, 0, 0x04), lan, 3e6, null);
    const [f] = only(explanation(collector, 4e6), 'reset');
    expect(cause(f!, 'reset').from).toBe('sender');
    expect(f!.midstream).toBe(false);
    expect(paragraph(f!)).toBe('The sender reset the connection (RST in the original direction): the entry went to CLOSE without being established.');
  });

  it('a reset by the sender stays the sender\'s when the server sends again into CLOSE (the tracker\'s last direction moves on)', () => {
    const { rt, collector, seg, lan, wan } = firewallFlow();
    rt.receive(seg(true, 1000, 0, 0x02), lan, 1e6, null);
    rt.receive(seg(false, 5000, 1001, 0x12), wan, 2e6, null);
    rt.receive(seg(true, 1001, 0, 0x04), lan, 3e6, null);
    rt.receive(seg(false, 5000, 1001, 0x12), wan, 3.5e6, null); // the SYN-ACK again, after the RST
    const [f] = only(explanation(collector, 4e6), 'reset');
    expect(cause(f!, 'reset').from).toBe('sender');
  });

  it('a PMTU black hole: the frag-needed RELATED to the flow, dropped by a forward rule, is the flow\'s drop', () => {
    const { rt, collector, seg, lan, wan } = firewallFlow((r) => r.replace('ct state established,related accept', 'icmp type destination-unreachable drop\n    ct state established,related accept'));
    rt.receive(seg(true, 1000, 0, 0x02), lan, 1e6, null);
    rt.receive(seg(false, 5000, 1001, 0x12), wan, 2e6, null);
    rt.receive(seg(true, 1001, 5001, 0x10), lan, 3e6, null);
    const big = seg(true, 1001, 5001, 0x18, 1400);
    rt.receive(big, lan, 4e6, null);
    rt.receive(buildIcmpError(3, 4, parseIpv4('192.168.206.1')!, big, 7, 1280), wan, 5e6, null);
    const [f] = only(explanation(collector, 6e6), 'rule');
    expect(f!.evidence).toMatchObject({ rule: { text: 'icmp type destination-unreachable drop' } });
  });

  it('INVALID by tcp_in_window: a segment beyond the receiver window, dropped by ct state invalid drop', () => {
    const { rt, collector, seg, lan, wan } = firewallFlow();
    rt.receive(seg(true, 1000, 0, 0x02), lan, 1e6, null);
    rt.receive(seg(false, 5000, 1001, 0x12), wan, 2e6, null);
    rt.receive(seg(true, 1001, 5001, 0x10), lan, 3e6, null);
    rt.receive(seg(true, 1001 + 100000, 5001, 0x18, 10), lan, 4e6, null); // far past the 1000-byte window
    const x = explanation(collector, 5e6);
    const [f] = only(x, 'invalid');
    expect(cause(f!, 'invalid').check).toMatch(/SEQ is over upper bound .* \(over the window of the receiver\)/);
    expect(f!.evidence).toMatchObject({ fn: 'tcp_in_window', counter: 'invalid', rule: { text: 'ct state invalid drop' } });
  });
});

describe('a stale DNAT entry', () => {
  it('keeps sending the flow to an endpoint that answered and then vanished', () => {
    const world = new World(loadScenario('fixtures/seeds/explain-stale-dnat.yaml'));
    const rt = world.hosts.get('rt1')!;
    const collector = new FlowCollector(rt, false);
    rt.probe = collector;
    world.run(0.5e9); // the first query and its answer
    world.hosts.delete('dns'); // the endpoint goes away; the entry stays
    world.run(10e9);
    const [f] = explanation(collector, world.queue.now).findings;
    expect(f!.flow).toMatchObject({ proto: 'udp', sport: 40053, dst: '10.0.1.254', dport: 53 });
    expect(cause(f!, 'neighbour')).toEqual({ kind: 'neighbour', protocol: 'arp', dev: 'eth0', nexthop: '10.0.2.2', how: 'gone', stale: { endpoint: '10.0.2.2', answeredBefore: true } });
    expect(f!.dropped).toBe(2); // the second and third queries
    expect(f!.evidence.time).toBeCloseTo(1, 3);
  });
});
