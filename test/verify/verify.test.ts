/**
 * `natsim verify CAPTURE --node DIR` on the kernel recordings: natsim, given only what the
 * machine's snapshot shows, sends what the kernel sent — every packet of every recording —
 * and a tampered capture is caught.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { natsim, tempDir } from '../cli/helpers.js';
import { loadNode, nodeScenario } from '../../src/node/snapshot.js';
import { ReceivedIds, verifyPackets } from '../../src/verify/compare.js';
import { replayCapture, type SentPacket } from '../../src/world/capture-replay.js';

/**
 * Recordings whose kernel drew at random what natsim draws too, so that packet for packet they
 * cannot agree: what may differ, and where the distribution is checked instead.
 */
const DRAWN_AT_RANDOM: Readonly<Record<string, { readonly differs: RegExp; readonly why: string }>> = {
  'icmp-global-limit': { differs: / type 11 code 0 /, why: 'the global ICMP limit takes 0-2 credits an error at random (test/kernel/icmp-global-limit.test.ts checks the counts)' },
};

const CASES = readdirSync('fixtures/kernel').filter((d) => DRAWN_AT_RANDOM[d] === undefined);

interface JsonResult {
  outcome: 'match' | 'differs' | 'missing' | 'extra';
  dev: string;
  kernel: { index: number; summary: string } | null;
  natsim: { index: number; summary: string } | null;
  differences: { field: string; kernel: string; natsim: string }[];
  note: string | null;
}

async function verifyJson(capture: string, node: string) {
  const run = await natsim('verify', capture, '--node', node, '--json');
  expect(run.stderr).toBe('');
  return { code: run.code, out: JSON.parse(run.stdout) as { ruleset: string; rulesetChoice: string; packets: JsonResult[]; summary: { matched: number; total: number; line: string } } };
}

describe.each(CASES)('natsim verify on fixtures/kernel/%s', (name) => {
  const dir = `fixtures/kernel/${name}`;

  it('matches every packet the kernel sent and exits 0', async () => {
    const run = await natsim('verify', `${dir}/capture.pcap`, '--node', dir);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/: using (nft-ruleset|iptables-save|iptables-legacy-save|ip6tables-save)\.txt/);
    const m = /^verify: (\d+)\/(\d+) packets match$/.exec(lines.at(-1)!);
    expect(m).not.toBeNull();
    expect(m![1]).toBe(m![2]);
    expect(run.stdout).not.toMatch(/^(differs|missing|extra) /m);
  });

  it('--json gives every packet as a match', async () => {
    const { code, out } = await verifyJson(`${dir}/capture.pcap`, dir);
    expect(code).toBe(0);
    expect(out.packets.length).toBeGreaterThan(0);
    expect(out.packets.every((p) => p.outcome === 'match')).toBe(true);
    expect(out.summary.matched).toBe(out.summary.total);
    expect(out.summary.line).toBe(`verify: ${out.summary.total}/${out.summary.total} packets match`);
  });
});

describe.each(Object.entries(DRAWN_AT_RANDOM))('natsim verify on fixtures/kernel/%s (drawn at random)', (name, { differs, why }) => {
  const dir = `fixtures/kernel/${name}`;

  it(`matches every packet but the random ones: ${why}`, async () => {
    const { code, out } = await verifyJson(`${dir}/capture.pcap`, dir);
    expect(code).toBe(1);
    const unmatched = out.packets.filter((p) => p.outcome !== 'match');
    expect(unmatched.length).toBeGreaterThan(0);
    for (const p of unmatched) expect(p.kernel?.summary ?? p.natsim?.summary).toMatch(differs);
    expect(out.packets.filter((p) => p.outcome === 'match').length).toBeGreaterThan(unmatched.length);
  });
});

