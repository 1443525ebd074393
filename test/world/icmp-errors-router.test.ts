/**
 * A router's own ICMP in a scenario, end to end: ip_rt_send_redirect for a packet forwarded out
 * of the device it came in on, the inet_peer tokens it shares with icmp_send's limit (the times
 * of fixtures/kernel/icmp-redirect), and fragmentation needed, which icmpv4_mask_allow never
 * limits.
 */
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import { runWorld } from '../support/run-world.js';

/** c and s on rt's LAN; rt routes 10.0.5.0/24 via s and sends to the WAN over an MTU of 1400. */
function world(steps: string[], rtSysctl = ''): ReturnType<typeof runWorld> {
  const text = `natsim: 1
name: t
seed: 3
hosts:
  c:
    interfaces: { eth0: { addr: [10.0.3.1/24], link: lan } }
    routes: [default via 10.0.3.254]
  s:
    interfaces: { eth0: { addr: [10.0.3.2/24, 10.0.5.1/32], link: lan } }
  rt:
    sysctl: { net.ipv4.ip_forward: 1${rtSysctl} }
    interfaces:
      eth1: { addr: [10.0.3.254/24], link: lan }
      eth0: { addr: [192.168.206.250/24], link: wan, mtu: 1400 }
    routes: [10.0.5.0/24 via 10.0.3.2]
  w:
    interfaces: { eth0: { addr: [192.168.206.1/24], link: wan, mtu: 1400 } }
trace: [rt]
run:
${steps.map((s) => `  - ${s}`).join('\n')}
`;
  return runWorld(parseScenario(text, 't.yaml'));
}

/** rt's ICMP messages on the wire, as type/code. */
const icmpSent = (run: ReturnType<typeof world>): string[] =>
  run.events.flatMap((e) => (e.kind === 'transmit' && e.pkt.proto === 1 ? [`${e.pkt.icmpType}/${e.pkt.icmpCode}`] : []));

describe('a router redirecting', () => {
  const steps = [
    '{ at: 0s, on: s, do: udp listen 9 }',
    '{ at: 1s, on: c, do: udp send 10.0.5.1:9 from 40000 count 80 interval 35ms }',
    // 140 ms after the last redirect (at 1 s + 76 × 35 ms), and 1.5 s later: rt's port 9999 is closed
    '{ at: 3.8s, on: c, do: udp send 10.0.3.254:9999 from 40001 }',
    '{ at: 5.3s, on: c, do: udp send 10.0.3.254:9999 from 40002 }',
  ];

  it('sends 7 redirects to 80 datagrams, and only the second port unreachable: the first finds the peer\'s tokens spent', () => {
    const run = world(steps);
    expect(run.world.hosts.get('rt')!.nf.mib.get('IcmpOutRedirects')).toBe(7);
    expect(icmpSent(run)).toEqual([...Array(7).fill('5/1'), '3/3']);
  });

  it('sends none with send_redirects off on conf.all and the device, and then both port unreachables', () => {
    expect(icmpSent(world(steps, ', net.ipv4.conf.all.send_redirects: 0, net.ipv4.conf.eth1.send_redirects: 0'))).toEqual(['3/3', '3/3']);
  });

  it('still sends them with conf.all off alone: IN_DEV_TX_REDIRECTS is conf.all OR the device', () => {
    expect(icmpSent(world(steps, ', net.ipv4.conf.all.send_redirects: 0')).filter((t) => t === '5/1')).toHaveLength(7);
  });
});

describe('fragmentation needed', () => {
  it('answers every DF datagram too large for the uplink, past the burst of 6 that limits other errors', () => {
    const run = world(['{ at: 0s, on: w, do: udp listen 9000 }', '{ at: 1s, on: c, do: udp send 192.168.206.1:9000 count 10 interval 10ms bytes 1422 }']);
    expect(run.world.hosts.get('rt')!.nf.mib.get('IpFragFails')).toBe(10);
    expect(icmpSent(run)).toEqual(Array(10).fill('3/4'));
  });
});
