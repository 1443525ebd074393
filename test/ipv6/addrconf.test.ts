/**
 * IPv6 source address selection (ipv6_dev_get_saddr) against what the kernel chose in the
 * recording fixtures/kernel/ip6-masq-source-selection: rt's addresses from its snapshot
 * (ip-addr.json, in the kernel's list order, B deprecated), and the sources `ip -6 route get`
 * printed (ip6-route-get.txt, ip6-route-get-whatif.txt) — the same MASQUERADE picked in the
 * capture. Also the list order ipv6_link_dev_addr gives, and the address flags.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadNode } from '../../src/node/snapshot.js';
import { buildDevices } from '../../src/world/build-host.js';
import { IFA_F, ipv6DevGetSaddr, ipv6LinkDevAddr, parseInet6Ifaddr, type Inet6Dev, type Inet6Ifaddr } from '../../src/ipv6/addrconf.js';
import { formatIpv6, ipv6PrefixEqual, ipv6Word, parseIpv6 } from '../../src/packet/ipv6-addr.js';
import { ipv6AddrLabel } from '../../src/ipv6/addrlabel.js';
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

describe('ipv6_dev_get_saddr against RFC 6724 section 5 written out', () => {
  /** The scope of an address as RFC 4291 gives it (link-local for ::1, global for the v4 forms). */
  function scopeOf(addr: number): number {
    const w0 = ipv6Word(addr, 0);
    if (ipv6PrefixEqual(addr, v6('fe80::'), 10) || addr === v6('::1')) return 2;
    if (ipv6PrefixEqual(addr, v6('fec0::'), 10)) return 5;
    return w0 >>> 24 === 0xff ? (w0 >>> 16) & 0x0f : 14;
  }
  /** A candidate's value under each rule the kernel applies, every rule evaluated afresh. */
  function ruleValues(dst: number, dstDev: Inet6Dev | null, dev: Inet6Dev, a: Inet6Ifaddr): number[] {
    const scope = scopeOf(a.addr);
    const v4Form = ipv6PrefixEqual(a.addr, v6('::ffff:0:0'), 96) || (ipv6PrefixEqual(a.addr, v6('::'), 96) && a.addr !== v6('::') && a.addr !== v6('::1'));
    const orchid = (x: number): boolean => ipv6PrefixEqual(x, v6('2001:10::'), 28);
    let common = 0;
    while (common < 128 && ipv6PrefixEqual(a.addr, dst, common + 1)) common++;
    return [
      a.addr === dst ? 1 : 0,
      scope >= scopeOf(dst) ? -scope : scope - 128,
      v4Form || a.addr === v6('::1') || !(a.flags & (IFA_F.DEPRECATED | IFA_F.OPTIMISTIC)) ? 1 : 0,
      a.flags & IFA_F.HOMEADDRESS ? 1 : 0,
      dstDev === null || dstDev.index === dev.index ? 1 : 0,
      ipv6AddrLabel(a.addr) === ipv6AddrLabel(dst) ? 1 : 0,
      orchid(a.addr) === orchid(dst) ? 1 : 0,
      Math.min(common, a.prefixLen),
      a.flags & IFA_F.OPTIMISTIC ? 0 : 1,
    ];
  }
  /** The first candidate (in device and list order) whose values are greatest, rule by rule. */
  function reference(devices: readonly Inet6Dev[], dstDev: Inet6Dev | null, dst: number): number | null {
    const narrow = dstDev !== null && (ipv6Word(dst, 0) >>> 24 === 0xff || scopeOf(dst) <= 2);
    let best: number[] | null = null;
    let addr: number | null = null;
    for (const dev of narrow ? [dstDev] : devices) {
      for (const a of dev.addrs6) {
        if (a.flags & IFA_F.TENTATIVE && !(a.flags & IFA_F.OPTIMISTIC)) continue;
        const values = ruleValues(dst, dstDev, dev, a);
        const at = best === null ? -1 : values.findIndex((x, i) => x !== best![i]);
        if (best === null || (at >= 0 && values[at]! > best[at]!)) [best, addr] = [values, a.addr];
      }
    }
    return addr;
  }

  const POOL = ['::1', 'fe80::1', 'fe80::2:1', 'fec0::5', 'fd00::1', 'fd00:1::9', '2001:db8::1', '2001:db8:1::1', '2001:10::3', '2002:c000:201::1', '::ffff:192.0.2.1', '3ffe::1', '64:ff9b::1'];
  const address = fc.record({
    addr: fc.constantFrom(...POOL),
    len: fc.integer({ min: 8, max: 128 }),
    flags: fc.subarray([IFA_F.DEPRECATED, IFA_F.OPTIMISTIC, IFA_F.TENTATIVE, IFA_F.HOMEADDRESS]),
  });

  it('picks what comparing every rule of every candidate picks, with the best so far remembered', () => {
    fc.assert(
      fc.property(fc.array(fc.array(address, { maxLength: 4 }), { minLength: 1, maxLength: 3 }), fc.constantFrom(...POOL, 'ff02::1', 'ff05::2', 'fd00::77', '2001:db8::77'), fc.nat(3), (devs, dstText, out) => {
        const devices: Inet6Dev[] = devs.map((list, i) => ({ index: i + 1, addrs6: list.map((a) => ({ addr: v6(a.addr), prefixLen: a.len, flags: a.flags.reduce((f, x) => f | x, 0) })) }));
        const dstDev = devices[out] ?? null;
        expect(ipv6DevGetSaddr(devices, dstDev, v6(dstText))).toBe(reference(devices, dstDev, v6(dstText)));
      }),
      { numRuns: 500 },
    );
  });
});
