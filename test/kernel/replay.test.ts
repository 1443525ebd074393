/**
 * Replays of the Linux 6.18 kernel recordings (fixtures/kernel, copied from
 * shared/kernel-cases): natsim gets the packets the router received and must send what the
 * kernel sent.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadNode, nodeScenario } from '../../src/node/snapshot.js';
import { replayCapture, type ReplayOptions } from '../../src/world/capture-replay.js';
import { formatIpv4, parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { readU32 } from '../../src/packet/ipv4.js';
import { Ipv6Packet } from '../../src/packet/ipv6.js';
import { formatIpv6, ipv6Handle } from '../../src/packet/ipv6-addr.js';
import { Dir } from '../../src/netfilter/conntrack/tuple.js';
import { expectSameBytes, pairUp } from './compare.js';
import { parseRuleset } from '../../src/netfilter/rules/parse.js';
import { formatNftTime } from '../../src/netfilter/rules/nft-time.js';

async function replay(name: string, options: ReplayOptions = {}) {
  const dir = `fixtures/kernel/${name}`;
  return replayCapture(`${dir}/capture.pcap`, nodeScenario(loadNode(dir)), { keepPackets: true, ...options });
}

describe('kernel recording icmp-masq', () => {
  it('sends exactly the packets the kernel sent, byte for byte', async () => {
    const r = await replay('icmp-masq');
    const pairs = pairUp(r.packets!.sent, r.packets!.recorded);
    expect(pairs).toHaveLength(6);
    pairs.forEach((p, i) => expectSameBytes(p, i));
    expect(pairs.map((p) => formatIpv4(p.natsim.saddr))).toEqual(['192.168.206.250', '192.168.206.1', '192.168.206.250', '192.168.206.1', '192.168.206.250', '192.168.206.1']);
  });

  it('leaves one ICMP entry with the id kept, as conntrack -L shows', async () => {
    const r = await replay('icmp-masq');
    const entries = [...r.host.nf.table.connections()];
    expect(entries).toHaveLength(1);
    const [orig, reply] = [entries[0]!.tuple(Dir.Original), entries[0]!.tuple(Dir.Reply)];
    expect([formatIpv4(orig.src), formatIpv4(orig.dst), orig.srcU]).toEqual(['10.0.3.1', '192.168.206.1', 4716]);
    expect([formatIpv4(reply.src), formatIpv4(reply.dst), reply.srcU]).toEqual(['192.168.206.1', '192.168.206.250', 4716]);
    expect(r.host.nf.stats.total()).toMatchObject({ found: 0, invalid: 0, insert_failed: 0, drop: 0 });
  });
});

describe('kernel recording masq-to-ports-multi-ip', () => {
  it('reproduces every packet byte for byte, following the kernel where it drew a random port', async () => {
    const r = await replay('masq-to-ports-multi-ip');
    const pairs = pairUp(r.packets!.sent, r.packets!.recorded);
    expect(pairs).toHaveLength(34);
    pairs.forEach((p, i) => expectSameBytes(p, i));
    // The veth packets carry CHECKSUM_PARTIAL sums; NAT must update them the partial way.
    expect(pairs.every((p) => p.natsim.csumPartial)).toBe(true);
  });

  it('on its own, draws TCP ports inside --to-ports 55666-55680, one per flow, and keeps UDP ports', async () => {
    const r = await replay('masq-to-ports-multi-ip', { followKernel: false });
    const syns = r.packets!.sent.map((s) => pairUp([s], [s])[0]!.natsim).filter((p) => p.proto === 6 && p.tcpFlags === 0x02);
    expect(syns).toHaveLength(3);
    for (const p of syns) {
      expect(p.sport).toBeGreaterThanOrEqual(55666);
      expect(p.sport).toBeLessThanOrEqual(55680);
    }
    const udp = r.packets!.sent.map((s) => pairUp([s], [s])[0]!.natsim).filter((p) => p.proto === 17 && p.dport === 53);
    expect(udp.map((p) => p.sport)).toEqual([33894, 42676]);
  });

  it('picks 1.2.3.56 for 1.1.1.1 (next hop 1.2.3.4) and 10.0.2.15 otherwise', async () => {
    const r = await replay('masq-to-ports-multi-ip');
    const sources = new Map<string, string>();
    for (const s of r.packets!.sent) {
      if (s.ifindex !== 3) continue;
      const p = pairUp([s], [s])[0]!.natsim;
      sources.set(formatIpv4(p.daddr), formatIpv4(p.saddr));
    }
    expect(Object.fromEntries(sources)).toEqual({ '8.8.8.8': '10.0.2.15', '1.1.1.1': '1.2.3.56' });
  });
});

/** The kernel's `conntrack -S` after the run, summed over CPUs. */
function kernelCounters(name: string): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const m of readFileSync(`fixtures/kernel/${name}/conntrack-S.txt`, 'utf8').matchAll(/(\w+)=(\d+)/g)) {
    if (m[1] !== 'cpu') totals[m[1]!] = (totals[m[1]!] ?? 0) + Number(m[2]);
  }
  return totals;
}

