/**
 * The flannel node (fixtures/seeds/flannel-node.yaml, flannel's own FLANNEL-POSTRTG and
 * FLANNEL-FWD rules): what each far end sees of pod-a's connections.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/load.js';
import { formatIpv4 } from '../../src/packet/ipv4-addr.js';
import { TcpFlag } from '../../src/packet/ipv4.js';
import { runWorld } from '../support/run-world.js';

describe('flannel node', () => {
  const { world, events } = runWorld(loadScenario('fixtures/seeds/flannel-node.yaml'), { trace: ['node1', 'pod-b', 'gateway'] });
  const openedFrom = (host: string): string[] =>
    events.flatMap((e) => (e.kind === 'receive' && e.host === host && e.pkt.proto === 6 && e.pkt.tcpFlags === TcpFlag.SYN ? [formatIpv4(e.pkt.saddr)] : []));

  it('pod to pod across nodes keeps the pod address (FLANNEL-POSTRTG returns)', () => {
    expect(openedFrom('pod-b')).toEqual(['10.244.0.5']);
  });

  it('pod to the internet is masqueraded to the node, TCP and UDP alike', () => {
    expect(openedFrom('gateway')).toEqual(['192.168.1.2']);
    const dns = events.find((e) => e.kind === 'receive' && e.host === 'gateway' && e.pkt.proto === 17);
    expect(dns && dns.kind === 'receive' && formatIpv4(dns.pkt.saddr)).toBe('192.168.1.2');
  });

  it('FORWARD policy DROP lets nothing through that FLANNEL-FWD does not accept: no drops here', () => {
    expect(events.filter((e) => e.kind === 'drop')).toEqual([]);
    expect(world.appEvents.filter((e) => e.text.includes('connected')).length).toBe(2);
  });
});
