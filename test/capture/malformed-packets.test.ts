/**
 * Malformed packets inside a well-formed capture, one class per record, replayed on a NAT
 * router: each is either skipped with a stated note (what the IPv4 layer would drop before
 * netfilter: ip_rcv_core's header checks, fragments natsim does not reassemble) or reaches
 * conntrack, which counts it as the kernel does (tcp_error: invalid; an ICMP error whose quoted
 * header is cut short: error) — never a crash, never a silent loss.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { ETH_P_IP } from '../../src/capture/link-layer.js';
import { LinkType, PacketDirection } from '../../src/capture/record.js';
import { buildIcmpError, buildTcp, buildUdp } from '../../src/packet/build.js';
import { checksum } from '../../src/packet/checksum.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { parseScenario } from '../../src/scenario/load.js';
import { replayCapture } from '../../src/world/capture-replay.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { tempDir } from './helpers.js';

const LAN = parseIpv4('10.0.0.2')!;
const WAN = parseIpv4('198.51.100.7')!;

const SCENARIO = parseScenario(
  `natsim: 1
name: router
hosts:
  router:
    sysctl: { net.ipv4.ip_forward: 1 }
    interfaces:
      eth0: { addr: [10.0.0.1/24], index: 2 }
      eth1: { addr: [203.0.113.1/24], index: 3 }
    routes: [default via 203.0.113.254]
    ruleset: |
      table ip nat {
        chain postrouting { type nat hook postrouting priority srcnat; oifname "eth1" masquerade; }
      }
`,
  'router.yaml',
);

function tcpSyn(): Uint8Array {
  return buildTcp({ saddr: LAN, daddr: WAN, sport: 40000, dport: 80, seq: 1, ack: 0, flags: 0x02, window: 64240, ipId: 1, ttl: 64, payloadLength: 0, syn: { mss: 1460, wscale: 7 } }).data;
}

function udp(): Uint8Array {
  return buildUdp({ saddr: LAN, daddr: WAN, sport: 5353, dport: 53, ipId: 2, ttl: 64, payload: new Uint8Array(4) }).data;
}

/** The bytes changed by `change`, the IP header checksum made right again (else ip_rcv_core drops them first). */
function edit(bytes: Uint8Array, change: (b: Uint8Array) => void): Uint8Array {
  const copy = Uint8Array.from(bytes);
  change(copy);
  const ihl = (copy[0]! & 0x0f) * 4;
  if (ihl >= 20 && copy.length >= ihl) {
    copy[10] = copy[11] = 0;
    const c = checksum(copy, 0, ihl);
    copy[10] = c >> 8;
    copy[11] = c & 0xff;
  }
  return copy;
}

/** Each class: the frame, and the note natsim gives it. */
const CLASSES: readonly { name: string; frame: Uint8Array; note: string }[] = [
  { name: 'IHL below 5', frame: edit(udp(), (b) => (b[0] = 0x44)), note: 'record 1: IPv4 packet not handled: bad-ihl' },
  { name: 'total length below the header', frame: edit(udp(), (b) => ((b[2] = 0), (b[3] = 12))), note: 'record 2: IPv4 packet not handled: bad-total-length' },
  { name: 'total length beyond the frame', frame: edit(udp(), (b) => ((b[2] = 0x05), (b[3] = 0xdc))), note: 'record 3: IPv4 packet not handled: truncated' },
  { name: 'TCP shorter than its header', frame: tcpSyn().slice(0, 30), note: 'record 4: IPv4 packet not handled: truncated' },
  { name: 'version 5', frame: edit(udp(), (b) => (b[0] = 0x55)), note: 'record 5: IPv4 packet not handled: bad-version' },
];

describe('malformed packets in a capture', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  async function replay(frames: readonly Uint8Array[]): Promise<{ events: TraceEvent[]; result: Awaited<ReturnType<typeof replayCapture>> }> {
    const file = dir.file('malformed.pcap');
    const writer = new PcapWriter(file, { linkType: LinkType.LinuxSll2 });
    frames.forEach((payload, i) => writer.write({ sec: 1, nsec: i * 1000, ifindex: 2, direction: PacketDirection.Host, protocol: ETH_P_IP, payload }));
    writer.close();
    const events: TraceEvent[] = [];
    const result = await replayCapture(file, SCENARIO, { sink: { emit: (e) => void events.push(e) } });
    return { events, result };
  }

  it('skips what the IPv4 layer would refuse, each with its note, and replays the rest', async () => {
    const { events } = await replay([...CLASSES.map((c) => c.frame), udp()]);
    const notes = events.filter((e) => e.kind === 'unhandled').map((e) => (e.kind === 'unhandled' ? e.reason : ''));
    expect(notes).toEqual(CLASSES.map((c) => c.note));
    // the good datagram after them went through and out, masqueraded
    const sent = events.flatMap((e) => (e.kind === 'transmit' ? [e.pkt.saddr] : []));
    expect(sent).toEqual([parseIpv4('203.0.113.1')]);
  });

  it('a TCP header with a data offset below 5 words reaches conntrack, which calls it invalid (tcp_error)', async () => {
    const badDoff = edit(tcpSyn(), (b) => (b[32] = 0x40));
    const { events, result } = await replay([badDoff]);
    const notes = events.flatMap((e) => (e.kind === 'hook' ? e.notes : []));
    expect(notes).toContain('nf_ct_proto_6: truncated packet');
    expect(result.host.nf.stats.total().invalid).toBe(1);
  });

  it('an ICMP error whose quoted datagram is cut short is counted as a conntrack error and passes untracked', async () => {
    const quoted = buildUdp({ saddr: WAN, daddr: LAN, sport: 53, dport: 5353, ipId: 3, ttl: 64, payload: new Uint8Array(4) });
    const error = buildIcmpError(3, 3, WAN, quoted, 4).data;
    // keep the outer headers and only 10 bytes of the quoted IP header
    const cut = edit(error.slice(0, 20 + 8 + 10), (b) => ((b[2] = 0), (b[3] = 38)));
    const { events, result } = await replay([cut]);
    expect(result.host.nf.stats.total().error).toBe(1);
    expect(events.flatMap((e) => (e.kind === 'hook' ? e.notes : [])).some((n) => n.startsWith('ICMP: ') && n.endsWith('(conntrack counter error)'))).toBe(true);
  });
});
