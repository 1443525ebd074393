/**
 * IPVS in the host's hooks, against the seed "LVS+Iptables实现FULLNAT及原理分析" and the kernel
 * code paths it cites (ip_vs_in_hook, ip_vs_nat_xmit, ip_vs_nat_send_or_cont, ip_vs_notrack,
 * ip_vs_update_conntrack, handle_response). The kernel this machine runs has no IPVS
 * (CONFIG_IP_VS is not set), so there is no recording to replay: the figures are the article's
 * and the code's.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario, parseScenario } from '../../src/scenario/load.js';
import type { ScenarioSpec } from '../../src/scenario/spec.js';
import { World } from '../../src/world/world.js';
import { Hook, Verdict } from '../../src/netfilter/constants.js';
import { formatIpv4, parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { TcpFlag } from '../../src/packet/ipv4.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { runWorld } from '../support/run-world.js';
import { Dir } from '../../src/netfilter/conntrack/tuple.js';

const S = 1e9;

const run = (spec: ScenarioSpec, trace: string[], until?: number) => runWorld(spec, { trace }, until);

type Received = Extract<TraceEvent, { kind: 'receive' }>;
const received = (events: TraceEvent[], host: string): Received[] => events.filter((e): e is Received => e.kind === 'receive' && e.host === host);

/** The source addresses the real server saw on its port 8080. */
function rsSeesFrom(events: TraceEvent[]): string[] {
  return [...new Set(received(events, 'rs').filter((e) => e.pkt.proto === 6 && e.pkt.dport === 8080).map((e) => formatIpv4(e.pkt.saddr)))];
}

function pingAnswered(world: World): boolean {
  return world.appEvents.some((e) => e.host === 'rs' && e.text.includes('reply from 114.114.114.114'));
}

describe('the seed experiment, step by step', () => {
  const steps = [
    { file: 'fixtures/seeds/lvs-nat.yaml', rsSees: ['10.0.5.119'], rsOnline: false, entries: 0 },
    { file: 'fixtures/seeds/lvs-nat-masquerade.yaml', rsSees: ['10.0.5.119'], rsOnline: true, entries: 0 },
    { file: 'fixtures/seeds/lvs-nat-fullnat.yaml', rsSees: ['192.168.122.11'], rsOnline: true, entries: 1 },
  ];

  it.each(steps)('$file: the real server sees $rsSees', ({ file, rsSees, rsOnline }) => {
    const { world, events } = run(loadScenario(file), ['lvs', 'rs']);
    expect(rsSeesFrom(events)).toEqual(rsSees);
    expect(pingAnswered(world)).toBe(rsOnline);
    // The client's connection works in every step: the VIP answers it.
    expect(world.appEvents.filter((e) => e.host === 'client').map((e) => e.text)).toContain('tcp 10.0.5.119:54052 > 10.0.0.254:80: connected after 1 SYN(s)');
  });

  it.each(steps)('$file: ip_vs_in_hook steals the SYN at LOCAL_IN, and LOCAL_IN never confirms it', ({ file }) => {
    const { events } = run(loadScenario(file), ['lvs']);
    const syn = received(events, 'lvs').find((e) => e.pkt.proto === 6 && e.pkt.tcpFlags === TcpFlag.SYN)!;
    const hooks = events.filter((e): e is Extract<TraceEvent, { kind: 'hook' }> => e.kind === 'hook' && e.skb === syn.skb);
    const stolen = hooks.find((e) => e.op === 'ip_vs_in_hook' && e.hook === Hook.LocalIn)!;
    expect(stolen.verdict).toBe(Verdict.Stolen);
    expect(stolen.priority).toBe(99);
    expect(hooks.some((e) => e.hook === Hook.LocalIn && e.op === 'nf_confirm')).toBe(false);
    // ... but it goes on through LOCAL_OUT and POST_ROUTING, rewritten to the real server.
    const sent = events.find((e) => e.kind === 'transmit' && e.skb === syn.skb);
    expect(sent).toMatchObject({ dev: 'eth0', pkt: { daddr: parseIpv4('192.168.122.249'), dport: 8080, ttl: 63 } });
  });

  it.each(steps)('$file: conntrack keeps $entries entry for the client', ({ file, entries }) => {
    const { world } = run(loadScenario(file), ['lvs'], 0.3 * S);
    const lvs = world.hosts.get('lvs')!;
    const client = [...lvs.nf.table.connections()].filter((ct) => ct.tuple(Dir.Original).src === parseIpv4('10.0.5.119'));
    expect(client).toHaveLength(entries);
    if (entries === 1) {
      // ip_vs_update_conntrack pointed the reply at the real server, MASQUERADE at the director.
      const reply = client[0]!.tuple(Dir.Reply);
      expect([formatIpv4(reply.src), reply.srcU, formatIpv4(reply.dst)]).toEqual(['192.168.122.249', 8080, '192.168.122.11']);
    }
  });

  it.each(steps)('$file: every packet on every wire has valid checksums', ({ file }) => {
    const bad: string[] = [];
    const world = new World(loadScenario(file), {
      trace: [],
      tap: (_dir, dev, pkt, time) => void (pkt.checksumsValid() || bad.push(`${time} ${dev.name} ${formatIpv4(pkt.saddr)} > ${formatIpv4(pkt.daddr)}`)),
    });
    world.run();
    expect(bad).toEqual([]);
  });

  it('without net.ipv4.vs.conntrack the real server\'s SYN/ACK is a new, invalid flow to conntrack', () => {
    const { world } = run(loadScenario('fixtures/seeds/lvs-nat-masquerade.yaml'), ['lvs'], 0.3 * S);
    expect(world.hosts.get('lvs')!.nf.stats.total().invalid).toBeGreaterThan(0);
  });

  it('counts the connection active while established and inactive in TIME_WAIT, as ipvsadm -Ln shows', () => {
    const spec = loadScenario('fixtures/seeds/lvs-nat-fullnat.yaml');
    const during = run(spec, ['lvs'], 0.3 * S).world.hosts.get('lvs')!.ipvs!;
    expect(during.services[0]!.dests[0]).toMatchObject({ activeConns: 1, inactConns: 0 });
    const after = run(spec, ['lvs']).world.hosts.get('lvs')!.ipvs!;
    expect(after.services[0]!.dests[0]).toMatchObject({ activeConns: 0, inactConns: 1 });
    expect(after.conns.all().map((cp) => cp.state)).toEqual([5 /* TIME_WAIT */]);
  });
});

