/**
 * inet_select_addr, the source MASQUERADE picks, against the 6.18 observations E2/E2b of
 * shared/spec/kernel-experiments and the primary/secondary rule of __inet_insert_ifa.
 */
import { describe, expect, it } from 'vitest';
import { NetDevice, Scope } from '../../src/host/device.js';
import { inetSelectAddr } from '../../src/ipv4/devinet.js';
import { formatIpv4, parseIpv4 } from '../../src/packet/ipv4-addr.js';

const ip = (s: string): number => parseIpv4(s)!;

function router(): { devices: NetDevice[]; r1: NetDevice; r3: NetDevice } {
  const lo = new NetDevice(1, 'lo');
  lo.addAddress(ip('127.0.0.1'), 8, Scope.Host);
  const r0 = new NetDevice(2, 'r0');
  r0.addAddress(ip('10.10.1.1'), 24, Scope.Universe);
  const r1 = new NetDevice(3, 'r1');
  r1.addAddress(ip('203.0.113.1'), 24, Scope.Universe);
  r1.addAddress(ip('198.51.100.1'), 24, Scope.Universe);
  r1.addAddress(ip('203.0.113.9'), 24, Scope.Universe);
  const r3 = new NetDevice(4, 'r3');
  return { devices: [lo, r0, r1, r3], r1, r3 };
}

describe('inet_select_addr', () => {
  it('marks a second address of the same subnet secondary', () => {
    const { r1 } = router();
    expect(r1.addrs.map((a) => [formatIpv4(a.local), a.secondary])).toEqual([
      ['203.0.113.1', false],
      ['198.51.100.1', false],
      ['203.0.113.9', true],
    ]);
  });

  it.each([
    ['203.0.113.2', '203.0.113.1'], // next hop in the first primary's subnet
    ['198.51.100.2', '198.51.100.1'], // in the second primary's subnet
    ['100.65.0.2', '203.0.113.1'], // no subnet matches: the first primary
  ])('toward next hop %s picks %s (E2); the secondary never', (nexthop, expected) => {
    const { devices, r1 } = router();
    expect(formatIpv4(inetSelectAddr(devices, r1, ip(nexthop), Scope.Universe))).toBe(expected);
  });

  it('with no address on the interface takes the first global primary of any device (E2b)', () => {
    const { devices, r3 } = router();
    expect(formatIpv4(inetSelectAddr(devices, r3, ip('192.0.2.1'), Scope.Universe))).toBe('10.10.1.1');
  });

  it('returns 0 when only host-scope addresses exist ("ate my IP address", E2c)', () => {
    const lo = new NetDevice(1, 'lo');
    lo.addAddress(ip('127.0.0.1'), 8, Scope.Host);
    const x0 = new NetDevice(2, 'x0');
    expect(inetSelectAddr([lo, x0], x0, ip('192.0.2.1'), Scope.Universe)).toBe(0);
  });
});
