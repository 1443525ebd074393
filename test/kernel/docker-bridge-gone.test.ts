/**
 * fixtures/kernel/docker-bridge-gone (its README): a published port that DNATs to a container
 * that is gone. The kernel holds the SYNs in the neighbour's arp_queue — the bridged DNAT's
 * (br_nf_pre_routing_finish_bridge → neigh->output) as the routed one's — and answers all six
 * with host unreachable when ARP for 172.17.0.2 fails; both clients' connect() fails with
 * EHOSTUNREACH. Before natsim queued the bridged frame and counted the bridge's flooded copies
 * of its ARP requests once, it matched 3 of 19 packets here.
 */
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { natsim, tempDir } from '../cli/helpers.js';
import { verifiedPackets } from '../support/verify-json.js';
import { parseScenario } from '../../src/scenario/load.js';
import { runWorld } from '../support/run-world.js';

const DIR = 'fixtures/kernel/docker-bridge-gone';

describe('kernel recording docker-bridge-gone', () => {
  it('sends every host unreachable the kernel sent, to both clients, each at most 2 ms before it', async () => {
    const { code, packets } = await verifiedPackets(DIR);
    expect(code).toBe(0);
    const errors = packets.filter((p) => / type 3 code 1 /.test(p.kernel?.summary ?? p.natsim?.summary ?? ''));
    // ct2's three SYNs and w's three, answered at the failure (ct2's twice: docker0 and its port),
    // then ct2's last SYN, sent as the errors came, in a round of its own
    expect(errors.map((p) => p.outcome)).toEqual(Array(11).fill('match'));
    expect(errors.filter((p) => p.kernel!.summary.includes('> 192.168.206.1 '))).toHaveLength(3);
    for (const p of errors) {
      const early = p.kernel!.time - p.natsim!.time;
      expect(early).toBeGreaterThanOrEqual(0);
      expect(early).toBeLessThan(0.002);
    }
  });

  it("has a scenario twin whose clients fail as the kernel's did: No route to host, 3.06 s and 2.56 s after their connect()", () => {
    // the recording's set-up as a scenario: ct2 on the bridge and w outside connect 0.5 s apart
    const twin = `natsim: 1
seed: 1
hosts:
  w:
    sysctl: { net.ipv4.tcp_syn_retries: 3 }
    interfaces: { eth0: { addr: [192.168.206.1/24], link: wan } }
    routes: [default via 192.168.206.250]
  rt:
    sysctl: { net.ipv4.ip_forward: 1, net.bridge.bridge-nf-call-iptables: 1 }
    interfaces:
      eth0: { addr: [192.168.206.250/24], link: wan }
      docker0: { kind: bridge, addr: [172.17.0.1/16] }
      vethc2: { master: docker0, hairpin: true, link: c2 }
    ruleset-file: ../rulesets/docker-bridge-iptables.txt
  ct2:
    sysctl: { net.ipv4.tcp_syn_retries: 3 }
    interfaces: { eth0: { addr: [172.17.0.3/16], link: c2 } }
    routes: [default via 172.17.0.1]
run:
  - { at: 1s, on: ct2, do: tcp connect 192.168.206.250:8080 from :40002 }
  - { at: 1.5s, on: w, do: tcp connect 192.168.206.250:8080 from :40004 }
`;
    const { world } = runWorld(parseScenario(twin, 'fixtures/seeds/docker-bridge-gone-twin.yaml'));
    const recorded = new Map([...readFileSync(`${DIR}/client.txt`, 'utf8').matchAll(/^(\S+) \S+:(\d+) -> .*: failed after ([\d.]+) s: \[Errno 113\] No route to host$/gm)].map((m) => [Number(m[2]), Number(m[3])]));
    expect([...recorded.keys()].sort()).toEqual([40002, 40004]);
    for (const [port, start] of [[40002, 1], [40004, 1.5]] as const) {
      const failed = world.appEvents.find((e) => e.text.includes(`:${port} >`))!;
      expect(failed.text).toMatch(/connect failed: EHOSTUNREACH/);
      expect(Math.abs(failed.time / 1e9 - start - recorded.get(port)!)).toBeLessThan(0.035);
    }
  });

  it("traces the bridged DNATed SYN as waiting (no Out line before the failure) and the neighbour's failure", async () => {
    const run = await natsim('trace', `${DIR}/capture.pcap`, '--node', DIR);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines.filter((l) => l.includes('drop: neighbour 172.17.0.2 on docker0 failed: no answer to ARP (NEIGH_FAILED)'))).toHaveLength(7);
    expect(lines.some((l) => /docker0 out: 172\.17\.0\.3 -> 172\.17\.0\.2 /.test(l))).toBe(false);
    // each of the seven says where it went: into the neighbour's queue
    expect(lines.filter((l) => l.includes('neigh: 172.17.0.2 on docker0 not resolved: the packet waits in its arp_queue (__neigh_event_send)'))).toHaveLength(7);
  });
});

/** The first `records` records of a classic pcap file (its 24-byte header, then each record's 16-byte header and bytes). */
function firstRecords(pcap: Uint8Array, records: number): Uint8Array {
  const view = new DataView(pcap.buffer, pcap.byteOffset, pcap.byteLength);
  let at = 24;
  for (let i = 0; i < records; i++) at += 16 + view.getUint32(at + 8, true);
  return pcap.subarray(0, at);
}

describe('verify on a capture that stops before natsim does', () => {
  it("leaves out what natsim's timers sent after the last record, and says so", async () => {
    // cut after record 31: ct2's last SYN and its round's first requests are in, the round's failure is not
    const dir = tempDir();
    for (const f of readdirSync(DIR)) if (f !== 'capture.pcap') copyFileSync(join(DIR, f), join(dir, f));
    writeFileSync(join(dir, 'capture.pcap'), firstRecords(readFileSync(`${DIR}/capture.pcap`), 31));
    const run = await natsim('verify', join(dir, 'capture.pcap'), '--node', dir);
    expect(run.stdout).toContain("not compared: 2 packets natsim sent after the capture's last record (its timers went on; the capture had stopped)");
    expect(run.stdout).toMatch(/verify: 9\/9 packets match/);
    expect(run.code).toBe(0);
  });
});