/** A director with two real servers, the client on one side and the servers on the other. */
function director(ipvs: string, runSteps: string[], sysctl = ''): ScenarioSpec {
  return parseScenario(
    `natsim: 1
name: t
seed: 1
hosts:
  client:
    interfaces: { eth0: { addr: [10.0.5.119/24], link: public } }
    routes: [default via 10.0.5.63]
  lvs:
    sysctl: { net.ipv4.ip_forward: 1${sysctl} }
    interfaces:
      eth0: { addr: [192.168.122.11/24], link: private }
      eth1: { addr: [10.0.5.63/24, 10.0.0.254/24], link: public }
    ipvs: |
${ipvs
  .trim()
  .split('\n')
  .map((l) => `      ${l.trim()}`)
  .join('\n')}
  rs1:
    interfaces: { eth0: { addr: [192.168.122.249/24], link: private }, dummy0: { addr: [10.0.0.254/32] } }
    routes: [default via 192.168.122.11]
  rs2:
    interfaces: { eth0: { addr: [192.168.122.250/24], link: private }, dummy0: { addr: [10.0.0.254/32] } }
    routes: [default via 192.168.122.11]
trace: [lvs, rs1, rs2]
run:
  - { at: 0s, on: rs1, do: tcp listen 8080 reply 10 }
  - { at: 0s, on: rs2, do: tcp listen 8080 reply 10 }
  - { at: 0s, on: rs1, do: tcp listen 80 reply 10 }
  - { at: 0s, on: rs2, do: tcp listen 80 reply 10 }
${runSteps.map((s) => `  - ${s}`).join('\n')}
`,
    't.yaml',
  );
}

/** Which real server took each SYN, in order. */
function synsAt(events: TraceEvent[]): string[] {
  return events.filter((e): e is Received => e.kind === 'receive' && e.host.startsWith('rs') && e.pkt.proto === 6 && e.pkt.tcpFlags === TcpFlag.SYN).map((e) => e.host);
}