describe.each(['port-range-exhaustion-udp', 'snat-fixed-port-clash', 'snat-timewait-reuse', 'tcp-lifecycle', 'tcp-fin-delack'])('kernel recording %s', (name) => {
  it('sends exactly the packets the kernel sent, byte for byte', async () => {
    const r = await replay(name);
    pairUp(r.packets!.sent, r.packets!.recorded).forEach((p, i) => expectSameBytes(p, i));
  });

  it('counts insert_failed and drop as conntrack -S did', async () => {
    const r = await replay(name);
    const kernel = kernelCounters(name);
    expect(r.host.nf.stats.total()).toMatchObject({ insert_failed: kernel.insert_failed, drop: kernel.drop, invalid: kernel.invalid });
  });
});

describe('kernel recording snat-fixed-port-clash', () => {
  it('counts no found: the SYNs’ one-port search runs through nf_nat_used_tuple_harder, which does not count', async () => {
    const r = await replay('snat-fixed-port-clash');
    expect(r.host.nf.stats.total().found).toBe(kernelCounters('snat-fixed-port-clash').found);
  });
});

describe('kernel recording snat-timewait-reuse', () => {
  it('evicts the TIME_WAIT entry holding port 40000 for the new SYN, counting nothing (nf_nat_used_tuple_harder)', async () => {
    const r = await replay('snat-timewait-reuse');
    const entries = [...r.host.nf.table.connections()];
    expect(entries.map((ct) => ct.tuple(0).srcU)).toEqual([41001]);
    expect(r.host.nf.stats.total()).toMatchObject({ found: 0, insert_failed: 0, drop: 0, early_drop: 0 });
  });
});

describe('kernel recording port-range-exhaustion-udp', () => {
  it('maps four flows onto the four ports of 50000-50003, counting at least the 8 lookups of the two that fail', async () => {
    // seed 2: natsim's draws as the kernel's were (test/kernel/conntrack-tools-views.test.ts fits it)
    const r = await replay('port-range-exhaustion-udp', { seed: 2 });
    const out = r.packets!.sent.map((s) => pairUp([s], [s])[0]!.natsim).filter((p) => p.daddr === parseIpv4('192.168.206.1'));
    expect(out.map((p) => p.sport).sort()).toEqual([50000, 50001, 50002, 50003]);
    // flows 5 and 6 try all four ports (found 4 each); the kernel's random offsets added 3 more
    const found = r.host.nf.stats.total().found;
    expect(found).toBeGreaterThanOrEqual(8);
    expect(found).toBeLessThanOrEqual(kernelCounters('port-range-exhaustion-udp').found!);
  });
});

