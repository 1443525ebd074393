/**
 * Groups and broadcasts in a scenario: an interface's `groups:` (what a replay on a scenario's
 * host needs, as igmp.txt gives a snapshot's), and a scenario host's send to a group or a
 * broadcast address, which natsim refuses rather than sends as unicast.
 */
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import { buildDevices } from '../../src/world/build-host.js';
import { formatIpv4 } from '../../src/packet/ipv4-addr.js';
import { InputError } from '../../src/errors.js';
import { runWorld } from '../support/run-world.js';

function scenario(eth1: string, step: string) {
  return parseScenario(
    `natsim: 1
name: t
hosts:
  c:
    interfaces: { eth0: { addr: [10.0.3.1/24, 2001:db8::1/64], link: lan } }
    routes: [default via 10.0.3.254]
  rt:
    sysctl: { net.ipv4.ip_forward: 1 }
    interfaces:
      eth1: { addr: [10.0.3.254/24], link: lan${eth1} }
      eth0: { addr: [192.168.206.250/24], link: wan }
run:
  - { at: 0s, on: c, do: ${step} }
`,
    't.yaml',
  );
}

describe('groups:', () => {
  it('puts the device in those groups besides 224.0.0.1', () => {
    const spec = scenario(', groups: [239.1.1.1, 224.0.0.251]', 'udp send 10.0.3.254:9');
    const eth1 = buildDevices(spec.hosts.find((h) => h.name === 'rt')!, false).find((d) => d.name === 'eth1')!;
    expect([...eth1.mcList].map(formatIpv4)).toEqual(['224.0.0.1', '239.1.1.1', '224.0.0.251']);
  });

  it('refuses an address that is not a group, at its place', () => {
    expect(() => scenario(', groups: [10.0.0.1]', 'udp send 10.0.3.254:9')).toThrow(/t\.yaml:10:\d+: a group must be an IPv4 multicast address/);
  });
});

describe('a scenario host sending to a group or a broadcast address', () => {
  it.each([
    ['udp send 239.255.255.250:1900', '239.255.255.250 is a multicast group'],
    ['ping 10.0.3.255', '10.0.3.255 is a broadcast address'],
    ['udp send 255.255.255.255:67', '255.255.255.255 is a broadcast address'],
    ['ping6 ff02::1', 'ff02::1 is a multicast group'],
  ])('%s is refused at its step, not sent as unicast', (step, why) => {
    const spec = scenario('', step);
    expect(() => runWorld(spec)).toThrow(InputError);
    expect(() => runWorld(spec)).toThrow(new RegExp(`t\\.yaml:13:5: ${why.replace(/\./g, '\\.')} to c: natsim sends a scenario host's packets to one host only`));
  });

  it('leaves unicast alone', () => {
    expect(() => runWorld(scenario('', 'udp send 10.0.3.254:9'))).not.toThrow();
  });
});
