/**
 * conntrack-tools' text for IPv6 entries, against what the kernel recordings printed: every
 * line of `conntrack -L -f ipv6` (conntrack-L-ipv6.txt) and every IPv6 event of `conntrack -E`
 * (conntrack-E.txt), read back into an entry and printed by natsim, comes out as recorded —
 * the addresses in inet_ntop's compressed form, ICMPv6 with the ICMP tuple layout
 * (type=128 code=0 id=…), the same columns as IPv4 (conntrack-tools 1.4.7 prints no family
 * column). And `natsim conntrack -f` splits the plain listing as `conntrack -L -f` does.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { conntrackEventLine, conntrackListLine } from '../../src/report/conntrack-list.js';
import { Status } from '../../src/netfilter/conntrack/conn.js';
import type { ConntrackEventType } from '../../src/netfilter/conntrack/ecache.js';
import type { CtEntryView, TupleView } from '../../src/trace/events.js';
import { parseInetPrefix } from '../../src/packet/inet-addr.js';
import { natsim } from '../cli/helpers.js';

const RECORDINGS = 'fixtures/kernel';
const IPV6_CASES = readdirSync(RECORDINGS).filter((d) => existsSync(`${RECORDINGS}/${d}/conntrack-L-ipv6.txt`));

function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

/** `src=… dst=… sport=… dport=…` or `… type= code= id=` starting at words[at]: the tuple and the words it took. */
function readTuple(words: readonly string[], at: number, proto: number): [TupleView, number] {
  const field = (i: number, name: string): string => {
    const w = words[at + i]!;
    expect(w.startsWith(`${name}=`), `${w} is ${name}=`).toBe(true);
    return w.slice(name.length + 1);
  };
  const addr = (i: number, name: string): number => parseInetPrefix(field(i, name))!.addr;
  if (proto === 58 || proto === 1) {
    const dstU = (Number(field(2, 'type')) << 8) | Number(field(3, 'code'));
    return [{ src: addr(0, 'src'), dst: addr(1, 'dst'), srcU: Number(field(4, 'id')), dstU, proto }, 5];
  }
  return [{ src: addr(0, 'src'), dst: addr(1, 'dst'), srcU: Number(field(2, 'sport')), dstU: Number(field(3, 'dport')), proto }, 4];
}

/** A recorded line (without a stamp or event type) as the entry it shows. */
function entryOf(text: string): CtEntryView {
  const words = text.trim().split(/\s+/);
  const proto = Number(words[1]);
  let i = 2;
  const timeout = Number(words[i++]);
  const tcpState = words[i]!.startsWith('src=') ? null : words[i++]!;
  const [orig, n1] = readTuple(words, i, proto);
  i += n1;
  let status = Status.SeenReply;
  if (words[i] === '[UNREPLIED]') {
    status = 0;
    i++;
  }
  const [reply, n2] = readTuple(words, i, proto);
  i += n2;
  if (words[i] === '[ASSURED]') {
    status |= Status.Assured;
    i++;
  }
  const mark = words[i]?.startsWith('mark=') ? Number(words[i]!.slice(5)) : 0;
  return { id: 0, orig, reply, timeout, tcpState, status, mark };
}

describe.each(IPV6_CASES)('conntrack -L -f ipv6 of %s', (name) => {
  it('each recorded entry prints as the kernel listed it', () => {
    const recorded = lines(`${RECORDINGS}/${name}/conntrack-L-ipv6.txt`);
    expect(recorded.length).toBeGreaterThan(0);
    for (const line of recorded) expect(conntrackListLine(entryOf(line))).toBe(line);
  });
});

describe('conntrack -E of dual-stack-router', () => {
  it('prints the IPv6 events as recorded, stamps and all', () => {
    const ipv6 = lines(`${RECORDINGS}/dual-stack-router/conntrack-E.txt`).filter((l) => l.includes('src=fd00:'));
    expect(ipv6.length).toBeGreaterThanOrEqual(8);
    for (const line of ipv6) {
      const m = /^\[(\d+)\.(\d{6})\]\t\s*\[(\w+)\] (.*)$/.exec(line)!;
      const at = { sec: Number(m[1]), nsec: Number(m[2]) * 1000 };
      expect(conntrackEventLine(m[3] as ConntrackEventType, at, entryOf(m[4]!))).toBe(line);
    }
  });
});

describe('natsim conntrack -f on dual-stack-router (IPv4 replayed, IPv6 not yet)', () => {
  const dir = `${RECORDINGS}/dual-stack-router`;
  const masked = (text: string[]): string[] => text.map((l) => l.replace(/^(\S+\s+\d+) \d+ /, '$1 T ')).sort();

  it('-f ipv4 lists the entries conntrack -L -f ipv4 listed (timeouts aside)', async () => {
    const run = await natsim('conntrack', '-f', 'ipv4', '--node', dir, `${dir}/capture.pcap`);
    expect(run.code).toBe(0);
    expect(masked(lines(`${dir}/conntrack-L-ipv4.txt`))).toEqual(masked(run.stdout.split('\n').filter(Boolean)));
  });

  it('the plain listing is the union of the two families (as conntrack-L.txt is)', async () => {
    expect(masked(lines(`${dir}/conntrack-L.txt`))).toEqual(masked([...lines(`${dir}/conntrack-L-ipv4.txt`), ...lines(`${dir}/conntrack-L-ipv6.txt`)]));
    const v6 = await natsim('conntrack', '-f', 'ipv6', '--node', dir, `${dir}/capture.pcap`);
    expect(v6.stdout.split('\n').filter(Boolean).every((l) => l.includes('src=fd00:'))).toBe(true);
  });

  it('refuses another family by name', async () => {
    const run = await natsim('conntrack', '-f', 'arp', '--node', dir, `${dir}/capture.pcap`);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/ipv4, ipv6/);
  });
});