describe('kernel recording icmp-error-related', () => {
  const rtAddrs = new Set(['10.0.3.254', '192.168.206.250'].map((a) => parseIpv4(a)!));

  it('de-NATs the forwarded ICMP errors, outer and quoted header, and sends its own errors, byte for byte', async () => {
    const r = await replay('icmp-error-related');
    // rt's own errors (time exceeded; host unreachable when ARP for 192.168.206.99 failed) carry IP ids of rt's choosing
    const pairs = pairUp(r.packets!.sent, r.packets!.recorded);
    pairs.forEach((p, i) => expectSameBytes(p, i, { ipId: rtAddrs.has(p.kernel.saddr) && p.kernel.proto === 1 && p.kernel.icmpType !== 0 && p.kernel.icmpType !== 8 }));
    const errors = pairs.filter((p) => p.natsim.proto === 1 && p.natsim.icmpType !== 0 && p.natsim.icmpType !== 8);
    expect(errors.map((p) => [p.natsim.icmpType, formatIpv4(p.natsim.saddr), formatIpv4(p.natsim.daddr)])).toEqual([
      [3, '192.168.206.1', '10.0.3.1'],
      [3, '192.168.206.1', '10.0.3.1'],
      [11, '10.0.3.254', '10.0.3.1'],
      [11, '192.168.206.1', '10.0.3.1'],
      [3, '192.168.206.250', '10.0.3.1'],
    ]);
    for (const p of errors) {
      const quoted = p.natsim.quotedPacket();
      if (typeof quoted === 'string') throw new Error(quoted);
      expect(formatIpv4(quoted.saddr)).toBe('10.0.3.1');
    }
  });

  it('counts nothing, as conntrack -S did', async () => {
    const r = await replay('icmp-error-related');
    const kernel = kernelCounters('icmp-error-related');
    expect(r.host.nf.stats.total()).toMatchObject({ invalid: kernel.invalid, error: kernel.error, insert_failed: kernel.insert_failed, drop: kernel.drop });
  });
});

/** The endpoint each SYN of a replayed session-affinity recording was DNATed to. */
async function affinityPicks(name: string, edit: (ruleset: string) => string = (t) => t): Promise<string[]> {
  const spec = nodeScenario(loadNode(`fixtures/kernel/${name}`));
  const host = spec.hosts[0]!;
  const ruleset = { ...host.ruleset!, text: edit(host.ruleset!.text) };
  const r = await replayCapture(`fixtures/kernel/${name}/capture.pcap`, { ...spec, hosts: [{ ...host, ruleset }] }, { keepPackets: true });
  const sent = r.packets!.sent.map((s) => pairUp([s], [s])[0]!.natsim);
  return sent.filter((p) => p.proto === 6 && p.tcpFlags === 0x02).map((p) => formatIpv4(p.daddr));
}

const AFFINITY_PICKS = ['192.168.206.1', '192.168.206.1', '192.168.206.1', '192.168.206.2', '192.168.206.2'];

describe.each(['nft-session-affinity', 'iptables-session-affinity'])('kernel recording %s', (name) => {
  it('sends every packet byte for byte: affinity kept while fresh, lapsed after the timeout', async () => {
    const r = await replay(name);
    pairUp(r.packets!.sent, r.packets!.recorded).forEach((p, i) => expectSameBytes(p, i));
    expect(await affinityPicks(name)).toEqual(AFFINITY_PICKS);
  });
});

describe('kernel recording nft-session-affinity', () => {
  it('reads back what nft listed after the last connection: 10.0.3.1 in 192.168.206.2’s set, 2s864ms left', () => {
    const after = parseRuleset({ text: readFileSync('fixtures/kernel/nft-session-affinity/affinity-after.txt', 'utf8'), file: 'after', lineOffset: 0, colOffset: 0 }).tables[0]!;
    const filled = [...after.chains.values()].flatMap((c) => c.rules).flatMap((rule) => rule.matches).flatMap((m) => (m.kind === 'lookup' && m.set.name !== null && m.set.elements.length > 0 ? [m.set] : []));
    expect(filled.map((set) => [set.name, set.elements.map((e) => [formatIpv4(e.key[0]!.min as number), formatNftTime(e.expiry!.expiration)])])).toEqual([['affinity-BBBBBBBB-default/web/tcp/http__192.168.206.2/8080', [['10.0.3.1', '2s864ms']]]]);
  });

  it('tells the rules apart: with add for update (no restart), the 3.5 s connection goes to the other endpoint', async () => {
    expect(await affinityPicks('nft-session-affinity', (t) => t.replaceAll('\tupdate @', '\tadd @'))).toEqual(['192.168.206.1', '192.168.206.1', '192.168.206.2', '192.168.206.1', '192.168.206.1']);
  });
});

