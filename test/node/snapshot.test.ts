/**
 * Node snapshots: the files a recorder takes on a real machine (ip -j addr, ip -j route show
 * table all, sysctl -a, nft list ruleset and/or iptables-save) read as the host a scenario
 * would describe — checked against how each kernel recording's script set its router up.
 */
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { loadNode } from '../../src/node/snapshot.js';
import { buildHost } from '../../src/world/build-host.js';
import { Prng } from '../../src/sim/prng.js';
import { DEFAULT_KERNEL } from '../../src/kernel/profile.js';
import { tempDir } from '../cli/helpers.js';
import { quietPorts } from '../support/quiet-ports.js';
import { inDevAcceptLocal, inDevRouteLocalnet, inDevRpFilter } from '../../src/ipv4/devconf.js';

const CASES = readdirSync('fixtures/kernel');

/** The router of most recordings (scripts/record/topo-basic.sh): LAN on eth1, WAN on eth0. */
const ROUTER = [
  { name: 'eth1', index: 2, addrs: ['10.0.3.254/24'] },
  { name: 'eth0', index: 3, addrs: ['192.168.206.250/24'] },
];

/** The docker host of scripts/record/docker-bridge.sh: the uplink, the bridge and its two ports. */
const DOCKER_HOST = [
  { name: 'eth0', index: 2, addrs: ['192.168.206.250/24'] },
  { name: 'docker0', index: 3, addrs: ['172.17.0.1/16'] },
  { name: 'vethc1', index: 4, addrs: [] },
  { name: 'vethc2', index: 5, addrs: [] },
];

/**
 * The link-local address the kernel gives a device from its Ethernet address (addrconf's EUI-64
 * interface id: the universal/local bit flipped, ff:fe in the middle), as ip -j addr lists it.
 */
function linkLocal(mac: Uint8Array): string {
  const g = (a: number, b: number): string => ((a << 8) | b).toString(16);
  return `fe80::${g(mac[0]! ^ 2, mac[1]!)}:${g(mac[2]!, 0xff)}:${g(0xfe, mac[3]!)}:${g(mac[4]!, mac[5]!)}/64`;
}

/** The IPv6 router of scripts/record/lib6.sh: fd00:3::254 on eth1, fd00:206::250 on eth0 (nodad), each with its link-local first; `v4` the IPv4 addresses of a dual-stack one. */
function router6(v4 = false, extra: { eth1?: string[]; eth0?: string[] } = {}): (macs: Map<string, Uint8Array>) => typeof ROUTER {
  return (macs) => [
    { name: 'eth1', index: 2, addrs: [...(v4 ? ['10.0.3.254/24'] : []), linkLocal(macs.get('eth1')!), ...(extra.eth1 ?? ['fd00:3::254/64 nodad'])] },
    { name: 'eth0', index: 3, addrs: [...(v4 ? ['192.168.206.250/24'] : []), linkLocal(macs.get('eth0')!), ...(extra.eth0 ?? ['fd00:206::250/64 nodad'])] },
  ];
}

/**
 * What each recording's router was, as its recording script set it up (the hand-written
 * scenarios that once stood beside the captures said the same): interfaces, static routes,
 * the ruleset file natsim should read, and the Ethernet addresses the LOG lines show.
 */
