/**
 * The sysctl table's two readings of a value: num() by any name, and the fixed-shape `n` the
 * packet path reads. Both must follow every change (a scenario's line, written as text, and a
 * kernel profile's own default), or the path would act on a stale value.
 */
import { describe, expect, it } from 'vitest';
import { Sysctl } from '../../src/host/sysctl.js';
import { KERNEL_PROFILES } from '../../src/kernel/profile.js';

describe('Sysctl', () => {
  it('reads 6.18 defaults as numbers, both ways', () => {
    const s = new Sysctl();
    expect(s.n['net.netfilter.nf_conntrack_udp_timeout_stream']).toBe(120);
    expect(s.num('net.netfilter.nf_conntrack_max')).toBe(262144);
    expect(s.n['net.ipv4.ip_forward']).toBe(0);
  });

  it('a value set as text is a number in n as in num()', () => {
    const s = new Sysctl();
    s.set('net.ipv4.ip_forward', '1');
    expect(s.n['net.ipv4.ip_forward']).toBe(1);
    expect(s.num('net.ipv4.ip_forward')).toBe(1);
    expect(s.text('net.ipv4.ip_forward')).toBe('1');
  });

  it("an older kernel's value and the value its code acts as are in n", () => {
    const s = new Sysctl(KERNEL_PROFILES['4.15']);
    expect(s.n['net.netfilter.nf_conntrack_udp_timeout_stream']).toBe(180);
    expect(s.n['net.ipv4.tcp_syn_linear_timeouts']).toBe(0);
    expect(s.exists('net.ipv4.tcp_syn_linear_timeouts')).toBe(false);
  });

  it("a device's conf values are its own; an unset device has ipv4_devconf_dflt's (send_redirects and shared_media 1)", () => {
    const s = new Sysctl();
    s.setDevConf('eth0', 'rp_filter', 2);
    expect(s.devConf('eth0')).toEqual({ rp_filter: 2, accept_local: 0, route_localnet: 0, send_redirects: 1, shared_media: 1 });
    expect(s.devConf('eth1')).toEqual({ rp_filter: 0, accept_local: 0, route_localnet: 0, send_redirects: 1, shared_media: 1 });
  });
});