describe('kernel recording iptables-session-affinity', () => {
  it('tells the rules apart: with --seconds 2 the 1 s sighting is too old for the 3.5 s connection', async () => {
    expect(await affinityPicks('iptables-session-affinity', (t) => t.replaceAll('--seconds 3', '--seconds 2'))).toEqual(['192.168.206.1', '192.168.206.1', '192.168.206.2', '192.168.206.1', '192.168.206.1']);
  });
});

describe('kernel recording rp-filter-per-device', () => {
  it('drops on eth0 (conf.eth0.rp_filter=1, conf.all 0) the spoofed sources the kernel dropped, forwards what eth1 (0) let through', async () => {
    const r = await replay('rp-filter-per-device');
    const pairs = pairUp(r.packets!.sent, r.packets!.recorded);
    expect(r.packets!.sent).toHaveLength(5);
    expect(pairs).toHaveLength(5);
    // the last is rt's own net unreachable (ip_error) about w's RST to 198.51.100.8, which has no route: its IP id is rt's
    pairs.forEach((p, i) => expectSameBytes(p, i, { ipId: i === 4 }));
    expect([pairs[4]!.natsim.icmpType, pairs[4]!.natsim.icmpCode, formatIpv4(pairs[4]!.natsim.saddr), formatIpv4(pairs[4]!.natsim.daddr)]).toEqual([3, 0, '192.168.206.250', '192.168.206.1']);
    expect(r.host.nf.mib.get('IpExtInNoRoutes')).toBe(1);
    // neither spoofed SYN w sent in on eth0 left rt
    expect(pairs.map((p) => formatIpv4(p.natsim.saddr))).not.toContain('10.0.3.77');
    expect(pairs.map((p) => formatIpv4(p.natsim.saddr))).not.toContain('198.51.100.7');
    const nstat = readFileSync('fixtures/kernel/rp-filter-per-device/nstat.txt', 'utf8');
    const kernel = Number(/^TcpExtIPReversePathFilter\s+(\d+)/m.exec(nstat)![1]);
    expect(kernel).toBe(2);
    expect(r.host.nf.mib.get('TcpExtIPReversePathFilter')).toBe(kernel);
  });
});

describe('kernel recording conntrack-flush-midstream (nf_conntrack_tcp_loose=1)', () => {
  it('picks the client-first connection up and keeps its port; rt resets the server-first one, as the kernel did', async () => {
    const r = await replay('conntrack-flush-midstream');
    const pairs = pairUp(r.packets!.sent, r.packets!.recorded);
    expect(pairs).toHaveLength(9);
    pairs.forEach((p, i) => expectSameBytes(p, i));
    const line = (p: (typeof pairs)[number]['natsim']) => `${formatIpv4(p.saddr)}:${p.sport} > ${formatIpv4(p.daddr)}:${p.dport} ${p.tcpFlags}`;
    // connection A: MASQUERADE of the picked-up entry keeps 43100; B: rt's own RST (tcp_v4_send_reset), then the client's "b3" out and w's RST back
    expect(pairs.filter((p) => p.ifindex === 3).map((p) => line(p.natsim))).toEqual([
      '192.168.206.250:43100 > 192.168.206.1:80 24',
      '192.168.206.250:43100 > 192.168.206.1:80 16',
      '192.168.206.250:43200 > 192.168.206.1:81 4',
      '192.168.206.250:43200 > 192.168.206.1:81 24',
      '192.168.206.250:43100 > 192.168.206.1:80 17',
      '192.168.206.250:43100 > 192.168.206.1:80 16',
    ]);
    expect(r.host.nf.stats.total()).toMatchObject({ invalid: 0, insert_failed: 0, drop: 0 });
  });

  it('kills an entry whose only reply is a RST (nf_conntrack_tcp_packet), so the client\'s next segment finds port 43200 free', async () => {
    const r = await replay('conntrack-flush-midstream');
    const entries = [...r.host.nf.table.connections()];
    // only A is left, TIME_WAIT; both of B's entries were killed by the RST that was their only reply
    expect(entries.map((c) => c.tuple(Dir.Original).srcU)).toEqual([43100]);
  });
});

