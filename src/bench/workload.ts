/**
 * Writes the benchmark's capture: a NAT router's LINUX_SLL2 capture of `packets` packets the
 * router received (direction In on lan0 or wan0; natsim replays only those), with the scenario
 * describing the router beside it (x.pcap → x.yaml, where natsim looks by default); pcapng when
 * the name ends in .pcapng, with the same packets for the same seed. Flows start
 * at random (exponential) intervals, by default about 800 a second, so a 1,000,000-packet
 * capture spans about 100 s with some 80,000 flows, and the conntrack table stays at a steady
 * size however long the capture: a longer file has more flows, not more live ones. A higher
 * rate packs more flows into fewer seconds, so that more of them are live at once.
 */
import { statSync, writeFileSync } from 'node:fs';
import { openCaptureWriter } from '../capture/index.js';
import { LinkType, PacketDirection } from '../capture/record.js';
import { ETH_P_IP, ETH_P_IPV6 } from '../capture/link-layer.js';
import { IPV6_ROUTER, remoteIsOdd, toIpv6 } from './to-ipv6.js';
import { Prng } from '../sim/prng.js';
import { AddressPools, LAN_IFINDEX } from './addresses.js';
import { FLOW_MIX, type FlowEnv, type FlowKind } from './flows.js';
import { PacketQueue } from './packet-queue.js';
import { PortBook } from './port-book.js';

/** Flows started per second of capture, on average, unless the caller asks for another rate. */
export const DEFAULT_FLOWS_PER_SECOND = 800;
/** Capture start: 2024-01-01T00:00:00Z, a fixed date so the file is the same on every run. */
const EPOCH_SEC = 1_704_067_200;

export interface WorkloadSummary {
  readonly pcap: string;
  readonly scenario: string;
  readonly packets: number;
  readonly flows: number;
  readonly flowsByKind: Record<FlowKind, number>;
  /** Capture time from the first to the last packet, seconds. */
  readonly seconds: number;
  readonly bytes: number;
}

/** Which family the workload's flows use: all IPv4 (the main cases), all IPv6, or each flow either (by its remote host). */
export type WorkloadFamily = 'ipv4' | 'ipv6' | 'mixed';

export function writeWorkload(pcap: string, packets: number, seed: number, family: WorkloadFamily = 'ipv4', flowsPerSecond = DEFAULT_FLOWS_PER_SECOND): WorkloadSummary {
  const meanFlowGapUs = 1e6 / flowsPerSecond;
  const prng = new Prng(seed);
  const queue = new PacketQueue();
  const env: FlowEnv = { prng, pools: new AddressPools(prng), ports: new PortBook(), emit: (p) => queue.push(p) };
  const flowsByKind = Object.fromEntries(FLOW_MIX.map(([kind]) => [kind, 0])) as Record<FlowKind, number>;
  const totalWeight = FLOW_MIX.reduce((sum, [, weight]) => sum + weight, 0);
  const writer = openCaptureWriter(pcap, { linkType: LinkType.LinuxSll2 });
  let flows = 0;
  let nextStart = 0;
  let written = 0;
  let last = 0;
  try {
    while (written < packets) {
      // A flow's packets all come at or after its start, so every flow starting before the
      // earliest queued packet must be laid out before that packet can be written.
      while (nextStart <= queue.peekTime()) {
        let pick = prng.below(totalWeight);
        const entry = FLOW_MIX.find(([, weight]) => (pick -= weight) < 0)!;
        entry[2](env, nextStart);
        flowsByKind[entry[0]]++;
        flows++;
        nextStart += Math.max(1, Math.round(-Math.log(1 - prng.u32() / 0x100000000) * meanFlowGapUs));
      }
      const p = queue.pop()!;
      const v6 = family === 'ipv6' || (family === 'mixed' && remoteIsOdd(p.bytes, p.ifindex === LAN_IFINDEX));
      writer.write({
        sec: EPOCH_SEC + Math.floor(p.time / 1e6),
        nsec: (p.time % 1e6) * 1000,
        ifindex: p.ifindex,
        direction: PacketDirection.Host,
        protocol: v6 ? ETH_P_IPV6 : ETH_P_IP,
        payload: v6 ? toIpv6(p.bytes) : p.bytes,
      });
      last = p.time;
      written++;
    }
  } finally {
    writer.close();
  }
  const scenario = pcap.replace(/\.pcap(ng)?$/, '.yaml');
  writeFileSync(scenario, routerScenario(packets, seed, family === 'ipv4' ? INLINE_MASQUERADE : INLINE_MASQUERADE_INET, family !== 'ipv4'));
  return { pcap, scenario, packets: written, flows, flowsByKind, seconds: last / 1e6, bytes: statSync(pcap).size };
}

/** The bench router's one rule, as an inline nft ruleset. */
const INLINE_MASQUERADE = `ruleset: |
      table ip nat { chain post { type nat hook postrouting priority srcnat; oifname "wan0" masquerade } }`;

/** Both families' masquerade, as one inet table (the IPv6 and mixed workloads). */
const INLINE_MASQUERADE_INET = `ruleset: |
      table inet nat { chain post { type nat hook postrouting priority srcnat; oifname "wan0" masquerade } }`;

/**
 * The router the capture was "taken" on: LAN 10.0.0.0/16 masqueraded out of wan0. `ruleset` is
 * the host's ruleset key (inline, or `ruleset-file: NAME` for case (i)).
 */
export function routerScenario(packets: number, seed: number, ruleset: string, ipv6 = false): string {
  const v6 = (addr: string): string => (ipv6 ? `, ${addr} nodad` : '');
  return `natsim: 1
name: bench-nat-router
about: generated by npm run bench (${packets} packets, seed ${seed}); a NAT router masquerading 10.0.0.0/16
seed: 1
hosts:
  rt:
    sysctl: { net.ipv4.ip_forward: 1${ipv6 ? ', net.ipv6.conf.all.forwarding: 1' : ''} }
    interfaces:
      lan0: { index: 2, addr: [10.0.255.254/16${v6(IPV6_ROUTER.lan)}] }
      wan0: { index: 3, addr: [203.0.113.1/24${v6(IPV6_ROUTER.wan)}] }
    routes:
      - default via 203.0.113.254 dev wan0${ipv6 ? `\n      - default via ${IPV6_ROUTER.gateway} dev wan0` : ''}
    ${ruleset}
`;
}
