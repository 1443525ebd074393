/**
 * A bridge host fed frames on its ports (br_input.c, br_forward.c): what it learns, where it
 * forwards, floods and delivers up, hairpin mode, ageing, and br_netfilter's FORWARD on
 * bridged frames — the transmits the host makes, device by device.
 */
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import { buildHost } from '../../src/world/build-host.js';
import type { Host } from '../../src/host/host.js';
import { quietPorts } from '../support/quiet-ports.js';
import { Prng } from '../../src/sim/prng.js';
import { DEFAULT_KERNEL } from '../../src/kernel/profile.js';
import { buildUdp } from '../../src/packet/build.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { parseMac } from '../../src/host/device.js';
import { ETH_P_IP } from '../../src/capture/link-layer.js';

const ip = (s: string) => parseIpv4(s)!;
const A = parseMac('02:00:00:00:00:0a')!;
const B = parseMac('02:00:00:00:00:0b')!;
const BROADCAST = parseMac('ff:ff:ff:ff:ff:ff')!;

function host(opts: { hairpin?: boolean; brnf?: 0 | 1; ageing?: string; forward?: 'ACCEPT' | 'DROP' } = {}) {
  const text = `natsim: 1
hosts:
  br:
    sysctl: { net.ipv4.ip_forward: 1, net.bridge.bridge-nf-call-iptables: ${opts.brnf ?? 0} }
    interfaces:
      br0: { kind: bridge, addr: [10.0.0.1/24], mac: "02:00:00:00:00:b0"${opts.ageing ? `, ageing-time: ${opts.ageing}` : ''} }
      p1: { master: br0, link: l1, mac: "02:00:00:00:00:01", hairpin: ${opts.hairpin ?? false} }
      p2: { master: br0, link: l2, mac: "02:00:00:00:00:02" }
      p3: { master: br0, link: l3, mac: "02:00:00:00:00:03" }
    ruleset: |
      *filter
      :INPUT ACCEPT [0:0]
      :FORWARD ${opts.forward ?? 'ACCEPT'} [0:0]
      :OUTPUT ACCEPT [0:0]
      -A FORWARD -m conntrack --ctstate INVALID -j DROP
      COMMIT
`;
  const spec = parseScenario(text, 'br.yaml').hosts[0]!;
  const sent: string[] = [];
  const ports = quietPorts((_h, dev) => void sent.push(dev.name));
  const h: Host = buildHost(spec, ports, new Prng(1), 1, DEFAULT_KERNEL, false);
  const received: string[] = [];
  h.tap = (dir, dev) => void (dir === 0 && received.push(dev.name));
  /** A UDP frame from `src` to `dst` entering port `port` at `t` seconds. */
  const frame = (port: string, src: Uint8Array, dst: Uint8Array, t = 0, daddr = '10.0.0.3') => {
    sent.length = 0;
    received.length = 0;
    const pkt = buildUdp({ saddr: ip('10.0.0.2'), daddr: ip(daddr), sport: 1000, dport: 53, ipId: 1, ttl: 64, payload: new Uint8Array(4) });
    h.receive(pkt, h.device(port)!, t * 1e9, { dest: dst, source: src, proto: ETH_P_IP });
    return { sent: [...sent], up: received.filter((d) => d === 'br0').length > 0 };
  };
  return { h, frame };
}

describe('bridge forwarding', () => {
  it('floods an unknown destination to every other port, then forwards to the port it learned', () => {
    const { frame } = host();
    expect(frame('p1', A, B)).toEqual({ sent: ['p2', 'p3'], up: false });
    expect(frame('p2', B, A)).toEqual({ sent: ['p1'], up: false });
    expect(frame('p1', A, B)).toEqual({ sent: ['p2'], up: false });
  });

  it('floods a broadcast to the other ports and passes it up the stack on the bridge', () => {
    const { frame } = host();
    expect(frame('p1', A, BROADCAST, 0, '10.0.0.255')).toEqual({ sent: ['p2', 'p3'], up: true });
  });

  it('sends a frame for the bridge or a port address up, not out', () => {
    const { frame } = host();
    expect(frame('p2', B, parseMac('02:00:00:00:00:b0')!, 0, '10.0.0.1')).toEqual({ sent: [], up: true });
    expect(frame('p2', B, parseMac('02:00:00:00:00:01')!, 0, '10.0.0.1')).toEqual({ sent: [], up: true });
  });

  it('without hairpin mode never sends a frame back out the port it came in by; with it, does', () => {
    const off = host();
    off.frame('p1', B, A);
    expect(off.frame('p1', A, B)).toEqual({ sent: [], up: false });
    expect(off.h.packets.dropped.get('bridged back out p1, the port it came in by, without hairpin mode (should_deliver)')).toBe(1);
    const on = host({ hairpin: true });
    on.frame('p1', B, A);
    expect(on.frame('p1', A, B)).toEqual({ sent: ['p1'], up: false });
    expect(on.frame('p1', A, BROADCAST, 0, '10.0.0.255').sent).toEqual(['p1', 'p2', 'p3']);
  });

  it('forgets a learned address ageing_time after it was last seen, and floods again', () => {
    const { frame } = host({ ageing: '10s' });
    frame('p2', B, A, 0);
    expect(frame('p1', A, B, 9.9).sent).toEqual(['p2']);
    expect(frame('p1', A, B, 10).sent).toEqual(['p2', 'p3']);
  });
});

describe('br_netfilter and the FORWARD chain', () => {
  it('with bridge-nf-call-iptables=0 a FORWARD policy DROP does not see bridged frames', () => {
    const { frame } = host({ brnf: 0, forward: 'DROP' });
    frame('p2', B, A);
    expect(frame('p1', A, B).sent).toEqual(['p2']);
  });

  it('with bridge-nf-call-iptables=1 it drops them (the docker upgrade that loaded br_netfilter)', () => {
    const { h, frame } = host({ brnf: 1, forward: 'DROP' });
    frame('p2', B, A);
    expect(frame('p1', A, B).sent).toEqual([]);
    expect([...h.packets.dropped.keys()].some((k) => /FORWARD|policy|dropped/.test(k))).toBe(true);
  });

  it('tracks a bridged frame in conntrack only with bridge-nf-call-iptables=1', () => {
    for (const brnf of [0, 1] as const) {
      const { h, frame } = host({ brnf });
      frame('p2', B, A);
      frame('p1', A, B);
      expect(h.nf.table.count).toBe(brnf);
    }
  });
});