describe('kernel recording conntrack-flush-midstream-strict (nf_conntrack_tcp_loose=0)', () => {
  it('forwards nothing: every mid-stream segment is INVALID and ct state invalid drop drops it; rt resets what reaches its own address', async () => {
    const r = await replay('conntrack-flush-midstream-strict');
    const pairs = pairUp(r.packets!.sent, r.packets!.recorded);
    expect(pairs.map((p) => [formatIpv4(p.natsim.saddr), p.natsim.sport, p.natsim.tcpFlags, p.ifindex])).toEqual([
      ['192.168.206.250', 43200, 4, 3],
      ['192.168.206.250', 43100, 4, 3],
    ]);
    pairs.forEach((p, i) => expectSameBytes(p, i));
    expect(r.packets!.sent.every((p) => p.fromCapture)).toBe(true);
    expect(kernelCounters('conntrack-flush-midstream-strict').invalid).toBe(17);
    expect(r.host.nf.stats.total()).toMatchObject({ invalid: 17, insert: 0, drop: 0 });
    expect([...r.host.nf.table.connections()]).toEqual([]);
  });
});

/** The kernel's nstat count of a counter in a recording. */
function nstatCount(name: string, counter: string): number {
  const m = new RegExp(`^${counter}\\s+(\\d+)`, 'm').exec(readFileSync(`fixtures/kernel/${name}/nstat.txt`, 'utf8'));
  return Number(m![1]);
}

describe.each([
  // NAT=0: every redirect leaves; NAT=1: the first (its entry's NAT not done) is dropped by nf_nat_icmp_reply_translation
  { name: 'icmp-redirect', onWire: [0, 2, 5, 10, 20, 39, 76] },
  { name: 'icmp-redirect-nat', onWire: [2, 5, 10, 20, 39, 76] },
])('kernel recording $name', ({ name, onWire }) => {
  it('redirects c to 10.0.3.2 as the kernel did: the packets ip_rt_send_redirect\'s backoff lets through, byte for byte but the IP id', async () => {
    const r = await replay(name);
    const pairs = pairUp(r.packets!.sent, r.packets!.recorded);
    pairs.forEach((p, i) => expectSameBytes(p, i, { ipId: p.kernel.proto === 1 }));
    const redirects = pairs.filter((p) => p.natsim.proto === 1 && p.natsim.icmpType === 5);
    expect(redirects.every((p) => p.natsim.icmpCode === 1 && formatIpv4(readU32(p.natsim.data, 24)) === '10.0.3.2' && formatIpv4(p.natsim.daddr) === '10.0.3.1')).toBe(true);
    // which of the 35 ms-spaced datagrams (numbered by their payload) each redirect quotes
    const quoted = redirects.map((p) => Number(new TextDecoder().decode(p.natsim.data.subarray(56, 58))));
    expect(quoted).toEqual(onWire);
    expect(redirects.every((p) => p.natsim.data[28 + 8] === 63)).toBe(true); // sent after ip_decrease_ttl
    expect(r.packets!.sent.filter((p) => p.fromCapture)).toHaveLength(name === 'icmp-redirect' ? 1 : 0);
    // IcmpOutRedirects counts the one NAT dropped too, as the kernel's nstat does
    expect(r.host.nf.mib.get('IcmpOutRedirects')).toBe(nstatCount(name, 'IcmpOutRedirects'));
    expect(nstatCount(name, 'IcmpOutRedirects')).toBe(7);
  });
});

describe.each(['hairpin-nat', 'hairpin-nat-no-snat'])('kernel recording %s', (name) => {
  it('sends no redirect for the hairpin, whose entries are DNATed, and otherwise what the kernel sent', async () => {
    const r = await replay(name);
    const pairs = pairUp(r.packets!.sent, r.packets!.recorded);
    pairs.forEach((p, i) => expectSameBytes(p, i));
    expect(pairs.filter((p) => p.natsim.proto === 1)).toEqual([]);
    expect(r.packets!.sent.filter((p) => p.fromCapture)).toEqual([]);
  });
});