const EXPECTED: Record<string, { interfaces?: typeof ROUTER | ((macs: Map<string, Uint8Array>) => typeof ROUTER); routes?: string[]; ruleset: string; macs?: Record<string, string>; ipv6Only?: true; choice?: string }> = {
  'ip6-masq-router': { interfaces: router6(), ruleset: 'nft-ruleset.txt', ipv6Only: true },
  'ip6-udp-frag-mtu1400': { interfaces: router6(), ruleset: 'nft-ruleset.txt', ipv6Only: true },
  'ip6tables-masq': { interfaces: router6(), ruleset: 'ip6tables-save.txt', ipv6Only: true },
  'dnat66-port-forward': { interfaces: router6(), ruleset: 'nft-ruleset.txt', ipv6Only: true },
  'ip6-reject': { interfaces: router6(), ruleset: 'nft-ruleset.txt', ipv6Only: true },
  // scripts/record/ip6-multicast-router.sh: a default route, so that a group forwarded as unicast would have somewhere to go
  'ip6-multicast-router': { interfaces: router6(), routes: ['default via fd00:206::1 dev eth0 metric 1024 pref medium'], ruleset: 'nft-ruleset.txt', ipv6Only: true },
  // scripts/record/ndisc-redirect.sh: one LAN port, two routes back out of it
  'ndisc-redirect': {
    interfaces: (macs) => [{ name: 'eth1', index: 2, addrs: [linkLocal(macs.get('eth1')!), 'fd00:3::254/64 nodad'] }],
    routes: ['fd00:5::/64 via fe80::2 dev eth1 metric 1024 pref medium', 'fd00:6::/64 via fd00:3::2 dev eth1 metric 1024 pref medium'],
    ruleset: 'nft-ruleset.txt',
    ipv6Only: true,
  },
  // a second LAN prefix on eth1 (scripts/record/ip6-hashlimit.sh); nft-ruleset.txt shows ip6tables-nft's table
  'ip6-snat-range': { interfaces: router6(), ruleset: 'ip6tables-save.txt', ipv6Only: true },
  'ip6-redirect': { interfaces: router6(false, { eth1: ['fd00:3::254/64 nodad', 'fd00:4::254/64 nodad'] }), ruleset: 'ip6tables-save.txt', ipv6Only: true },
  'ip6-hashlimit': { interfaces: router6(false, { eth1: ['fd00:3::254/64 nodad', 'fd00:4::254/64 nodad'] }), ruleset: 'ip6tables-save.txt', ipv6Only: true },
  'dual-stack-router': { interfaces: router6(true), ruleset: 'nft-ruleset.txt' },
  // the WAN link's MTU of 1400 is read too (ip-link.json): the TCPMSS tests replay it
  'tcpmss-clamp': { interfaces: router6(true), ruleset: 'iptables-save.txt', choice: 'using iptables-save.txt and ip6tables-save.txt (nft-ruleset.txt shows the same tables)' },
  'tcpmss-clamp-nft': { interfaces: router6(true), ruleset: 'nft-ruleset.txt' },
  'ip6-masq-source-selection': {
    // several global WAN addresses, one deprecated (ipv6_dev_get_saddr's rules), and a route to a second WAN prefix
    interfaces: router6(false, { eth1: ['fd00:3::254/64 nodad', 'fd00:208:fe::254/64 nodad'], eth0: ['fd00:207::250/64 nodad', 'fd00:206::251/64 nodad deprecated', 'fd00:208::250/64 nodad', 'fd00:207::251/64 nodad'] }),
    routes: ['fd00:208:ff::/64 via fd00:206::1 dev eth0 metric 1024 pref medium'],
    ruleset: 'nft-ruleset.txt',
    ipv6Only: true,
  },
  'docker-bridge-brnf-on': { interfaces: DOCKER_HOST, ruleset: 'iptables-save.txt' },
  'docker-bridge-brnf-off': { interfaces: DOCKER_HOST, ruleset: 'iptables-save.txt' },
  // scripts/record/docker-bridge-gone.sh: the docker host with ct1's veth gone
  'docker-bridge-gone': { interfaces: DOCKER_HOST.filter((d) => d.name !== 'vethc1').map((d) => (d.name === 'vethc2' ? { ...d, index: 4 } : d)), ruleset: 'iptables-save.txt' },
  // scripts/record/bridge-multicast.sh: the docker host with a default route out of eth0
  'bridge-multicast-brnf-on': { interfaces: DOCKER_HOST, routes: ['default via 192.168.206.1 dev eth0'], ruleset: 'iptables-save.txt' },
  'bridge-multicast-brnf-off': { interfaces: DOCKER_HOST, routes: ['default via 192.168.206.1 dev eth0'], ruleset: 'iptables-save.txt' },
  'icmp-error-related': { routes: ['198.51.100.0/24 via 192.168.206.1 dev eth0'], ruleset: 'nft-ruleset.txt' },
  'icmp-masq': { ruleset: 'nft-ruleset.txt' },
  'neigh-failure': { routes: ['198.51.100.0/24 via 192.168.206.99 dev eth0'], ruleset: 'nft-ruleset.txt' },
  // scripts/record/icmp-global-limit.sh: topo-basic, no rules
  'icmp-global-limit': { ruleset: 'nft-ruleset.txt' },
  'iptables-conntrack-match': { ruleset: 'iptables-save.txt' },
  'iptables-iprange': { ruleset: 'iptables-save.txt' },
  'iptables-quota': { ruleset: 'iptables-save.txt' },
  'iptables-tcpmss-match': { ruleset: 'iptables-save.txt' },
  'iptables-rpfilter': { ruleset: 'iptables-save.txt' },
  'iptables-string': { ruleset: 'iptables-save.txt' },
  'iptables-time': { ruleset: 'iptables-save.txt' },
  'iptables-session-affinity': { ruleset: 'iptables-save.txt' },
  'log-trace-legacy': { ruleset: 'iptables-legacy-save.txt', macs: { eth1: 'b22af6ca32c0', eth0: '6e58ce8c3060' } },
  'log-trace-nft': { ruleset: 'iptables-save.txt', macs: { eth1: 'ee74215b77bf', eth0: 'f2f9a89eab5b' } },
  // an inet table next to ip6tables-nft's: nft-ruleset.txt shows more than ip6tables-save.txt
  'log-trace-nft6': {
    interfaces: router6(),
    ruleset: 'nft-ruleset.txt',
    ipv6Only: true,
    choice:
      'using nft-ruleset.txt (it differs from iptables-save.txt and ip6tables-save.txt: nft tables inet t6, ip6 raw, ip6 filter, iptables tables ip6 raw, ip6 filter; iptables-save.txt and ip6tables-save.txt ignored)',
  },
  'masq-to-ports-multi-ip': {
    interfaces: [
      { name: 'docker0', index: 2, addrs: ['172.18.0.1/16'] },
      { name: 'eth0', index: 3, addrs: ['10.0.2.15/24', '1.2.3.56/24'] },
    ],
    routes: ['default via 10.0.2.2 dev eth0', '1.1.1.1 via 1.2.3.4 dev eth0'],
    ruleset: 'iptables-save.txt',
  },
  'nft-session-affinity': { ruleset: 'nft-ruleset.txt' },
  'port-range-exhaustion-udp': { ruleset: 'iptables-save.txt' },
  'snat-fixed-port-clash': { ruleset: 'iptables-save.txt' },
  'snat-timewait-reuse': { ruleset: 'iptables-save.txt' },
  'tcp-lifecycle': { ruleset: 'nft-ruleset.txt' },
  'tcp-fin-delack': { ruleset: 'nft-ruleset.txt' },
  'tcp-rto': { ruleset: 'nft-ruleset.txt' },
  'tcp-rto-giveup': { ruleset: 'nft-ruleset.txt' },
  'filter-only-router': { ruleset: 'nft-ruleset.txt' },
  'conntrack-flush-midstream': { ruleset: 'nft-ruleset.txt' },
  'icmp-redirect': { routes: ['10.0.5.0/24 via 10.0.3.2 dev eth1'], ruleset: 'nft-ruleset.txt' },
  'icmp-redirect-nat': { routes: ['10.0.5.0/24 via 10.0.3.2 dev eth1'], ruleset: 'nft-ruleset.txt' },
  'hairpin-nat': { ruleset: 'nft-ruleset.txt' },
  'icmp-timestamp': { ruleset: 'nft-ruleset.txt' },
  // scripts/record/multicast-router.sh: a default route, so that a group forwarded as unicast would have somewhere to go
  'multicast-router': { routes: ['default via 192.168.206.1 dev eth0'], ruleset: 'nft-ruleset.txt' },
  'multicast-router-echo': { routes: ['default via 192.168.206.1 dev eth0'], ruleset: 'nft-ruleset.txt' },
  'hairpin-nat-no-snat': { ruleset: 'nft-ruleset.txt' },
  'conntrack-flush-midstream-strict': { ruleset: 'nft-ruleset.txt' },
  'nft-fib-present': { ruleset: 'nft-ruleset.txt' },
  'kube-proxy-numgen-vmap': { interfaces: [...ROUTER, { name: 'eth2', index: 4, addrs: ['10.0.1.254/24'] }], ruleset: 'nft-ruleset.txt' },
  'nft-dnat-numgen-map': { interfaces: [...ROUTER, { name: 'eth2', index: 4, addrs: ['10.0.1.254/24'] }], ruleset: 'nft-ruleset.txt' },
  'output-dnat-local': { routes: ['default via 192.168.206.1 dev eth0'], ruleset: 'nft-ruleset.txt' },
  'pcapng-capture': { ruleset: 'nft-ruleset.txt' },
  'redirect-local-listener': { ruleset: 'iptables-save.txt' },
  'udp-frag-mtu1400': { ruleset: 'nft-ruleset.txt' },
  'rp-filter-per-device': { ruleset: 'nft-ruleset.txt' },
};

