/**
 * The TCP timestamp option (src/sockets/tcp-timestamps.ts) against the kernel experiment
 * fixtures/kernel-experiments/tcp-timestamps (Linux 6.18, window scale 7): client a with
 * tcp_timestamps=1 connects to b (1) over IPv4 and IPv6 and to c (0) over IPv4, each time sending
 * 4 bytes, then 2996. natsim's scenario makes the same connections; each segment is read from its
 * bytes alike for both (the capture keeps 128 bytes of each frame), and compared for what does
 * not depend on the clock or the secret: flags, window, the option bytes with TSval and TSecr
 * masked, the IP length, the data segments' size, and which TSval each TSecr echoes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import { PacketDirection, readCaptureSync } from '../../src/capture/index.js';
import { TcpFlag } from '../../src/packet/ipv4.js';
import { nfLogLine } from '../../src/netfilter/log/nf-log-syslog.js';
import { runWorld } from '../support/run-world.js';

/** A TCP segment read from its IP bytes (possibly cut short after the options). */
interface Segment {
  /** 'a' for the client's, the server's otherwise. */
  readonly from: 'a' | 'srv';
  /** The flow is named by the server's address; the client's port tells its connections apart. */
  readonly server: string;
  readonly port: number;
  readonly family: 4 | 6;
  readonly flags: number;
  readonly window: number;
  /** The options in hex, TSval and TSecr as vvvvvvvv eeeeeeee. */
  readonly options: string;
  readonly ipLength: number;
  readonly payload: number;
  readonly ts: { val: number; ecr: number } | null;
  /** Capture (or virtual) time in ms. */
  readonly ms: number;
}

function segment(d: Uint8Array, ms: number): Segment | null {
  const family = d[0]! >> 4 === 6 ? 6 : 4;
  const ihl = family === 6 ? 40 : (d[0]! & 15) * 4;
  if ((family === 6 ? d[6] : d[9]) !== 6) return null;
  const ipLength = family === 6 ? 40 + ((d[4]! << 8) | d[5]!) : (d[2]! << 8) | d[3]!;
  const t = ihl;
  const doff = (d[t + 12]! >> 4) * 4;
  const opts = [...d.subarray(t + 20, t + doff)];
  let ts: Segment['ts'] = null;
  const hex = opts.map((b) => b.toString(16).padStart(2, '0'));
  for (let i = 0; i < opts.length; ) {
    if (opts[i] === 1) { i++; continue; }
    if (opts[i] === 8) {
      const u32 = (at: number) => ((opts[at]! << 24) | (opts[at + 1]! << 16) | (opts[at + 2]! << 8) | opts[at + 3]!) >>> 0;
      ts = { val: u32(i + 2), ecr: u32(i + 6) };
      hex.splice(i + 2, 8, 'vvvvvvvv', 'eeeeeeee', ...Array(6).fill(''));
    }
    i += opts[i + 1]!;
  }
  const addr = (at: number, n: number) => (family === 6 ? [...d.subarray(at, at + n)].map((b) => b.toString(16)).join('.') : [...d.subarray(at, at + 4)].join('.'));
  const srcPort = (d[t]! << 8) | d[t + 1]!;
  const fromA = srcPort !== 80;
  const port = fromA ? srcPort : (d[t + 2]! << 8) | d[t + 3]!;
  const server = fromA ? addr(family === 6 ? 24 : 16, 16) : addr(family === 6 ? 8 : 12, 16);
  return { from: fromA ? 'a' : 'srv', server, port, family, flags: d[t + 13]!, window: (d[t + 14]! << 8) | d[t + 15]!, options: hex.join(''), ipLength, payload: ipLength - ihl - doff, ts, ms };
}

const kernel: Segment[] = [];
readCaptureSync('fixtures/kernel-experiments/tcp-timestamps/capture.pcap', (r) => {
  const s = segment(r.payload.slice(), r.sec * 1e3 + r.nsec / 1e6);
  if (s) kernel.push(s);
});

const scenario = (tsA: number) => `natsim: 1
seed: 1
hosts:
  a:
    sysctl: { net.ipv4.tcp_timestamps: ${tsA} }
    interfaces:
      eth0: { addr: [10.9.1.1/24, fd00:1::1/64 nodad], link: ab }
      eth1: { addr: [10.9.2.1/24], link: ac }
  b:
    interfaces: { eth0: { addr: [10.9.1.2/24, fd00:1::2/64 nodad], link: ab } }
  c:
    sysctl: { net.ipv4.tcp_timestamps: 0 }
    interfaces: { eth0: { addr: [10.9.2.2/24], link: ac } }
trace: [a]
run:
  - { at: 0s, on: b, do: tcp listen 80 }
  - { at: 0s, on: c, do: tcp listen 80 }
  - { at: 1s, on: a, do: tcp connect 10.9.1.2:80 send SEND hold 200ms }
  - { at: 2s, on: a, do: "tcp connect [fd00:1::2]:80 send SEND hold 200ms" }
  - { at: 3s, on: a, do: tcp connect 10.9.2.2:80 send SEND hold 200ms }
`;