describe('kernel recording ndisc-redirect', () => {
  it('sends the 6 redirects the kernel sent (ndisc_send_redirect), byte for byte, and none for a target that is not link-local', async () => {
    const r = await replay('ndisc-redirect');
    expect(r.packets!.sent).toHaveLength(r.packets!.recorded.length);
    r.packets!.sent.forEach((s, i) => expect(Buffer.from(s.bytes).toString('hex'), `packet ${i + 1}`).toBe(Buffer.from(r.packets!.recorded[i]!.bytes).toString('hex')));
    expect(r.packets!.sent.filter((s) => s.fromCapture)).toEqual([]);
    const redirects = r.packets!.sent.map((s) => Ipv6Packet.decode(s.bytes) as Ipv6Packet).filter((p) => p.proto === 58 && p.icmpType === 137);
    // target fe80::2 and destination fd00:5::1; the target's link-layer address from the second on, once rt's solicitation was answered
    expect(redirects.map((p) => [formatIpv6(ipv6Handle(p.data, 48)), formatIpv6(ipv6Handle(p.data, 64)), p.hopLimit, p.length])).toEqual([
      ['fe80::2', 'fd00:5::1', 255, 136],
      ...Array(5).fill(['fe80::2', 'fd00:5::1', 255, 144]),
    ]);
    expect(r.host.nf.mib.get('Icmp6OutRedirects')).toBe(nstatCount('ndisc-redirect', 'Icmp6OutRedirects'));
  });

  it('counts no redirect an OUTPUT rule drops: ndisc_send_skb counts only what NF_HOOK let out', async () => {
    const dir = 'fixtures/kernel/ndisc-redirect';
    const node = loadNode(dir);
    const text = 'table ip6 f {\n  chain o {\n    type filter hook output priority filter; policy accept;\n    icmpv6 type nd-redirect drop\n  }\n}\n';
    const host = { ...node.host, ruleset: { text, file: 'drop-redirects.nft', lineOffset: 0, colOffset: 0 } };
    const r = await replayCapture(`${dir}/capture.pcap`, nodeScenario({ ...node, host }), { keepPackets: true });
    const redirects = r.packets!.sent.map((s) => Ipv6Packet.decode(s.bytes) as Ipv6Packet).filter((p) => p.proto === 58 && p.icmpType === 137);
    expect(redirects).toEqual([]);
    expect(r.host.nf.mib.get('Icmp6OutRedirects')).toBe(0);
  });

  it('sends none when the route back to the sender is a reject route (ip6_route_output\'s dst->error), and still forwards', async () => {
    const dir = 'fixtures/kernel/ndisc-redirect';
    const node = loadNode(dir);
    const host = { ...node.host, routes: [...node.host.routes, { value: 'unreachable fd00:3::1/128', place: { file: dir } }] };
    const r = await replayCapture(`${dir}/capture.pcap`, nodeScenario({ ...node, host }), { keepPackets: true });
    const sent = r.packets!.sent.map((s) => Ipv6Packet.decode(s.bytes) as Ipv6Packet);
    expect(sent.filter((p) => p.proto === 58 && p.icmpType === 137)).toEqual([]);
    expect(sent.filter((p) => p.proto === 17).length).toBeGreaterThan(0);
  });
});

describe('kernel recording icmp-timestamp', () => {
  it('answers the timestamp requests to its own addresses as icmp_timestamp does, byte for byte but the IP id: originate copied, receive = transmit = the ms since midnight UT, extra payload left out', async () => {
    const r = await replay('icmp-timestamp');
    const pairs = pairUp(r.packets!.sent, r.packets!.recorded);
    const own = (p: (typeof pairs)[number]): boolean => p.kernel.proto === 1 && p.kernel.icmpType === 14 && ['10.0.3.254', '192.168.206.250'].includes(formatIpv4(p.kernel.saddr));
    pairs.forEach((p, i) => expectSameBytes(p, i, { ipId: own(p) }));
    const replies = pairs.filter(own);
    expect(replies.map((p) => [formatIpv4(p.natsim.saddr), p.natsim.length - p.natsim.l4off])).toEqual([
      ['10.0.3.254', 20],
      ['192.168.206.250', 20],
      ['10.0.3.254', 20],
    ]);
    // the broadcast one is dropped (icmp_echo_ignore_broadcasts covers timestamps)
    expect(r.host.nf.mib.get('IcmpInErrors')).toBe(nstatCount('icmp-timestamp', 'IcmpInErrors'));
  });
});