describe.each(CASES)('node snapshot fixtures/kernel/%s', (name) => {
  const dir = `fixtures/kernel/${name}`;
  const node = loadNode(dir);
  const expected = EXPECTED[name]!;

  it('is named after its folder', () => {
    expect(node.host.name).toBe(name);
  });

  it('has the interfaces, indexes and addresses of the recorded router, without lo', () => {
    const shape = node.host.interfaces.map((i) => ({ name: i.name, index: i.index, addrs: i.addrs.map((a) => a.value) })).sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    const want = typeof expected.interfaces === 'function' ? expected.interfaces(new Map(node.host.interfaces.map((i) => [i.name, i.mac!]))) : expected.interfaces;
    expect(shape).toEqual(want ?? ROUTER);
  });

  it('has the static routes of the recorded router, leaving the connected and local-table routes to natsim', () => {
    expect(node.host.routes.map((r) => r.value)).toEqual(expected.routes ?? []);
    // ip -j route lists no IPv4 connected route on an IPv6-only router (its IPv6 ones are in ip6-route.json)
    expect(node.skipped.some((s) => /connected routes? \(proto kernel\)/.test(s))).toBe(!expected.ipv6Only);
    expect(node.skipped.some((s) => /local-table routes/.test(s))).toBe(true);
  });

  it('keeps only the sysctls natsim models, ip_forward as the router set it', () => {
    const sysctl = new Map(node.host.sysctl.map((s) => s.value));
    // an IPv6-only router (scripts/record/lib6.sh) forwards IPv6 only
    expect(sysctl.get('net.ipv4.ip_forward')).toBe(expected.ipv6Only ? 0 : 1);
    expect(sysctl.get('net.ipv4.ip_local_port_range')).toBe('32768 60999');
    expect(sysctl.has('net.netfilter.nf_conntrack_count')).toBe(false);
    for (const s of node.host.sysctl) expect(s.place.line).toBeGreaterThan(0);
  });

  it('reads the ruleset the router ran, preferring iptables-save.txt when nft shows the same tables', () => {
    expect(basename(node.rulesetFile!)).toBe(expected.ruleset);
    const why: Record<string, string> = {
      'iptables-save.txt': 'using iptables-save.txt (nft-ruleset.txt shows the same tables)',
      'iptables-legacy-save.txt': 'using iptables-legacy-save.txt (x_tables: the node has no nf_tables rules)',
      'nft-ruleset.txt': 'using nft-ruleset.txt',
      'ip6tables-save.txt': 'using ip6tables-save.txt (nft-ruleset.txt shows the same tables)',
    };
    expect(node.rulesetChoice).toBe(expected.choice ?? why[expected.ruleset]);
    expect(node.notes).toEqual([]);
  });

  it('has the Ethernet addresses the LOG lines show', () => {
    const macs = Object.fromEntries(node.host.interfaces.filter((i) => expected.macs?.[i.name] !== undefined).map((i) => [i.name, Buffer.from(i.mac!).toString('hex')]));
    expect(macs).toEqual(expected.macs ?? {});
  });
});