describe('natsim verify on fixtures/kernel/pcapng-capture/capture.pcapng (dumpcap’s file, read as pcapng)', () => {
  const dir = 'fixtures/kernel/pcapng-capture';

  it('matches every packet, as its classic-pcap copy does', async () => {
    const ng = await verifyJson(`${dir}/capture.pcapng`, dir);
    const pcap = await verifyJson(`${dir}/capture.pcap`, dir);
    expect(ng.code).toBe(0);
    expect(ng.out.summary.line).toBe('verify: 16/16 packets match');
    expect(ng.out.packets.map((p) => [p.outcome, p.kernel?.summary])).toEqual(pcap.out.packets.map((p) => [p.outcome, p.kernel?.summary]));
  });
});

describe('natsim verify on fixtures/kernel/icmp-error-related', () => {
  const dir = 'fixtures/kernel/icmp-error-related';

  it('where the kernel’s ARP for 192.168.206.99 failed, sends its host unreachable too, instead of the packet', async () => {
    const { code, out } = await verifyJson(`${dir}/capture.pcap`, dir);
    expect(code).toBe(0);
    const failure = out.packets.find((p) => /^ICMP 192\.168\.206\.250 > 10\.0\.3\.1 type 3 code 1 /.test(p.kernel?.summary ?? ''));
    expect(failure?.outcome).toBe('match');
    expect(out.packets.some((p) => /> 192\.168\.206\.99:/.test(p.natsim?.summary ?? ''))).toBe(false);
  });

  it('takes rt’s own errors as matches although their IP ids are rt’s own choice', async () => {
    const { out } = await verifyJson(`${dir}/capture.pcap`, dir);
    const own = out.packets.filter((p) => p.outcome === 'match' && p.note !== null);
    expect(own.map((p) => p.kernel!.summary.split(' type ')[0])).toEqual(['ICMP 10.0.3.254 > 10.0.3.1', 'ICMP 192.168.206.250 > 10.0.3.1']);
    expect(own[0]!.differences.map((d) => d.field)).toContain('ip id');
  });
});