/** a's segments, in and out, as tcpdump in a saw them. */
function natsim(send: number, tsA = 1): Segment[] {
  const out: Segment[] = [];
  runWorld(parseScenario(scenario(tsA).replaceAll('SEND', String(send)), 's.yaml'), {
    tap: (dir, _dev, pkt) => {
      if (dir === PacketDirection.Outgoing || dir === PacketDirection.Host) {
        const s = segment(pkt.data.slice(), 0);
        if (s) out.push(s);
      }
    },
  });
  return out;
}

const FLOWS = ['10.9.1.2', 'fd.0.0.1.0.0.0.0.0.0.0.0.0.0.0.2', '10.9.2.2'] as const;
/** The first connection to `server` (the kernel's fourth, with tcp_timestamps=2, is b's again). */
function flow(segments: Segment[], server: string, nth = 0): Segment[] {
  const port = [...new Set(segments.filter((s) => s.server === server).map((s) => s.port))][nth];
  return segments.filter((s) => s.server === server && s.port === port);
}
const shape = (s: Segment) => `${s.from} ${s.flags} win ${s.window} [${s.options}] len ${s.ipLength}`;

describe('the kernel experiment tcp-timestamps, read back', () => {
  it('has the four connections, the fourth (tcp_timestamps=2) again to b', () => {
    expect(kernel).toHaveLength(64);
    expect(kernel.filter((s) => s.flags === TcpFlag.SYN).map((s) => s.server)).toEqual([...FLOWS, '10.9.1.2']);
  });
});

describe('natsim\'s segments against the kernel\'s', () => {
  const ours = natsim(4);

  it.each(FLOWS)('to %s: SYN, SYN-ACK, ACK, 4 bytes, their ACK — flags, window, options, IP length', (server) => {
    const first5 = (segments: Segment[]) => flow(segments, server).slice(0, 5).map(shape);
    expect(first5(ours)).toEqual(first5(kernel));
  });

  it('the option layouts: SYN mss,sackOK,TS,nop,wscale (60 bytes); later nop,nop,TS (52); without TS at c', () => {
    const [syn, synack, ack] = flow(kernel, '10.9.1.2').map(shape);
    expect([syn, synack, ack]).toEqual([
      'a 2 win 64240 [020405b40402080avvvvvvvveeeeeeee01030307] len 60',
      'srv 18 win 65160 [020405b40402080avvvvvvvveeeeeeee01030307] len 60',
      'a 16 win 502 [0101080avvvvvvvveeeeeeee] len 52',
    ]);
    expect(flow(kernel, '10.9.2.2').slice(1, 3).map(shape)).toEqual(['srv 18 win 64240 [020405b40101040201030307] len 52', 'a 16 win 502 [] len 40']);
  });

  it.each([
    ['10.9.1.2', 1448],
    [FLOWS[1], 1428],
    ['10.9.2.2', 1460],
  ] as const)('to %s: full data segments of %i bytes, the MSS less 12 with TS (tcp_current_mss)', (server, size) => {
    const full = (segments: Segment[]) => Math.max(...flow(segments, server).map((s) => s.payload));
    expect(full(kernel)).toBe(size);
    const ours3000 = flow(natsim(3000), server).filter((s) => s.from === 'a' && s.payload > 0).map((s) => s.payload);
    expect(ours3000).toEqual([size, size, 3000 - 2 * size]);
  });

  it('TSecr: the SYN 0, every other segment the TSval the peer sent last; natsim as the kernel', () => {
    const echoes = (segments: Segment[]) =>
      FLOWS.slice(0, 2).flatMap((server) => {
        const last = { a: 0, srv: 0 };
        return flow(segments, server).map((s) => {
          const ok = s.ts!.ecr === (s.from === 'a' ? last.srv : last.a);
          last[s.from] = s.ts!.val;
          return ok;
        });
      });
    expect(echoes(kernel).every(Boolean)).toBe(true);
    expect(echoes(kernel)).toHaveLength(32);
    expect(echoes(ours)).not.toContain(false);
    expect(echoes(ours).length).toBeGreaterThan(12);
  });
});

