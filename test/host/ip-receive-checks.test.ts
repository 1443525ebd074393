/**
 * What the kernel drops before any netfilter hook (ipv4/ip-rcv-core.ts, ipv4/route-input.ts),
 * each counted where the kernel counts it: a frame for another host (ip_rcv_core,
 * PACKET_OTHERHOST), a bad header checksum (IpInHdrErrors + IpExtInCsumErrors), malformed
 * options (ip_options_compile: IpInHdrErrors and a parameter problem), martian sources and
 * destinations (ip_route_input_slow), the host's own address as source and rp_filter
 * (fib_validate_source; TcpExtIPReversePathFilter), and forwarding off (IpInAddrErrors).
 */
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import { World } from '../../src/world/world.js';
import { buildUdp } from '../../src/packet/build.js';
import { checksum } from '../../src/packet/checksum.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { Ipv4Packet } from '../../src/packet/ipv4.js';
import type { TraceEvent } from '../../src/trace/events.js';

const ip = (s: string) => parseIpv4(s)!;

function router(sysctl = '', ruleset = '') {
  const spec = parseScenario(
    `natsim: 1
hosts:
  r:
    sysctl: { net.ipv4.ip_forward: 1${sysctl} }
    interfaces:
      eth0: { addr: [10.0.0.2/24], link: l1 }
      eth1: { addr: [10.0.1.2/24], link: l2 }
${ruleset}  a:
    interfaces: { eth0: { addr: [10.0.0.1/24], link: l1 } }
    routes: [default via 10.0.0.2]
  b:
    interfaces: { eth0: { addr: [10.0.1.1/24], link: l2 } }
    routes: [default via 10.0.1.2]
trace: [r]
`,
    'r.yaml',
  );
  const events: TraceEvent[] = [];
  const world = new World(spec, { trace: ['r'], sink: { emit: (e) => void events.push(e) } });
  const r = world.hosts.get('r')!;
  const receive = (pkt: Ipv4Packet, otherHost = false, dev = 'eth0'): string | null => {
    events.length = 0;
    r.receive(pkt, r.device(dev)!, 1000, null, null, otherHost);
    const drop = events.find((e): e is Extract<TraceEvent, { kind: 'drop' }> => e.kind === 'drop');
    return drop?.reason ?? null;
  };
  return { r, receive, events };
}

function udp(saddr: string, daddr: string): Ipv4Packet {
  return buildUdp({ saddr: ip(saddr), daddr: ip(daddr), sport: 1000, dport: 53, ipId: 1, ttl: 64, payload: new Uint8Array(8) });
}

/** A UDP packet with IP options `opts` (padded to a multiple of 4), its header checksum fixed. */
function withOptions(opts: number[]): Ipv4Packet {
  const base = udp('10.0.0.1', '10.0.1.1').data;
  const padded = [...opts, ...new Array((4 - (opts.length % 4)) % 4).fill(0)];
  const ihl = 20 + padded.length;
  const d = new Uint8Array(base.length + padded.length);
  d.set(base.subarray(0, 20));
  d.set(padded, 20);
  d.set(base.subarray(20), ihl);
  d[0] = 0x40 | (ihl / 4);
  d[2] = d.length >> 8;
  d[3] = d.length & 0xff;
  d[10] = d[11] = 0;
  const c = checksum(d, 0, ihl);
  d[10] = c >> 8;
  d[11] = c & 0xff;
  const pkt = Ipv4Packet.adopt(d);
  if (typeof pkt === 'string') throw new Error(pkt);
  return pkt;
}

describe('ip_rcv_core', () => {
  it('forwards a good packet, and drops one for another host’s MAC without a counter', () => {
    const { r, receive } = router();
    expect(receive(udp('10.0.0.1', '10.0.1.1'))).toBeNull();
    expect(receive(udp('10.0.0.1', '10.0.1.1'), true)).toMatch(/^PACKET_OTHERHOST/);
    expect(r.nf.mib.nonZero()).toEqual([]);
  });

  it('drops a bad header checksum, counting IpInHdrErrors and IpExtInCsumErrors', () => {
    const { r, receive } = router();
    const pkt = udp('10.0.0.1', '10.0.1.1');
    pkt.data[10]! ^= 0xff;
    expect(receive(pkt)).toMatch(/^bad IPv4 header checksum/);
    expect(r.nf.mib.get('IpInHdrErrors')).toBe(1);
    expect(r.nf.mib.get('IpExtInCsumErrors')).toBe(1);
  });

  it('drops malformed options with a parameter problem at the bad byte; passes NOPs and a good record route', () => {
    const { r, receive, events } = router();
    expect(receive(withOptions([1, 1, 7, 7, 4, 0, 0, 0, 0]))).toBeNull();
    expect(receive(withOptions([7, 40]))).toMatch(/^malformed IP options: option 7 length 40 does not fit the header \(ip_options_compile: IpInHdrErrors, parameter problem at byte 20\)/);
    expect(r.nf.mib.get('IpInHdrErrors')).toBe(1);
    const sent = events.find((e): e is Extract<TraceEvent, { kind: 'transmit' }> => e.kind === 'transmit');
    expect(sent?.pkt.proto).toBe(1);
    expect(receive(withOptions([131, 7, 4, 10, 0, 1, 9]))).toMatch(/^source route option with accept_source_route=0/);
  });
});