describe('scheduling and forwarding', () => {
  const masq = `-A -t 10.0.0.254:80 -s rr
-a -t 10.0.0.254:80 -r 192.168.122.249:8080 -m
-a -t 10.0.0.254:80 -r 192.168.122.250:8080 -m`;

  // ip_vs_add_dest puts a new real server at the head of the service's list (list_add_rcu),
  // so rr starts with the server added last.
  it('rr alternates the real servers connection by connection, newest server first', () => {
    const steps = [0.1, 0.2, 0.3, 0.4].map((t) => `{ at: ${t}s, on: client, do: tcp connect 10.0.0.254:80 hold 0.01 }`);
    expect(synsAt(run(director(masq, steps), ['lvs', 'rs1', 'rs2']).events)).toEqual(['rs2', 'rs1', 'rs2', 'rs1']);
  });

  it('persistence (-p) keeps a client on the server its template chose', () => {
    const persistent = masq.replace('-s rr', '-s rr -p 60');
    const steps = [0.1, 0.2, 0.3].map((t) => `{ at: ${t}s, on: client, do: tcp connect 10.0.0.254:80 hold 0.01 }`);
    const { world, events } = run(director(persistent, steps), ['lvs', 'rs1', 'rs2']);
    expect(synsAt(events)).toEqual(['rs2', 'rs2', 'rs2']);
    expect(world.hosts.get('lvs')!.ipvs!.services[0]!.dests.map((d) => d.persistConns)).toEqual([0, 1]);
  });

  it('direct routing hands the untouched packet (still to the VIP) to the real server as next hop', () => {
    const dr = `-A -t 10.0.0.254:80 -s rr
-a -t 10.0.0.254:80 -r 192.168.122.249:80 -g`;
    const { events } = run(director(dr, ['{ at: 0.1s, on: client, do: tcp connect 10.0.0.254:80 hold 0.01 }']), ['lvs', 'rs1']);
    const syn = received(events, 'rs1').find((e) => e.pkt.tcpFlags === TcpFlag.SYN)!;
    expect([formatIpv4(syn.pkt.saddr), formatIpv4(syn.pkt.daddr), syn.pkt.dport, syn.pkt.ttl]).toEqual(['10.0.5.119', '10.0.0.254', 80, 63]);
  });

  it('a DR reply routed back through the director is found under the VIP and leaves the input-only table', () => {
    const dr = `-A -t 10.0.0.254:80 -s rr
-a -t 10.0.0.254:80 -r 192.168.122.249:80 -g`;
    // the reply's source is the VIP, an address of the director: fib_validate_source refuses it
    // as a martian unless accept_local is on (ipv4/route-input.ts)
    const { world } = run(director(dr, ['{ at: 0.1s, on: client, do: tcp connect 10.0.0.254:80 hold 0.01 }'], ', net.ipv4.conf.all.accept_local: 1'), ['lvs'], 0.15 * S);
    const [cp] = world.hosts.get('lvs')!.ipvs!.conns.all();
    expect(cp!.noOutput).toBe(false);
    expect(world.appEvents.map((e) => e.text)).toContainEqual(expect.stringMatching(/^tcp 10\.0\.5\.119:\d+ > 10\.0\.0\.254:80: connected after 1 SYN\(s\)$/));
  });

  it('a real server\'s port unreachable reaches the client from the VIP, quoting the VIP (ip_vs_out_icmp)', () => {
    const udp = `-A -u 10.0.0.254:53 -s rr
-a -u 10.0.0.254:53 -r 192.168.122.249:5353 -m`;
    const { events } = run(director(udp, ['{ at: 0.1s, on: client, do: udp send 10.0.0.254:53 from 40000 }']), ['lvs'], 0.5 * S);
    const out = events.find((e): e is Extract<TraceEvent, { kind: 'transmit' }> => e.kind === 'transmit' && e.dev === 'eth1' && e.pkt.proto === 1);
    expect(out).toBeDefined();
    expect([formatIpv4(out!.pkt.saddr), formatIpv4(out!.pkt.daddr), out!.pkt.icmpType, out!.pkt.icmpCode]).toEqual(['10.0.0.254', '10.0.5.119', 3, 3]);
    const notes = events.flatMap((e) => (e.kind === 'hook' ? e.notes : []));
    expect(notes).toContain('ip_vs_nat_icmp: ICMP error about c:10.0.5.119:40000 v:10.0.0.254:53 d:192.168.122.249:5353 now from 10.0.0.254, quoting 10.0.0.254:53');
  });

  it('replies of a direct connection from the same client port are taken by IPVS (ip_vs_out_hook matches real server and client only)', () => {
    const one = `-A -t 10.0.0.254:80 -s rr
-a -t 10.0.0.254:80 -r 192.168.122.249:8080 -m`;
    const steps = [
      '{ at: 0.1s, on: client, do: tcp connect 10.0.0.254:80 from :40000 hold 5 }',
      '{ at: 0.2s, on: client, do: tcp connect 192.168.122.249:8080 from :40000 }',
    ];
    const { world, events } = run(director(one, steps), ['lvs']);
    const synAcks = events.filter((e): e is Extract<TraceEvent, { kind: 'transmit' }> => e.kind === 'transmit' && e.dev === 'eth1' && e.pkt.tcpFlags === (TcpFlag.SYN | TcpFlag.ACK));
    // the direct connection's SYN/ACK leaves the director from the VIP, not from the real server
    expect(synAcks.length).toBeGreaterThanOrEqual(2);
    expect(new Set(synAcks.map((e) => formatIpv4(e.pkt.saddr)))).toEqual(new Set(['10.0.0.254']));
    expect(world.appEvents.map((e) => e.text)).toContainEqual(expect.stringMatching(/^tcp 10\.0\.5\.119:40000 > 192\.168\.122\.249:8080: connect failed: connection timed out/));
  });

  it('a service whose servers all have weight 0 answers ICMP port unreachable (ip_vs_leave), for TCP too', () => {
    const idle = `-A -t 10.0.0.254:80 -s wrr
-a -t 10.0.0.254:80 -r 192.168.122.249:8080 -m -w 0`;
    const { world, events } = run(director(idle, ['{ at: 0.1s, on: client, do: tcp connect 10.0.0.254:80 }']), ['lvs'], 0.5 * S);
    const answers = events.filter((e) => e.kind === 'transmit' && e.host === 'lvs' && e.pkt.proto === 1);
    expect(answers.map((e) => e.kind === 'transmit' && [e.pkt.icmpType, e.pkt.icmpCode])).toEqual([[3, 3]]);
    expect(world.appEvents.map((e) => e.text)).toContainEqual(expect.stringContaining('connection refused'));
  });

  it('a SYN reusing the ports of a TIME_WAIT connection is scheduled afresh (conn_reuse_mode=1)', () => {
    const steps = [
      '{ at: 0.1s, on: client, do: tcp connect 10.0.0.254:80 from :40000 hold 0.01 }',
      '{ at: 1s, on: client, do: tcp connect 10.0.0.254:80 from :40000 hold 0.01 }',
    ];
    const { world, events } = run(director(masq, steps, ', net.ipv4.vs.conntrack: 1'), ['lvs', 'rs1', 'rs2']);
    expect(synsAt(events)).toEqual(['rs2', 'rs1']);
    const connected = world.appEvents.filter((e) => e.host === 'client' && e.text.includes('connected'));
    expect(connected).toHaveLength(2);
  });
});