describe('natsim verify on the IPv6 recordings (issue 18)', () => {
  it('ip6-masq-router: masquerades ping6, TCP and UDP to fd00:206::250 and de-NATs the replies and the port unreachable', async () => {
    const { code, out } = await verifyJson('fixtures/kernel/ip6-masq-router/capture.pcap', 'fixtures/kernel/ip6-masq-router');
    expect(code).toBe(0);
    const summaries = out.packets.map((p) => p.kernel?.summary ?? '');
    expect(summaries.filter((s) => s.startsWith('ICMPv6 fd00:206::250 > fd00:206::1 type 128 id 16962'))).toHaveLength(3);
    expect(summaries.some((s) => s.startsWith('TCP [fd00:206::250]:43000 > [fd00:206::1]:80 [SYN]'))).toBe(true);
    // w's port unreachable, RELATED and de-NATed on its way to the client (forwarded: its flow label kept)
    const unreach = out.packets.find((p) => /^ICMPv6 fd00:206::1 > fd00:3::1 type 1 code 4 /.test(p.kernel?.summary ?? ''));
    expect(unreach).toMatchObject({ outcome: 'match', note: null, differences: [] });
  });

  it("ip6-masq-router: rt's own time exceeded and address unreachable match but for the kernel's flow label", async () => {
    const { out } = await verifyJson('fixtures/kernel/ip6-masq-router/capture.pcap', 'fixtures/kernel/ip6-masq-router');
    const own = out.packets.filter((p) => p.note !== null);
    // time exceeded from fd00:3::254 (ip6_forward, hop limit 1); address unreachable about the NATed
    // datagram after the failed solicitations, NATed back in rt's output (fd00:206::250 > fd00:3::1)
    expect(own.map((p) => p.kernel!.summary.split(' hlim ')[0])).toEqual(['ICMPv6 fd00:3::254 > fd00:3::1 type 3 code 0', 'ICMPv6 fd00:206::250 > fd00:3::1 type 1 code 3']);
    for (const p of own) {
      expect(p.outcome).toBe('match');
      expect(p.differences.map((d) => d.field).every((f) => f.includes('flow label'))).toBe(true);
    }
    expect(out.packets.some((p) => /fd00:206::99/.test(p.natsim?.summary.split(' type ')[0] ?? ''))).toBe(false);
  });

  it('dnat66-port-forward: DNAT to [fd00:3::2]:8080 and back, and the RST from rt', async () => {
    const { code, out } = await verifyJson('fixtures/kernel/dnat66-port-forward/capture.pcap', 'fixtures/kernel/dnat66-port-forward');
    expect(code).toBe(0);
    const summaries = out.packets.map((p) => p.natsim?.summary ?? '');
    expect(summaries.filter((s) => / > \[fd00:3::2\]:8080 \[SYN\]/.test(s))).toHaveLength(3);
    expect(summaries.some((s) => s.startsWith('TCP [fd00:206::250]:81 > [fd00:206::1]:41004 [RST|ACK]'))).toBe(true);
  });

  it('dual-stack-router: both families through one inet table, compared alike', async () => {
    const { code, out } = await verifyJson('fixtures/kernel/dual-stack-router/capture.pcap', 'fixtures/kernel/dual-stack-router');
    expect(code).toBe(0);
    // describePacket writes IPv6 ports as [addr]:port and ICMPv6 by name
    const kinds = out.packets.map((p) => (/^ICMPv6 |\[/.test(p.kernel!.summary) ? 6 : 4));
    expect(kinds.filter((k) => k === 4).length).toBeGreaterThan(0);
    expect(kinds.filter((k) => k === 6).length).toBeGreaterThan(0);
  });
});

/** Byte offsets of the IPv4 payloads of the Out records of an SLL2 pcap (little-endian, as tcpdump writes on x86). */
function outPayloadOffsets(pcap: Buffer): number[] {
  expect(pcap.readUInt32LE(20)).toBe(276); // LINKTYPE_LINUX_SLL2
  const offsets: number[] = [];
  for (let at = 24; at + 16 <= pcap.length; ) {
    const incl = pcap.readUInt32LE(at + 8);
    const data = at + 16;
    if (pcap.readUInt16BE(data) === 0x0800 && pcap[data + 10] === 4) offsets.push(data + 20);
    at = data + incl;
  }
  return offsets;
}

describe('natsim verify on a tampered capture', () => {
  const tmp = tempDir();
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('reports the one changed Out packet as differing in its TTL, and exits 1', async () => {
    const src = 'fixtures/kernel/tcp-lifecycle';
    const pcap = readFileSync(`${src}/capture.pcap`);
    const outs = outPayloadOffsets(pcap);
    expect(outs.length).toBe(11);
    const ip = outs[3]!; // the 4th packet the kernel sent
    const ttl = pcap[ip + 8]!;
    pcap[ip + 8] = ttl - 1;
    const file = join(tmp, 'capture.pcap');
    writeFileSync(file, pcap);
    const { code, out } = await verifyJson(file, src);
    expect(code).toBe(1);
    const bad = out.packets.filter((p) => p.outcome !== 'match');
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ outcome: 'differs', kernel: { index: 4 }, natsim: { index: 4 } });
    expect(bad[0]!.differences).toEqual([{ field: 'ttl', kernel: String(ttl - 1), natsim: String(ttl) }]);
    expect(out.summary.matched).toBe(out.summary.total - 1);
    const text = await natsim('verify', file, '--node', src);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`ttl: kernel ${ttl - 1}, natsim ${ttl}`);
  });

  it('reports a changed source address field by field', async () => {
    const src = 'fixtures/kernel/masq-to-ports-multi-ip';
    const pcap = readFileSync(`${src}/capture.pcap`);
    const ip = outPayloadOffsets(pcap)[0]!;
    pcap[ip + 15] = pcap[ip + 15]! ^ 1; // last byte of saddr
    const file = join(tmp, 'masq.pcap');
    writeFileSync(file, pcap);
    const { code, out } = await verifyJson(file, src);
    expect(code).toBe(1);
    const bad = out.packets.filter((p) => p.outcome !== 'match');
    expect(bad).toHaveLength(1);
    expect(bad[0]!.outcome).toBe('differs');
    expect(bad[0]!.differences.map((d) => d.field)).toContain('saddr');
  });

  it('exits 2 naming the file when the node folder is not one', async () => {
    copyFileSync('fixtures/kernel/icmp-masq/capture.pcap', join(tmp, 'x.pcap'));
    const run = await natsim('verify', join(tmp, 'x.pcap'), '--node', join(tmp, 'nowhere'));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(join(tmp, 'nowhere'));
  });
});

