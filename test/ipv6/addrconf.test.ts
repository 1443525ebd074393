/**
 * IPv6 source address selection (ipv6_dev_get_saddr) against what the kernel chose in the
 * recording fixtures/kernel/ip6-masq-source-selection: rt's addresses from its snapshot
 * (ip-addr.json, in the kernel's list order, B deprecated), and the sources `ip -6 route get`
 * printed (ip6-route-get.txt, ip6-route-get-whatif.txt) — the same MASQUERADE picked in the
 * capture. Also the list order ipv6_link_dev_addr gives, and the address flags.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadNode } from '../../src/node/snapshot.js';
import { buildDevices } from '../../src/world/build-host.js';
import { IFA_F, ipv6DevGetSaddr, ipv6LinkDevAddr, parseInet6Ifaddr, type Inet6Dev, type Inet6Ifaddr } from '../../src/ipv6/addrconf.js';
import { formatIpv6, parseIpv6 } from '../../src/packet/ipv6-addr.js';
import { ICMPV6, type Ipv6Packet } from '../../src/packet/ipv6.js';
import { IPPROTO } from '../../src/netfilter/constants.js';
import { PacketDirection } from '../../src/capture/index.js';
import { ipv6Frames } from './capture6.js';

const DIR = 'fixtures/kernel/ip6-masq-source-selection';
const v6 = (s: string): number => parseIpv6(s)!;
const ifa = (text: string): Inet6Ifaddr => parseInet6Ifaddr(text) as Inet6Ifaddr;

/** The `ip -6 route get` lines of a file: destination and the src the kernel printed. */
function routeGets(file: string): { dst: string; src: string }[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => ({ dst: l.split(' ')[0]!, src: / src (\S+)/.exec(l)![1]! }));
}

function node() {
  const devices = buildDevices(loadNode(DIR).host, false);
  return { devices, eth0: devices.find((d) => d.name === 'eth0')! };
}

describe('ipv6_dev_get_saddr on the ip6-masq-source-selection router', () => {
  it('the snapshot keeps the addresses in the kernel order, with their flags', () => {
    const { eth0 } = node();
    expect(eth0.addrs6.map((a) => formatIpv6(a.addr))).toEqual(['fd00:207::251', 'fd00:208::250', 'fd00:206::251', 'fd00:207::250', 'fe80::78e9:4dff:fe98:ba99']);
    expect(eth0.addrs6.map((a) => (a.flags & IFA_F.DEPRECATED) !== 0)).toEqual([false, false, true, false, false]);
  });

  it.each(routeGets(`${DIR}/ip6-route-get.txt`))('toward $dst out of eth0 the source is $src (ip -6 route get, and MASQUERADE in the capture)', ({ dst, src }) => {
    const { devices, eth0 } = node();
    expect(formatIpv6(ipv6DevGetSaddr(devices, eth0, v6(dst))!)).toBe(src);
  });

  it('what-ifs: B preferred again wins rule 8; a destination nearer an eth1 address still gets eth0\'s (rule 5)', () => {
    const [preferred, nearer] = routeGets(`${DIR}/ip6-route-get-whatif.txt`);
    const { devices, eth0 } = node();
    const b = eth0.addrs6.findIndex((a) => a.flags & IFA_F.DEPRECATED);
    eth0.addrs6[b] = { ...eth0.addrs6[b]!, flags: eth0.addrs6[b]!.flags & ~IFA_F.DEPRECATED };
    expect(formatIpv6(ipv6DevGetSaddr(devices, eth0, v6(preferred!.dst))!)).toBe(preferred!.src);
    expect(formatIpv6(ipv6DevGetSaddr(devices, eth0, v6(nearer!.dst))!)).toBe(nearer!.src);
  });

  it('a full tie keeps the address met first: with A and D added the other way round, A wins', () => {
    const { devices, eth0 } = node();
    const [d, c, b, a, ll] = eth0.addrs6;
    eth0.addrs6.splice(0, 5, a!, c!, b!, d!, ll!);
    expect(formatIpv6(ipv6DevGetSaddr(devices, eth0, v6('fd00:206::1'))!)).toBe('fd00:207::250');
  });

  it('a link-local destination takes only the outgoing device\'s addresses, and the link-local one', () => {
    const { devices, eth0 } = node();
    expect(formatIpv6(ipv6DevGetSaddr(devices, eth0, v6('fe80::1'))!)).toBe('fe80::78e9:4dff:fe98:ba99');
  });
});

describe('addresses', () => {
  it('ipv6_link_dev_addr: globals before link-local, the newest first among them', () => {
    const list: Inet6Ifaddr[] = [];
    for (const text of ['fe80::1/64', 'fd00::1/64', 'fd00::2/64', 'fe80::2/64']) ipv6LinkDevAddr(list, ifa(text));
    expect(list.map((a) => formatIpv6(a.addr))).toEqual(['fd00::2', 'fd00::1', 'fe80::2', 'fe80::1']);
  });

  it('a tentative address is no candidate; with none left there is no source', () => {
    const dev: Inet6Dev = { index: 2, addrs6: [ifa('fd00::1/64 tentative')] };
    expect(ipv6DevGetSaddr([dev], dev, v6('fd00::2'))).toBeNull();
  });

  it.each([
    ['fd00::1', "'fd00::1' is not an IPv6 address/prefix length"],
    ['fd00::1/129', "'fd00::1/129' is not an IPv6 address/prefix length"],
    ['ff02::1/64', 'ff02::1 is not a unicast address'],
    ['fd00::1/64 permanent', "unknown address flag 'permanent' (nodad, optimistic, dadfailed, home, deprecated, tentative)"],
  ])('%s is refused: %s', (text, why) => {
    expect(parseInet6Ifaddr(text)).toBe(why);
  });
});

describe('the sources MASQUERADE picked in the ip6-masq-source-selection capture', () => {
  it('every masqueraded packet out of eth0 has the source ipv6_dev_get_saddr gives for its destination', async () => {
    const { devices, eth0 } = node();
    const frames = await ipv6Frames(`${DIR}/capture.pcap`);
    const ndp = (p: Ipv6Packet): boolean => p.proto === IPPROTO.ICMPV6 && p.icmpType >= ICMPV6.NDISC_ROUTER_SOLICITATION && p.icmpType <= ICMPV6.NDISC_REDIRECT;
    const masqueraded = frames.filter(({ dir, ifindex, pkt }) => dir === PacketDirection.Outgoing && ifindex === eth0.index && !ndp(pkt));
    expect(masqueraded.length).toBe(18); // 3 echo requests and the client's TCP segments, to each destination
    const picked = new Map<string, string>();
    for (const { pkt } of masqueraded) {
      expect(formatIpv6(pkt.saddr)).toBe(formatIpv6(ipv6DevGetSaddr(devices, eth0, pkt.daddr)!));
      picked.set(formatIpv6(pkt.daddr), formatIpv6(pkt.saddr));
    }
    expect(Object.fromEntries(picked)).toEqual({ 'fd00:206::1': 'fd00:207::251', 'fd00:208:ff::1': 'fd00:208::250' });
  });
});
