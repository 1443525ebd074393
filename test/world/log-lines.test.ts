/**
 * LOG in a simulated world: frames between hosts carry both interfaces' Ethernet addresses
 * (given in the scenario, or made up as a veth's random one would be), a forwarded packet shows
 * its input device and link header at POST_ROUTING too (ip_output), a packet the router makes
 * itself has no input device and no MAC= at all, and --log-uid names the owner of an
 * application's socket — root, as natsim's applications run — but not the kernel's.
 */
import { describe, expect, it } from 'vitest';
import { nfLogLine } from '../../src/netfilter/log/nf-log-syslog.js';
import { parseScenario } from '../../src/scenario/load.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { World } from '../../src/world/world.js';

const SCENARIO = `natsim: 1
name: log
seed: 1
hosts:
  pc:
    interfaces: { eth0: { addr: [10.0.3.1/24], link: lan, mac: "ca:da:66:74:00:76" } }
    routes: [default via 10.0.3.254]
    ruleset: |
      table ip t {
        chain out { type filter hook output priority 0; policy accept; log prefix "out: " flags skuid }
      }
  rt:
    sysctl: { net.ipv4.ip_forward: 1 }
    interfaces:
      eth1: { addr: [10.0.3.254/24], link: lan, mac: "f2:b5:54:fc:89:c5" }
      eth0: { addr: [192.168.206.250/24], link: wan }
    ruleset: |
      table ip t {
        chain fwd { type filter hook forward priority 0; policy accept; icmp type echo-request log prefix "fwd: " flags ether }
        chain post { type filter hook postrouting priority 0; policy accept; log prefix "post: " }
      }
  srv:
    interfaces: { eth0: { addr: [192.168.206.1/24], link: wan } }
    routes: [default via 192.168.206.250]
    ruleset: |
      table ip t {
        chain out { type filter hook output priority 0; policy accept; log prefix "srv-out: " flags skuid }
      }
trace: [rt, pc, srv]
run:
  - { at: 0s, on: pc, do: ping 192.168.206.1 count 1 id 7 }
  - { at: 1s, on: pc, do: udp send 10.0.3.254:9 from 40000 }
  - { at: 2s, on: srv, do: tcp listen 80 reply 100 }
  - { at: 2s, on: pc, do: tcp connect 192.168.206.1:80 from :40001 send 10 }
`;

function logLines(): string[] {
  const lines: string[] = [];
  const emit = (e: TraceEvent): void => {
    if (e.kind === 'hook') for (const entry of e.logs) lines.push(nfLogLine(entry));
  };
  new World(parseScenario(SCENARIO, 'log.yaml'), { sink: { emit } }).run();
  return lines;
}

describe('LOG lines in a scenario', () => {
  const all = logLines();
  const lines = all.filter((l) => l.startsWith('fwd: ') || l.startsWith('post: '));

  it('decodes the Ethernet header the echo request came with, from the addresses the scenario gives', () => {
    expect(lines[0]).toMatch(/^fwd: IN=eth1 OUT=eth0 MACSRC=ca:da:66:74:00:76 MACDST=f2:b5:54:fc:89:c5 MACPROTO=0800 SRC=10\.0\.3\.1 DST=192\.168\.206\.1 LEN=84 .* TTL=63 .* PROTO=ICMP TYPE=8 CODE=0 ID=7 SEQ=1 $/);
  });

  it("shows a forwarded packet's input device and link header at POST_ROUTING too", () => {
    expect(lines[1]).toMatch(/^post: IN=eth1 OUT=eth0 MAC=f2:b5:54:fc:89:c5:ca:da:66:74:00:76:08:00 SRC=10\.0\.3\.1 /);
    // the reply came from srv, whose address natsim made up: locally administered, unicast
    expect(lines[2]).toMatch(/^post: IN=eth0 OUT=eth1 MAC=([0-9a-f]{2}:){5}[0-9a-f]{2}:([0-9a-f]{2}):([0-9a-f]{2}:){4}[0-9a-f]{2}:08:00 SRC=192\.168\.206\.1 /);
    const source = lines[2]!.split('MAC=')[1]!.split(':').slice(6, 12);
    expect(parseInt(source[0]!, 16) & 0x03).toBe(0x02);
  });

  it('prints no link header for the port unreachable the router makes itself', () => {
    expect(lines[3]).toMatch(/^post: IN= OUT=eth1 SRC=10\.0\.3\.254 DST=10\.0\.3\.1 .* PROTO=ICMP TYPE=3 CODE=3 \[SRC=10\.0\.3\.1 DST=10\.0\.3\.254 .* PROTO=UDP SPT=40000 DPT=9 LEN=\d+ \] $/);
  });

  it("adds UID=0 GID=0 for an application's packets, not for the kernel's", () => {
    const out = (prefix: string, proto: string) => all.filter((l) => l.startsWith(prefix) && l.includes(` PROTO=${proto} `));
    expect(out('out: ', 'ICMP')[0]).toMatch(/^out: IN= OUT=eth0 SRC=10\.0\.3\.1 .* TYPE=8 CODE=0 ID=7 SEQ=1 UID=0 GID=0 $/);
    expect(out('out: ', 'UDP')[0]).toMatch(/ SPT=40000 DPT=9 LEN=\d+ UID=0 GID=0 $/);
    expect(out('out: ', 'TCP').every((l) => l.endsWith(' UID=0 GID=0 '))).toBe(true);
    // srv: the echo reply is the kernel's, the SYN-ACK its request socket's, the rest the accepted socket's
    expect(out('srv-out: ', 'ICMP')[0]).toMatch(/ TYPE=0 CODE=0 ID=7 SEQ=1 $/);
    const srvTcp = out('srv-out: ', 'TCP');
    expect(srvTcp[0]).toMatch(/ ACK SYN URGP=0 $/);
    expect(srvTcp.length).toBeGreaterThan(1);
    expect(srvTcp.slice(1).every((l) => l.endsWith(' UID=0 GID=0 '))).toBe(true);
  });
});
