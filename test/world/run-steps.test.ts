/**
 * Run steps are events, not objects held for the run: the clock holds as many events however
 * many steps a scenario has (each step is scheduled by the one before, each repetition by the
 * one before), and a closed socket frees its port as the kernel does — a UDP socket at once
 * (udp_lib_unhash), a TCP one only when its TIME_WAIT ends (__inet_check_established refuses
 * a 4-tuple a TIME_WAIT socket holds unless tcp_tw_reuse lets it, which it does only on
 * loopback by default).
 */
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import { World } from '../../src/world/world.js';

const MS = 1e6;
const S = 1e9;

function world(steps: string[], clientSysctl = '{}'): World {
  const text = `natsim: 1
seed: 7
hosts:
  client:
    sysctl: ${clientSysctl}
    interfaces: { eth0: { addr: [10.0.0.1/24], link: lan } }
  server:
    interfaces: { eth0: { addr: [10.0.0.2/24], link: lan } }
trace: []
run:
${steps.map((s) => `  - ${s}`).join('\n')}
`;
  return new World(parseScenario(text, 'steps.yaml'));
}

/** Runs `w` in steps of `every` ns and returns the most events its clock held and UDP ports the client had bound at once. */
function peaks(w: World, every: number): { events: number; ports: number } {
  const peak = { events: w.queue.pending, ports: 0 };
  for (let t = 0; w.queue.pending > 0; t += every) {
    w.run(t);
    peak.events = Math.max(peak.events, w.queue.pending);
    peak.ports = Math.max(peak.ports, w.sockets.get('client')!.udpPortsBound);
  }
  return peak;
}

const udpSteps = (n: number) => Array.from({ length: n }, (_, i) => `{ at: ${i}ms, on: client, do: udp send 10.0.0.2:9 hold 5ms }`);

describe('a scenario of many steps', () => {
  it('holds as many events and ports with 4,000 separate udp send steps as with 40', () => {
    const small = peaks(world(udpSteps(40)), MS / 2);
    const large = peaks(world(udpSteps(4000)), MS / 2);
    expect(large).toEqual(small);
    // a step's socket lives 5 ms: about six are open at once, one step waits on the clock
    expect(large.ports).toBeLessThanOrEqual(7);
    expect(large.events).toBeLessThan(20);
  });

  it('one step of 100,000 pings holds a few events, not one per echo', () => {
    const w = world(['{ at: 0s, on: client, do: ping 10.0.0.2 count 100000 interval 0.001 }']);
    const { events } = peaks(w, 10 * MS);
    expect(events).toBeLessThan(10);
    expect(w.appEvents.filter((e) => e.text.startsWith('ping: reply')).length).toBe(100000);
  });

  it('3 times as many separate udp send steps as the port range holds all find a port', () => {
    const w = world(Array.from({ length: 300 }, (_, i) => `{ at: ${i * 2}ms, on: client, do: udp send 10.0.0.2:9 hold 1ms }`), '{ net.ipv4.ip_local_port_range: "40000 40099" }');
    w.run();
    expect(w.appEvents.filter((e) => e.text.includes('no free local port'))).toEqual([]);
    expect(w.sockets.get('client')!.udpPortsBound).toBe(0);
  });
});

describe('a closed socket frees its port', () => {
  const onePort = '{ net.ipv4.ip_local_port_range: "40000 40001" }';

  it('UDP: at close, so a range of two ports serves any number of sockets one after another, but not three at once', () => {
    const apart = world(Array.from({ length: 10 }, (_, i) => `{ at: ${i}s, on: client, do: udp send 10.0.0.2:9 hold 0.5s }`), onePort);
    apart.run();
    expect(apart.appEvents.filter((e) => e.text.includes('no free local port'))).toEqual([]);
    const together = world(Array.from({ length: 3 }, () => `{ at: 0s, on: client, do: udp send 10.0.0.2:9 }`), onePort);
    together.run();
    expect(together.appEvents.map((e) => e.text)).toContain('udp send to 10.0.0.2:9: no free local port (EAGAIN)');
  });

  it('TCP: not while its TIME_WAIT socket lives (60 s), then again', () => {
    const w = world(
      [
        '{ at: 0s, on: server, do: tcp listen 80 }',
        '{ at: 1s, on: client, do: tcp connect 10.0.0.2:80 hold 1s }',
        '{ at: 10s, on: client, do: tcp connect 10.0.0.2:80 hold 1s }',
        '{ at: 70s, on: client, do: tcp connect 10.0.0.2:80 hold 1s }',
      ],
      '{ net.ipv4.ip_local_port_range: "40000 40000" }',
    );
    w.run();
    const outcome = w.appEvents.map((e) => [Math.round(e.time / S), e.text]);
    expect(outcome).toEqual([
      [1, 'tcp 10.0.0.1:40000 > 10.0.0.2:80: connected after 1 SYN(s)'],
      [10, 'tcp connect to 10.0.0.2:80: no free local port'],
      [70, 'tcp 10.0.0.1:40000 > 10.0.0.2:80: connected after 1 SYN(s)'],
    ]);
  });
});