describe('verifyPackets alignment', () => {
  async function kept(name: string) {
    const dir = `fixtures/kernel/${name}`;
    const r = await replayCapture(`${dir}/capture.pcap`, nodeScenario(loadNode(dir)), { keepPackets: true });
    return r.packets!;
  }
  const run = (sent: SentPacket[], recorded: SentPacket[]) => verifyPackets({ sent: sent.map((p) => ({ ...p, fromCapture: false })), recorded, received: new ReceivedIds(), devName: (i) => `if${i}` });

  it('a packet natsim did not send is one missing packet, the rest still match', async () => {
    const { sent, recorded } = await kept('snat-timewait-reuse');
    const { results, summary } = run(sent.filter((_, i) => i !== 5), recorded);
    expect(results.filter((r) => r.outcome !== 'match')).toMatchObject([{ outcome: 'missing', kernel: { index: 6 } }]);
    expect(summary).toMatchObject({ matched: recorded.length - 1, total: recorded.length });
  });

  it('a NAT port that differs consistently for a flow is the kernel’s random choice; once only, a difference', async () => {
    const { sent, recorded } = await kept('masq-to-ports-multi-ip');
    // natsim's first TCP flow on eth0 (ifindex 3) with another source port throughout (its
    // checksums are CHECKSUM_PARTIAL, pseudo-header only, so the port change leaves them)
    const first = sent.find((s) => s.ifindex === 3 && s.bytes[9] === 6)!;
    const port = (b: Uint8Array) => (b[20]! << 8) | b[21]!;
    const flowPort = port(first.bytes);
    const sameFlow = (s: SentPacket) => s.ifindex === 3 && s.bytes[9] === 6 && port(s.bytes) === flowPort;
    const moved = sent.map((s) => {
      if (!sameFlow(s)) return s;
      const bytes = Uint8Array.from(s.bytes);
      bytes[21] = bytes[21]! ^ 1;
      return { ...s, bytes };
    });
    const all = run(moved, recorded);
    expect(all.summary.matched).toBe(all.summary.total);
    expect(all.results.filter((r) => r.note?.includes('sport drawn at random')).length).toBe(sent.filter(sameFlow).length);
    // only one packet of the flow moved: not a consistent choice
    let once = false;
    const one = sent.map((s) => {
      if (once || !sameFlow(s)) return s;
      once = true;
      const bytes = Uint8Array.from(s.bytes);
      bytes[21] = bytes[21]! ^ 1;
      return { ...s, bytes };
    });
    const r = run(one, recorded);
    expect(r.results.filter((x) => x.outcome !== 'match')).toMatchObject([{ outcome: 'differs', differences: [{ field: 'sport' }] }]);
  });
});

describe('natsim verify with a deliberately wrong ruleset', () => {
  it('fails, naming the first differing packet and field', async () => {
    const dir = join(tempDir(), 'rt');
    mkdirSync(dir);
    for (const f of readdirSync('fixtures/kernel/icmp-masq')) copyFileSync(join('fixtures/kernel/icmp-masq', f), join(dir, f));
    writeFileSync(join(dir, 'nft-ruleset.txt'), readFileSync(join(dir, 'nft-ruleset.txt'), 'utf8').replace('masquerade', 'snat to 192.168.206.77'));
    const run = await natsim('verify', join(dir, 'capture.pcap'), '--node', dir);
    expect(run.code).toBe(1);
    const first = run.stdout.split('\n').find((l) => /^(differs|missing|extra) /.test(l))!;
    expect(first).toMatch(/^differs /);
    expect(run.stdout).toMatch(/saddr.*192\.168\.206\.250.*192\.168\.206\.77/);
  });
});