describe('TSval', () => {
  it('is the clock in ms plus a hash of the address pair: two connections between the same addresses share the offset', () => {
    const text = scenario(1).replaceAll('SEND', '4') + '  - { at: 4s, on: a, do: tcp connect 10.9.1.2:80 send 4 }\n';
    const syns: Segment[] = [];
    runWorld(parseScenario(text, 's.yaml'), { tap: (dir, _dev, pkt) => void (dir === PacketDirection.Outgoing && pkt.tcpFlags === TcpFlag.SYN && syns.push(segment(pkt.data.slice(), 0)!)) });
    // the SYNs leave at 1, 2, 3 and 4 s
    const offsets = syns.map((s, i) => (s.ts!.val - (i + 1) * 1000) >>> 0);
    expect(offsets[3]).toBe(offsets[0]);
    expect(new Set(offsets.slice(0, 3)).size).toBe(3);
    // the kernel's TSval moves with the capture's clock (to the ms, give or take the tick it crossed)
    const [kSyn, , , , , kData] = flow(kernel, '10.9.1.2');
    expect(Math.abs(kData!.ts!.val - kSyn!.ts!.val - (kData!.ms - kSyn!.ms))).toBeLessThanOrEqual(1);
    // natsim's ACK after the SYN-ACK leaves within the SYN's ms, its FIN 200 ms later
    const ours = flow(natsim(4), '10.9.1.2').filter((s) => s.from === 'a');
    expect(ours.map((s) => s.ts!.val - ours[0]!.ts!.val)).toEqual([0, 0, 0, 200, 200]);
  });

  it('with tcp_timestamps=2, no offset: TSval is the host clock in ms (natsim: the run\'s time; the kernel\'s: small, the uptime)', () => {
    const vals = natsim(4, 2).filter((s) => s.from === 'a' && s.flags === TcpFlag.SYN).map((s) => s.ts?.val);
    expect(vals).toEqual([1000, 2000, 3000]);
    // the kernel's: its SYN's TSval within 2 s after the uptime printed just before (in ms)
    const uptimeMs = Number(readFileSync('fixtures/kernel-experiments/tcp-timestamps/uptime-before-ts2.txt', 'utf8').split(' ')[0]) * 1000;
    const kernelTs2 = flow(kernel, '10.9.1.2', 1)[0]!.ts!.val;
    expect(kernelTs2 - uptimeMs).toBeGreaterThanOrEqual(0);
    expect(kernelTs2 - uptimeMs).toBeLessThan(2000);
  });

  it('with tcp_timestamps=0 at a, none: the SYN has the option layout without TS', () => {
    const ours = natsim(4, 0);
    expect(ours.every((s) => s.ts === null)).toBe(true);
    expect(shape(ours[0]!)).toBe('a 2 win 64240 [020405b40101040201030307] len 52');
  });
});

describe('against the recordings of fixtures/kernel (this machine\'s tcp_rmem gave them window scale 10, natsim\'s is 7)', () => {
  /** Flags, options with the window scale masked, IP length: what does not depend on tcp_rmem, the clock or the secret. */
  const layout = (s: Segment) => `${s.from} ${s.flags} [${s.options.replace(/010303(0a|07)$/, '010303ws')}] len ${s.ipLength}`;
  const text = `natsim: 1
seed: 1
hosts:
  c:
    interfaces: { eth0: { addr: [10.0.3.1/24, fd00:3::1/64 nodad], link: lan } }
  w:
    interfaces: { eth0: { addr: [10.0.3.2/24, fd00:3::2/64 nodad], link: lan } }
trace: [c]
run:
  - { at: 0s, on: w, do: tcp listen 80 reply 9 }
  - { at: 1s, on: c, do: tcp connect 10.0.3.2:80 from :43000 send 4 hold 1s }
  - { at: 3s, on: c, do: "tcp connect [fd00:3::2]:80 from :43000 send 4 hold 1s" }
`;
  const ours: Segment[] = [];
  runWorld(parseScenario(text, 's.yaml'), { tap: (dir, _dev, pkt) => void ((dir === PacketDirection.Outgoing || dir === PacketDirection.Host) && ours.push(segment(pkt.data.slice(), 0)!)) });

  it.each([
    ['tcp-lifecycle', 4],
    ['ip6-masq-router', 6],
  ] as const)('%s: every segment of the connection, as the client side of rt saw it (IPv%i)', (dir, family) => {
    const recorded: Segment[] = [];
    // the records rt took on its client-side interface (the first the SYN came in on)
    let ifindex = -1;
    readCaptureSync(`fixtures/kernel/${dir}/capture.pcap`, (r) => {
      const s = r.protocol === 0x0800 || r.protocol === 0x86dd ? segment(r.payload.slice(), 0) : null;
      if (s && ifindex < 0) ifindex = r.ifindex;
      if (s && r.ifindex === ifindex) recorded.push(s);
    });
    const mine = ours.filter((s) => s.family === family);
    // the kernel's server also ACKed the data, and the FIN, on their own (its application answered
    // and closed a moment later; natsim's answers at once and closes on EOF): those bare ACKs aside
    const answered = recorded.filter((s) => !(s.from === 'srv' && s.flags === TcpFlag.ACK));
    expect(mine.map(layout)).toEqual(answered.map(layout));
    expect(recorded.map((s) => s.ipLength)).toEqual(family === 4 ? [60, 60, 52, 56, 52, 61, 52, 52, 52, 52, 52] : [80, 80, 72, 76, 72, 81, 72, 72, 72, 72]);
  });
});

