/**
 * A node's own packets in a capture replay (world/own-output.ts), against Linux 6.18 recordings:
 * REDIRECT to a listener on the router (its SYN-ACK and data leave de-NATed), and the router's
 * own connections DNATed in nat OUTPUT (rerouted and masqueraded). natsim must send what the
 * kernel sent and end with the entries `conntrack -L` listed — which needs the NAT undone on
 * the way in, as the wire alone would give other original tuples.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadNode, nodeScenario } from '../../src/node/snapshot.js';
import { replayCapture } from '../../src/world/capture-replay.js';
import { viewEntry, type TraceEvent } from '../../src/trace/events.js';
import { conntrackListLine } from '../../src/report/conntrack-list.js';
import { gcSweep } from '../../src/netfilter/conntrack/gc.js';
import { parseSockets } from '../../src/node/sockets.js';
import { expectSameBytes, pairUp } from '../kernel/compare.js';

/** A conntrack -L line without its timeout (the third column), which depends on when it was taken. */
const untimed = (line: string): string => line.trim().split(/\s+/).filter((_, i) => i !== 2).join(' ');

async function replayNode(name: string) {
  const dir = `fixtures/kernel/${name}`;
  const out: TraceEvent[] = [];
  const result = await replayCapture(`${dir}/capture.pcap`, nodeScenario(loadNode(dir)), { keepPackets: true, sink: { emit: (e) => void out.push(e) } });
  gcSweep(result.host.nf, result.endTime);
  const listed = [...result.host.nf.table.connections()].map((ct) => untimed(conntrackListLine(viewEntry(ct, result.endTime))));
  const kernel = readFileSync(`${dir}/conntrack-L.txt`, 'utf8').split('\n').filter((l) => l.trim() !== '').map(untimed);
  return { result, out, listed, kernel };
}

for (const name of ['redirect-local-listener', 'output-dnat-local']) {
  describe(`the node's own packets: ${name}`, async () => {
    const { result, out, listed, kernel } = await replayNode(name);
    it('sends every packet the kernel sent, byte for byte', () => {
      const { sent, recorded } = result.packets!;
      expect(recorded.length).toBeGreaterThan(3);
      pairUp(sent, recorded).forEach((pair, i) => expectSameBytes(pair, i));
    });
    it('feeds them at LOCAL_OUT, as the socket sent them', () => {
      expect(out.filter((e) => e.kind === 'output').length).toBeGreaterThan(2);
    });
    it("ends with the entries of the kernel's conntrack -L (timeouts aside)", () => {
      expect(listed.sort()).toEqual(kernel.sort());
    });
  });
}

describe('sockets.txt (ss -tuanpH)', () => {
  it('reads listeners, connected and unconnected sockets, and leaves IPv6 out', () => {
    const text = [
      'tcp LISTEN 0      8         0.0.0.0:15001  0.0.0.0:*     users:(("python3",pid=1,fd=3))',
      'tcp ESTAB  0      0      10.0.3.254:15001 10.0.3.1:43000 users:(("python3",pid=1,fd=4))',
      'udp UNCONN 0      0              0.0.0.0:45053    0.0.0.0:*',
      'tcp LISTEN 0      4096              [::]:22            [::]:*',
      '',
    ].join('\n');
    const { sockets, skipped } = parseSockets(text, 'sockets.txt');
    expect(sockets.map((s) => [s.proto, s.state, s.local.port, s.peer?.port ?? null])).toEqual([
      [6, 'LISTEN', 15001, null],
      [6, 'ESTAB', 15001, 43000],
      [17, 'UNCONN', 45053, null],
    ]);
    expect(skipped).toEqual(['sockets.txt: 1 IPv6 socket(s) left out (natsim replays IPv4)']);
  });
  it('names the line and column of a bad address', () => {
    expect(() => parseSockets('tcp ESTAB 0 0 10.0.3.999:1 10.0.3.1:2', 's.txt')).toThrow(/s\.txt:1:15: bad local address '10\.0\.3\.999:1'/);
  });
});
