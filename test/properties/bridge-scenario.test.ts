/**
 * Malformed bridge declarations in a scenario (fast-check, fixed seed, bounded runs): a bad
 * `kind`, a `master` that is missing or not a bridge, port flags that are not booleans or sit on
 * a device that is no port, a bad or misplaced `ageing-time`, an address on a port, a link on a
 * bridge, a bridge as a port — each is one InputError naming the line of the interface at fault
 * (file:line:col) and the reason, never a crash and never a world built from it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { parseScenario } from '../../src/scenario/load.js';
import { World } from '../../src/world/world.js';

/** One fault: the line it rewrites (0-based in BASE), the new line, and what the error must say. */
interface Fault {
  readonly line: number;
  readonly text: string;
  readonly reason: RegExp;
}

const BASE = [
  'natsim: 1',
  'hosts:',
  '  rt:',
  '    sysctl: { net.ipv4.ip_forward: 1, net.bridge.bridge-nf-call-iptables: 1 }',
  '    interfaces:',
  '      eth0: { addr: [192.168.206.250/24], link: wan }',
  '      docker0: { kind: bridge, addr: [172.17.0.1/16] }',
  '      vethc1: { master: docker0, hairpin: true, link: c1 }',
  '      vethc2: { master: docker0, link: c2 }',
  '  ct1:',
  '    interfaces: { eth0: { addr: [172.17.0.2/16], link: c1 } }',
  '    routes: [default via 172.17.0.1]',
  'run:',
  '  - { at: 0s, on: ct1, do: ping 172.17.0.1 count 1 }',
];
const ETH0 = 5;
const BRIDGE = 6;
const PORT = 7;

const word = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/);
const notBool = fc.oneof(fc.integer({ min: -5, max: 5 }).map(String), word.filter((w) => !['true', 'false', 'yes', 'no', 'on', 'off', 'null'].includes(w)), fc.constant('"true"'));

const faults: fc.Arbitrary<Fault> = fc.oneof(
  word.filter((w) => w !== 'bridge').map((k) => ({ line: BRIDGE, text: `      docker0: { kind: ${k}, addr: [172.17.0.1/16] }`, reason: /kind must be 'bridge'/ })),
  word.filter((w) => !['eth0', 'docker0', 'vethc1', 'vethc2'].includes(w)).map((m) => ({ line: PORT, text: `      vethc1: { master: ${m}, link: c1 }`, reason: new RegExp(`master '${m}' is not an interface of this host`) })),
  fc.constantFrom('eth0', 'vethc2').map((m) => ({ line: PORT, text: `      vethc1: { master: ${m}, link: c1 }`, reason: new RegExp(`master '${m}' is not a bridge`) })),
  fc.tuple(fc.constantFrom('hairpin', 'learning', 'flood'), notBool).map(([k, v]) => ({ line: PORT, text: `      vethc1: { master: docker0, ${k}: ${v}, link: c1 }`, reason: new RegExp(`${k} must be true or false`) })),
  fc.constantFrom('5 minutes', '-3s', 'soon', '1.2.3s').map((t) => ({ line: BRIDGE, text: `      docker0: { kind: bridge, ageing-time: ${t}, addr: [172.17.0.1/16] }`, reason: /bad time/ })),
  fc.constantFrom(PORT, ETH0).map((line) => ({ line, text: line === PORT ? '      vethc1: { master: docker0, ageing-time: 10s, link: c1 }' : '      eth0: { addr: [192.168.206.250/24], ageing-time: 10s, link: wan }', reason: /ageing-time is a bridge's/ })),
  fc.constantFrom('hairpin', 'learning', 'flood').map((k) => ({ line: ETH0, text: `      eth0: { addr: [192.168.206.250/24], ${k}: true, link: wan }`, reason: /hairpin, learning and flood are a bridge port's/ })),
  fc.integer({ min: 4, max: 254 }).map((n) => ({ line: PORT, text: `      vethc1: { master: docker0, addr: [172.17.0.${n}/16], link: c1 }`, reason: /is a port of docker0: .* an IPv4 address on it is never used/ })),
  word.map((l) => ({ line: BRIDGE, text: `      docker0: { kind: bridge, addr: [172.17.0.1/16], link: ${l} }`, reason: /bridge docker0 has a link/ })),
  fc.constant({ line: BRIDGE, text: '      docker0: { kind: bridge, master: docker0, addr: [172.17.0.1/16] }', reason: /no bridge as a port of another/ }),
);

describe('malformed bridge scenarios', () => {
  it('the unchanged scenario loads and runs', () => {
    const world = new World(parseScenario(BASE.join('\n'), 'bridge.yaml'));
    world.run();
    expect(world.appEvents.map((e) => e.text)).toEqual(expect.arrayContaining([expect.stringMatching(/reply/)]));
  });

  it('each fault is one InputError at the line of the interface at fault, with the reason', () => {
    fc.assert(
      fc.property(faults, (f) => {
        const lines = [...BASE];
        lines[f.line] = f.text;
        let error: unknown = null;
        try {
          new World(parseScenario(lines.join('\n'), 'bridge.yaml')).run();
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(InputError);
        const e = error as InputError;
        expect(e.message).not.toContain('\n');
        expect(e.place.file).toBe('bridge.yaml');
        expect(e.place.line).toBe(f.line + 1);
        expect(e.place.col).toBeGreaterThan(0);
        expect(e.reason).toMatch(f.reason);
      }),
      { seed: 19, numRuns: 300 },
    );
  });
});