describe('over loopback (MSS 65495), against the experiment\'s loopback.pcap', () => {
  it('SYN win 65495, SYN-ACK 65483 (the MSS less 12, one segment), then 512 both ways', () => {
    const recorded: Segment[] = [];
    readCaptureSync('fixtures/kernel-experiments/tcp-timestamps/loopback.pcap', (r) => void recorded.push(segment(r.payload.slice(), 0)!));
    const text = `natsim: 1
seed: 1
hosts:
  l:
    interfaces: { eth0: { addr: [10.9.3.1/24], link: x } }
trace: [l]
run:
  - { at: 0s, on: l, do: tcp listen 80 }
  - { at: 1s, on: l, do: tcp connect 127.0.0.1:80 send 4 hold 200ms }
`;
    const ours: Segment[] = [];
    runWorld(parseScenario(text, 's.yaml'), { tap: (dir, _dev, pkt) => void (dir === PacketDirection.Outgoing && ours.push(segment(pkt.data.slice(), 0)!)) });
    expect(recorded).toHaveLength(8);
    expect(ours.slice(0, 5).map(shape)).toEqual(recorded.slice(0, 5).map(shape));
    expect(recorded.slice(0, 3).map((s) => s.window)).toEqual([65495, 65483, 512]);
  });
});

describe('what a user sees of it: LOG with tcp options, nft tcp option timestamp', () => {
  const logged = (ts: number) => {
    const text = `natsim: 1
seed: 1
hosts:
  a:
    sysctl: { net.ipv4.tcp_timestamps: ${ts} }
    interfaces: { eth0: { addr: [10.9.1.1/24], link: ab } }
  b:
    interfaces: { eth0: { addr: [10.9.1.2/24], link: ab } }
    ruleset: |
      table inet f {
        chain input {
          type filter hook input priority 0; policy accept;
          tcp dport 80 log prefix "in " flags tcp options
          tcp option timestamp tsecr 0 tcp flags syn log prefix "ts-syn "
        }
      }
trace: [b]
run:
  - { at: 0s, on: b, do: tcp listen 80 }
  - { at: 1s, on: a, do: tcp connect 10.9.1.2:80 send 4 hold 200ms }
`;
    const { events } = runWorld(parseScenario(text, 's.yaml'));
    return events.flatMap((e) => (e.kind === 'hook' ? e.logs.map((l) => nfLogLine(l).replace(/.*LEN=(\d+).*?(SYN|ACK)( \w+)* URGP=0 ?(OPT \((\w+)\))?.*/, (_m, len, _f, _r, _o, opt) => `${len} ${(opt ?? '').replace(/080A\w{16}/, '080A…')}`)) : []));
  };

  it('with timestamps (the default): LEN=60 and OPT (…0402080A…01030307) on the SYN, LEN=52 with 0101080A… after; the nft match sees TSecr 0 on the SYN', () => {
    // the second line is the nft match's LOG (no tcp options flag): the SYN, its TSecr 0
    expect(logged(1)).toEqual(['60 020405B40402080A…01030307', '60 ', '52 0101080A…', '56 0101080A…', '52 0101080A…', '52 0101080A…']);
  });

  it('with tcp_timestamps=0 at the client: LEN=52 and the old options on the SYN, 40 bytes after, and no timestamp to match', () => {
    expect(logged(0)).toEqual(['52 020405B40101040201030307', '40 ', '44 ', '40 ', '40 ']);
  });
});

describe('sysctl net.ipv4.tcp_timestamps', () => {
  it.each(['256', '-1', '1.5'])('refuses %s as the kernel does (EINVAL: proc_dou8vec_minmax takes 0-255)', (v) => {
    expect(() => runWorld(parseScenario(scenario(1).replace('tcp_timestamps: 1', `tcp_timestamps: ${v}`).replaceAll('SEND', '4'), 's.yaml'))).toThrow(
      `s.yaml:5:15: sysctl 'net.ipv4.tcp_timestamps' takes a whole number from 0 to 255, got '${v}' (the kernel refuses it with EINVAL)`,
    );
  });
});