describe('ip_route_input_slow and fib_validate_source', () => {
  it.each([
    ['127.0.0.1', '10.0.1.1', /^martian source 127\.0\.0\.1: 127\.0\.0\.0\/8/],
    ['0.1.2.3', '10.0.1.1', /^martian source 0\.1\.2\.3: 0\.0\.0\.0\/8/],
    ['224.0.0.5', '10.0.1.1', /^martian source 224\.0\.0\.5: a multicast or broadcast source/],
    ['255.255.255.255', '10.0.1.1', /^martian source 255\.255\.255\.255/],
    ['10.0.0.1', '127.0.0.1', /^martian destination 127\.0\.0\.1/],
    ['10.0.0.1', '0.0.0.7', /^martian destination 0\.0\.0\.7/],
    ['10.0.1.2', '10.0.1.1', /^martian source 10\.0\.1\.2: the host's own address/],
    ['10.0.1.2', '10.0.0.2', /^martian source 10\.0\.1\.2: the host's own address/],
  ])('drops %s -> %s', (s, d, reason) => {
    expect(router().receive(udp(s, d))).toMatch(reason);
  });

  it('with strict rp_filter drops a source whose route back leaves by another device; loose lets it in', () => {
    const strict = router(', net.ipv4.conf.all.rp_filter: 1');
    expect(strict.receive(udp('10.0.1.1', '10.0.0.2'))).toMatch(/^rp_filter=1: the route back to 10\.0\.1\.1 leaves by eth1, not eth0/);
    expect(strict.r.nf.mib.get('TcpExtIPReversePathFilter')).toBe(1);
    expect(strict.receive(udp('10.0.0.1', '10.0.1.1'))).toBeNull();
    const loose = router(', net.ipv4.conf.all.rp_filter: 2');
    expect(loose.receive(udp('10.0.1.1', '10.0.0.2'))).toBeNull();
    expect(loose.receive(udp('192.0.2.1', '10.0.0.2'))).toMatch(/^rp_filter=2: no route back to 192\.0\.2\.1/);
  });

  it('counts a packet it may not forward as IpInAddrErrors (ip_error)', () => {
    const { r, receive } = router();
    r.sysctl.set('net.ipv4.ip_forward', 0);
    expect(receive(udp('10.0.0.1', '10.0.1.1'))).toMatch(/^forwarding disabled .*IpInAddrErrors/);
    expect(r.nf.mib.get('IpInAddrErrors')).toBe(1);
  });
});

/**
 * Documentation/networking/ip-sysctl.rst: "The max value from conf/{all,interface}/rp_filter is
 * used when doing source validation on the {interface}"; accept_local and route_localnet count
 * when set in either (IN_DEV_ORCONF). r's route back to 10.0.1.1 leaves by eth1.
 */
describe('per-device conf values (IN_DEV_RPFILTER, IN_DEV_ACCEPT_LOCAL, IN_DEV_NET_ROUTE_LOCALNET)', () => {
  const cases: [number, number][] = [0, 1, 2].flatMap((all) => [0, 1, 2].map((dev): [number, number] => [all, dev]));
  it.each(cases)('conf.all.rp_filter=%i, conf.eth0.rp_filter=%i: eth0 checks with the larger', (all, dev) => {
    const { receive } = router(`, net.ipv4.conf.all.rp_filter: ${all}, net.ipv4.conf.eth0.rp_filter: ${dev}`);
    const rpf = Math.max(all, dev);
    // 10.0.1.1 came in on eth0, its route back leaves by eth1: only strict mode (1) refuses it
    expect(receive(udp('10.0.1.1', '10.0.0.2'))).toEqual(rpf === 1 ? expect.stringMatching(/^rp_filter=1: the route back to 10\.0\.1\.1 leaves by eth1, not eth0/) : null);
    // no route back at all: strict and loose both refuse it
    expect(receive(udp('192.0.2.1', '10.0.0.2'))).toEqual(rpf === 0 ? null : expect.stringMatching(new RegExp(`^rp_filter=${rpf}: `)));
    // eth1's own value is 0: a packet it receives is checked with conf.all alone
    expect(receive(udp('10.0.0.1', '10.0.1.2'), false, 'eth1')).toEqual(all === 1 ? expect.stringMatching(/^rp_filter=1: the route back to 10\.0\.0\.1 leaves by eth0, not eth1/) : null);
  });

  it("accept_local on the receiving device lets the host's own address in as a source; on another device it does not", () => {
    expect(router(', net.ipv4.conf.eth0.accept_local: 1').receive(udp('10.0.1.2', '10.0.0.2'))).toBeNull();
    expect(router(', net.ipv4.conf.eth1.accept_local: 1').receive(udp('10.0.1.2', '10.0.0.2'))).toMatch(/^martian source 10\.0\.1\.2: the host's own address/);
  });

  it('route_localnet on the receiving device makes 127.0.0.0/8 no martian destination; on another device it does not', () => {
    expect(router(', net.ipv4.conf.eth0.route_localnet: 1').receive(udp('10.0.0.1', '127.0.0.1'))).toBeNull();
    expect(router(', net.ipv4.conf.eth1.route_localnet: 1').receive(udp('10.0.0.1', '127.0.0.1'))).toMatch(/^martian destination 127\.0\.0\.1/);
  });

  it('conf.default, written, is every device\'s own value that was not written before (devinet_copy_dflt_conf), in the order written', () => {
    const noRoute = udp('192.0.2.1', '10.0.0.2');
    expect(router(', net.ipv4.conf.default.rp_filter: 1').receive(noRoute)).toMatch(/^rp_filter=1: no route back/);
    // eth0 written first keeps its 0; written after, it takes its own value over the default's
    expect(router(', net.ipv4.conf.eth0.rp_filter: 0, net.ipv4.conf.default.rp_filter: 1').receive(noRoute)).toBeNull();
    expect(router(', net.ipv4.conf.default.rp_filter: 1, net.ipv4.conf.eth0.rp_filter: 0').receive(noRoute)).toBeNull();
    // eth1 was not written: the default reached it
    expect(router(', net.ipv4.conf.eth0.rp_filter: 0, net.ipv4.conf.default.rp_filter: 1').receive(udp('192.0.2.1', '10.0.1.2'), false, 'eth1')).toMatch(/^rp_filter=1: /);
  });

  it.each([
    [', net.ipv4.conf.eth9.rp_filter: 1', /r\.yaml:4:\d+: sysctl 'net\.ipv4\.conf\.eth9\.rp_filter': this host has no device 'eth9'/],
    [', net.ipv4.conf.default.rp_filter: strict', /sysctl 'net\.ipv4\.conf\.default\.rp_filter' needs a whole number/],
    [', net.ipv4.conf.eth0.rp_filter: strict', /sysctl 'net\.ipv4\.conf\.eth0\.rp_filter' needs a whole number/],
  ])('refuses %s by name', (sysctl, error) => {
    expect(() => router(sysctl)).toThrow(error);
  });
});

/** A ruleset that needs conntrack, so its hooks are registered. */
const TRACKED = '    ruleset: "table ip t { chain f { type filter hook forward priority 0; ct state new accept } }"\n';

describe('nf_checksum at PRE_ROUTING (nf_conntrack_checksum)', () => {
  const notes = (events: TraceEvent[]) => events.flatMap((e) => (e.kind === 'hook' ? e.notes : []));

  it('a UDP checksum that does not verify makes the packet invalid; a partial (pseudo-header) one is taken as CHECKSUM_PARTIAL', () => {
    const { r, receive, events } = router('', TRACKED);
    const bad = udp('10.0.0.1', '10.0.1.1');
    bad.data[bad.l4off + 6]! ^= 0x55;
    const stillBad = Ipv4Packet.adopt(bad.data);
    if (typeof stillBad === 'string') throw new Error(stillBad);
    expect(receive(stillBad)).toBeNull();
    expect(notes(events).some((n) => n.startsWith('UDP: bad checksum (nf_checksum with nf_conntrack_checksum=1'))).toBe(true);
    expect(r.nf.table.count).toBe(0);
  });

  it('with nf_conntrack_checksum=0 the same packet is tracked', () => {
    const { r, receive, events } = router(', net.netfilter.nf_conntrack_checksum: 0', TRACKED);
    const bad = udp('10.0.0.1', '10.0.1.1');
    bad.data[bad.l4off + 6]! ^= 0x55;
    const stillBad = Ipv4Packet.adopt(bad.data);
    if (typeof stillBad === 'string') throw new Error(stillBad);
    receive(stillBad);
    expect(notes(events).some((n) => n.includes('bad checksum'))).toBe(false);
    expect(r.nf.table.count).toBe(1);
  });
});