describe('node snapshot choices and errors', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const copy = (name: string): string => {
    const dir = join(tempDir(), 'rt');
    dirs.push(dir);
    cpSync(`fixtures/kernel/${name}`, dir, { recursive: true });
    return dir;
  };
  const inputError = (f: () => unknown): InputError => {
    try {
      f();
    } catch (e) {
      if (e instanceof InputError) return e;
      throw e;
    }
    throw new Error('no InputError');
  };

  it('applies per-device rp_filter, accept_local and route_localnet as the kernel combines them with conf.all; leaves conf.default and devices the node has not out', () => {
    const dir = copy('masq-to-ports-multi-ip');
    writeFileSync(join(dir, 'sysctl.txt'), 'net.ipv4.conf.eth0.rp_filter = 1\nnet.ipv4.conf.docker0.rp_filter = 0\nnet.ipv4.conf.default.accept_local = 1\nnet.ipv4.conf.docker0.route_localnet = 1\nnet.ipv4.conf.nosuchdev.rp_filter = 2\n', { flag: 'a' });
    const node = loadNode(dir);
    expect(node.notes.filter((n) => n.includes('conf.'))).toEqual([]);
    expect(node.host.sysctl.map((s) => s.value).filter(([name]) => /conf\.(?!all)/.test(name))).toEqual([
      ['net.ipv4.conf.eth0.rp_filter', 1],
      ['net.ipv4.conf.docker0.rp_filter', 0],
      ['net.ipv4.conf.docker0.route_localnet', 1],
    ]);
    const rt = buildHost(node.host, quietPorts(undefined, false), new Prng(1), 1, DEFAULT_KERNEL, false);
    expect([inDevRpFilter(rt.sysctl, 'eth0'), inDevRpFilter(rt.sysctl, 'docker0')]).toEqual([1, 0]);
    expect([inDevRouteLocalnet(rt.sysctl, 'eth0'), inDevRouteLocalnet(rt.sysctl, 'docker0'), inDevAcceptLocal(rt.sysctl, 'eth0')]).toEqual([false, true, false]);
  });

  it('uses nft-ruleset.txt, and says so, when it shows tables iptables-save does not', () => {
    const dir = copy('masq-to-ports-multi-ip');
    writeFileSync(join(dir, 'nft-ruleset.txt'), 'table inet fw {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t}\n}\n', { flag: 'a' });
    const node = loadNode(dir);
    expect(basename(node.rulesetFile!)).toBe('nft-ruleset.txt');
    expect(node.rulesetChoice).toMatch(/^using nft-ruleset\.txt \(it differs from iptables-save\.txt/);
    expect(node.host.name).toBe('rt');
  });

  it('ignores iptables-legacy-save.txt, and says so, when the node has nf_tables rules too', () => {
    const dir = copy('snat-fixed-port-clash');
    cpSync('fixtures/kernel/log-trace-legacy/iptables-legacy-save.txt', join(dir, 'iptables-legacy-save.txt'));
    expect(loadNode(dir).rulesetChoice).toBe('using iptables-save.txt (nft-ruleset.txt shows the same tables); iptables-legacy-save.txt ignored (natsim reads one ruleset, and the node has nf_tables rules too)');
  });

  it('uses iptables-save.txt alone when there is no nft-ruleset.txt', () => {
    const dir = copy('snat-fixed-port-clash');
    rmSync(join(dir, 'nft-ruleset.txt'));
    expect(loadNode(dir).rulesetChoice).toBe('using iptables-save.txt');
  });

  it('reads the bridge and its ports from ip-link-details.json (ip -j -d link): ageing_time in centiseconds, hairpin', () => {
    const node = loadNode('fixtures/kernel/docker-bridge-brnf-on');
    const byName = new Map(node.host.interfaces.map((i) => [i.name, i]));
    expect(byName.get('docker0')!.bridge).toEqual({ ageingTime: 300e9, learned: [] });
    expect(byName.get('docker0')!.port ?? null).toBeNull();
    for (const port of ['vethc1', 'vethc2']) expect(byName.get(port)!.port).toMatchObject({ master: 'docker0', flags: { hairpin: true, learning: true, flood: true } });
    expect(byName.get('eth0')!.bridge ?? null).toBeNull();
  });

  it('takes the addresses bridge-fdb.json shows learned, as old as they were, and refuses a static entry', () => {
    const dir = copy('docker-bridge-brnf-on');
    const fdb = JSON.parse(readFileSync(join(dir, 'bridge-fdb.json'), 'utf8')) as object[];
    const learned = { mac: 'c6:9d:05:52:08:0d', ifname: 'vethc2', used: 1, updated: 10, flags: [], master: 'docker0', state: '' };
    writeFileSync(join(dir, 'bridge-fdb.json'), JSON.stringify([...fdb, learned]));
    const docker0 = loadNode(dir).host.interfaces.find((i) => i.name === 'docker0')!;
    expect(docker0.bridge!.learned).toEqual([{ mac: Uint8Array.from([0xc6, 0x9d, 0x05, 0x52, 0x08, 0x0d]), port: 'vethc2', ago: 10e9 }]);
    const host = buildHost(loadNode(dir).host, quietPorts(undefined, false), new Prng(1), 1, DEFAULT_KERNEL, false);
    const fdbOf = host.device('docker0')!.bridge!.fdb;
    expect(fdbOf.find(docker0.bridge!.learned![0]!.mac, 290e9 - 1)?.port?.dev.name).toBe('vethc2');
    expect(fdbOf.find(docker0.bridge!.learned![0]!.mac, 290e9)).toBeNull();
    writeFileSync(join(dir, 'bridge-fdb.json'), JSON.stringify([...fdb, { ...learned, state: 'static' }]));
    expect(inputError(() => loadNode(dir)).message).toMatch(/bridge-fdb\.json: entry 11 \(c6:9d:05:52:08:0d on vethc2\): static FDB entries are not modelled/);
  });

  it('refuses a port whose master ip-addr.json names without ip-link-details.json, and a port not forwarding', () => {
    const dir = copy('docker-bridge-brnf-off');
    const details = readFileSync(join(dir, 'ip-link-details.json'), 'utf8');
    rmSync(join(dir, 'ip-link-details.json'));
    expect(inputError(() => loadNode(dir)).message).toMatch(/ip-addr\.json: vethc1 is a port of docker0, but the snapshot has no ip-link-details\.json \(ip -j -d link\)/);
    writeFileSync(join(dir, 'ip-link-details.json'), details.replace('"state":"forwarding"', '"state":"blocking"'));
    expect(inputError(() => loadNode(dir)).message).toMatch(/ip-link-details\.json: vethc1: bridge port state 'blocking' is not modelled/);
  });

  it('reads ipvsadm-save.txt (ipvsadm -Sn) as the node\'s IPVS services', () => {
    const dir = copy('snat-fixed-port-clash');
    writeFileSync(join(dir, 'ipvsadm-save.txt'), '-A -t 10.0.0.254:80 -s rr\n-a -t 10.0.0.254:80 -r 192.168.122.249:8080 -m -w 1\n');
    const ipvs = loadNode(dir).host.ipvs!;
    expect(ipvs.file).toBe(join(dir, 'ipvsadm-save.txt'));
    expect(ipvs.text).toContain('-A -t 10.0.0.254:80 -s rr');
  });

  it('turns main-table static routes into ip route lines and skips other tables', () => {
    const dir = copy('icmp-masq');
    const routes = [
      { dst: 'default', gateway: '192.168.206.1', dev: 'eth0', protocol: 'static', metric: 100, flags: [] },
      { dst: '10.9.0.0/16', dev: 'eth1', scope: 'link', flags: [] },
      { type: 'blackhole', dst: '10.66.0.0/16', flags: [] },
      { dst: 'default', gateway: '10.0.3.1', dev: 'eth1', table: '100', flags: [] },
      { dst: '10.0.3.0/24', dev: 'eth1', protocol: 'kernel', scope: 'link', prefsrc: '10.0.3.254', flags: [] },
    ];
    writeFileSync(join(dir, 'ip-route.json'), JSON.stringify(routes));
    const node = loadNode(dir);
    expect(node.host.routes.map((r) => r.value)).toEqual(['default via 192.168.206.1 dev eth0 metric 100', '10.9.0.0/16 dev eth1 scope link', 'blackhole 10.66.0.0/16']);
    expect(node.skipped).toContain("ip-route.json entry 4: 'default via 10.0.3.1 dev eth1' in table 100 (natsim models the main and local tables only)");
  });

  it('names the file of a bad JSON snapshot', () => {
    const dir = copy('icmp-masq');
    writeFileSync(join(dir, 'ip-addr.json'), '[{"ifindex": 2,\n "ifname": }]');
    const e = inputError(() => loadNode(dir));
    expect(e.place.file).toBe(join(dir, 'ip-addr.json'));
    expect(e.reason).toMatch(/not JSON/);
  });

  it('names the file and line of a bad sysctl line, and of a non-numeric value', () => {
    const dir = copy('icmp-masq');
    writeFileSync(join(dir, 'sysctl.txt'), 'kernel.hostname = rt\nnet.ipv4.ip_forward = 1\nnonsense\n');
    let e = inputError(() => loadNode(dir));
    expect([e.place.file, e.place.line]).toEqual([join(dir, 'sysctl.txt'), 3]);
    writeFileSync(join(dir, 'sysctl.txt'), 'net.ipv4.ip_forward = yes\n');
    e = inputError(() => loadNode(dir));
    expect([e.place.line, e.reason]).toEqual([1, "net.ipv4.ip_forward: expected a number, got 'yes'"]);
  });

  it('needs ip-addr.json', () => {
    const dir = copy('icmp-masq');
    rmSync(join(dir, 'ip-addr.json'));
    expect(inputError(() => loadNode(dir)).place.file).toBe(join(dir, 'ip-addr.json'));
  });
});
