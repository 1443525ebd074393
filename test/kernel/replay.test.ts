/**
 * Replays of the Linux 6.18 kernel recordings (fixtures/kernel, copied from
 * shared/kernel-cases): natsim gets the packets the router received and must send what the
 * kernel sent.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/load.js';
import { replayCapture } from '../../src/world/capture-replay.js';
import { formatIpv4 } from '../../src/packet/ipv4-addr.js';
import { expectSameBytes, pairUp } from './compare.js';

async function replay(name: string) {
  const dir = `fixtures/kernel/${name}`;
  return replayCapture(`${dir}/capture.pcap`, loadScenario(`${dir}/capture.yaml`));
}

describe('kernel recording icmp-masq', () => {
  it('sends exactly the packets the kernel sent, byte for byte', async () => {
    const r = await replay('icmp-masq');
    const pairs = pairUp(r.sent, r.recorded);
    expect(pairs).toHaveLength(6);
    pairs.forEach((p, i) => expectSameBytes(p, i));
    expect(pairs.map((p) => formatIpv4(p.natsim.saddr))).toEqual(['192.168.206.250', '192.168.206.1', '192.168.206.250', '192.168.206.1', '192.168.206.250', '192.168.206.1']);
  });

  it('leaves one ICMP entry with the id kept, as conntrack -L shows', async () => {
    const r = await replay('icmp-masq');
    const entries = [...r.host.nf.table.connections()];
    expect(entries).toHaveLength(1);
    const [orig, reply] = entries[0]!.tuple;
    expect([formatIpv4(orig.src), formatIpv4(orig.dst), orig.srcU]).toEqual(['10.0.3.1', '192.168.206.1', 4716]);
    expect([formatIpv4(reply.src), formatIpv4(reply.dst), reply.srcU]).toEqual(['192.168.206.1', '192.168.206.250', 4716]);
    expect(r.host.nf.stats.total()).toMatchObject({ found: 0, invalid: 0, insert_failed: 0, drop: 0 });
  });
});

describe('kernel recording masq-to-ports-multi-ip', () => {
  it('reproduces every packet; TCP source ports judged by the rule', async () => {
    const r = await replay('masq-to-ports-multi-ip');
    const pairs = pairUp(r.sent, r.recorded);
    expect(pairs).toHaveLength(37);
    const natsimPortOf = new Map<number, number>(); // original client port → natsim's port
    pairs.forEach((p, i) => {
      const k = p.kernel;
      const outbound = p.ifindex === 3;
      const tcp = k.proto === 6;
      if (!tcp) return expectSameBytes(p, i); // UDP: ports kept, exactly as the kernel
      expectSameBytes(p, i, outbound ? { sport: true } : {});
      if (!outbound) return;
      const natPort = p.natsim.sport;
      // MASQUERADE --to-ports 55666-55680: inside the range, like the kernel's choice
      expect(natPort).toBeGreaterThanOrEqual(55666);
      expect(natPort).toBeLessThanOrEqual(55680);
      expect(k.sport).toBeGreaterThanOrEqual(55666);
    });
    // kept for the whole flow, and different flows get different ports at the same address
    const flows = new Map<string, Set<number>>();
    for (const p of pairs) {
      if (p.kernel.proto !== 6 || p.ifindex !== 3) continue;
      const id = `${formatIpv4(p.kernel.saddr)}:${p.kernel.sport}>${formatIpv4(p.kernel.daddr)}`;
      flows.set(id, (flows.get(id) ?? new Set()).add(p.natsim.sport));
      natsimPortOf.set(p.kernel.sport, p.natsim.sport);
    }
    expect(flows.size).toBe(3);
    for (const ports of flows.values()) expect(ports.size).toBe(1);
    expect(new Set(natsimPortOf.values()).size).toBe(3);
  });

  it('picks 1.2.3.56 for 1.1.1.1 (next hop 1.2.3.4) and 10.0.2.15 otherwise', async () => {
    const r = await replay('masq-to-ports-multi-ip');
    const sources = new Map<string, string>();
    for (const s of r.sent) {
      if (s.ifindex !== 3) continue;
      const p = pairUp([s], [s])[0]!.natsim;
      sources.set(formatIpv4(p.daddr), formatIpv4(p.saddr));
    }
    expect(Object.fromEntries(sources)).toEqual({ '8.8.8.8': '10.0.2.15', '1.1.1.1': '1.2.3.56' });
  });
});
