/**
 * Host.receive's reuse of one skb for received packets (recycleRx, as a capture replay asks):
 * the next packet gets the last one's skb remade as a fresh one — nothing of the last packet
 * (its mark, its entry, its route) left on it — unless something holds it (Skb.held) or a trace
 * sink watches skbs, and then it gets a new one; a fate probe, which keeps skb ids, does not stop it.
 */
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import { buildHost } from '../../src/world/build-host.js';
import type { Host } from '../../src/host/host.js';
import { quietPorts } from '../support/quiet-ports.js';
import type { Skb } from '../../src/netfilter/skb.js';
import { Prng } from '../../src/sim/prng.js';
import { DEFAULT_KERNEL } from '../../src/kernel/profile.js';
import { buildUdp } from '../../src/packet/build.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { FlowCollector } from '../../src/explain/collect.js';

const ip = (s: string): number => parseIpv4(s)!;

/** A router with conntrack, marking what 10.0.0.5 sends; `sent` sees each forwarded skb, with its mark and entry then. */
function router() {
  const spec = parseScenario(
    `natsim: 1
hosts:
  rt:
    sysctl: { net.ipv4.ip_forward: 1 }
    interfaces:
      lan0: { addr: [10.0.0.1/24] }
      wan0: { addr: [203.0.113.1/24] }
    routes:
      - default via 203.0.113.254 dev wan0
    ruleset: |
      *mangle
      :PREROUTING ACCEPT [0:0]
      -A PREROUTING -m conntrack --ctstate INVALID -j DROP
      -A PREROUTING -s 10.0.0.5 -j MARK --set-mark 7
      COMMIT
`,
    'rt.yaml',
  ).hosts[0]!;
  const sent: { skb: Skb; id: number; mark: number; saddr: number; ct: unknown }[] = [];
  const ports = quietPorts((_h, _dev, skb) => void sent.push({ skb, id: skb.id, mark: skb.mark, saddr: skb.pkt.saddr, ct: skb.ct }));
  const h: Host = buildHost(spec, ports, new Prng(1), 1, DEFAULT_KERNEL, false);
  h.recycleRx = true;
  const send = (src: string, sport: number): void => {
    h.receive(buildUdp({ saddr: ip(src), daddr: ip('198.51.100.9'), sport, dport: 53, ipId: 1, ttl: 64, payload: new Uint8Array(4) }), h.device('lan0')!, 0, null);
  };
  return { h, sent, send };
}

describe('the received skb, reused', () => {
  it('the next packet gets the same skb, fresh: a new id, no mark, its own entry', () => {
    const { sent, send } = router();
    send('10.0.0.5', 1000);
    send('10.0.0.6', 1001);
    expect(sent).toHaveLength(2);
    expect(sent[1]!.skb).toBe(sent[0]!.skb);
    expect(sent[1]!.id).not.toBe(sent[0]!.id);
    expect(sent.map((s) => s.mark)).toEqual([7, 0]);
    expect(sent[1]!.saddr).toBe(ip('10.0.0.6'));
    expect(sent[0]!.ct).not.toBeNull();
    expect(sent[1]!.ct).not.toBe(sent[0]!.ct);
  });

  it('an skb something holds is left as it was; the next packet gets a new one', () => {
    const { sent, send } = router();
    send('10.0.0.5', 1000);
    sent[0]!.skb.held = true;
    send('10.0.0.6', 1001);
    expect(sent[1]!.skb).not.toBe(sent[0]!.skb);
    expect(sent[0]!.skb.pkt.saddr).toBe(ip('10.0.0.5'));
    expect(sent[0]!.skb.mark).toBe(7);
  });

  it('with a trace sink, every packet has an skb of its own', () => {
    const { h, sent, send } = router();
    h.sink = { emit: () => undefined };
    send('10.0.0.5', 1000);
    send('10.0.0.6', 1001);
    expect(sent[1]!.skb).not.toBe(sent[0]!.skb);
  });

  it('with a fate probe (explain, diff), the skb is reused still: the probe keeps ids, not skbs', () => {
    const { h, sent, send } = router();
    h.probe = new FlowCollector(h, true);
    send('10.0.0.5', 1000);
    send('10.0.0.6', 1001);
    expect(sent[1]!.skb).toBe(sent[0]!.skb);
    expect(sent[1]!.id).not.toBe(sent[0]!.id);
  });
});