describe('kube-proxy in ipvs mode (fixtures/seeds/kube-proxy-ipvs.yaml)', () => {
  const { world, events } = run(loadScenario('fixtures/seeds/kube-proxy-ipvs.yaml'), ['node', 'pod-a', 'pod-b']);
  /** Who each pod saw open a connection to its port 8080, in order. */
  const synSources = (pod: string): string[] =>
    received(events, pod)
      .filter((e) => e.pkt.dport === 8080 && e.pkt.tcpFlags === TcpFlag.SYN)
      .map((e) => formatIpv4(e.pkt.saddr));

  it('a NodePort client is marked by KUBE-NODE-PORT and masqueraded to the node address toward the pod', () => {
    expect(synSources('pod-b')[0]).toBe('192.168.1.2');
  });

  it('a pod calling the ClusterIP keeps its own address (no mark, not in KUBE-LOOP-BACK)', () => {
    expect(synSources('pod-b')[1]).toBe('10.244.0.5');
  });

  it('a pod sent back to itself is masqueraded to cni0 by the KUBE-LOOP-BACK set (hairpin)', () => {
    expect(synSources('pod-a')).toEqual(['10.244.0.1']);
  });

  it('every connection is answered from the address it was made to', () => {
    expect(world.appEvents.filter((e) => e.text.includes('connected')).map((e) => e.text.replace(/:\d+ > /, ' > '))).toEqual([
      'tcp 192.168.1.10 > 192.168.1.2:30080: connected after 1 SYN(s)',
      'tcp 10.244.0.5 > 10.96.0.10:80: connected after 1 SYN(s)',
      'tcp 10.244.0.5 > 10.96.0.10:80: connected after 1 SYN(s)',
    ]);
  });
});
