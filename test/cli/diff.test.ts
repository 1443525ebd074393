/**
 * natsim diff: the what-ifs users ask, each answered on a kernel recording or an explain seed,
 * with the exit code CI gates on (0 nothing changed, 1 something did, 2 bad usage).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { natsim, tempDir } from './helpers.js';

const CLASH = 'fixtures/kernel/snat-fixed-port-clash';
const EXHAUSTION = 'fixtures/kernel/port-range-exhaustion-udp';
const IP6_MASQ = 'fixtures/kernel/ip6-masq-router';

/** The recording's iptables-save with `from` replaced, in a temporary file. */
function ruleset(dir: string, from: string, to: string): string {
  const text = readFileSync(join(dir, 'iptables-save.txt'), 'utf8');
  expect(text).toContain(from);
  const file = join(tempDir(), 'rules.txt');
  writeFileSync(file, text.replace(from, to));
  return file;
}

function jsonLines(stdout: string): Record<string, any>[] {
  return stdout.trim().split('\n').map((l) => JSON.parse(l));
}

describe('natsim diff', () => {
  it('does a wider --to-source port range stop the drops? exactly the two dropped flows get through', async () => {
    const rules = ruleset(EXHAUSTION, '192.168.206.250:50000-50003', '192.168.206.250:50000-50007');
    const run = await natsim('diff', `${EXHAUSTION}/capture.pcap`, '--ruleset', rules, '--json');
    expect(run.code).toBe(1);
    const lines = jsonLines(run.stdout);
    const flows = lines.filter((l) => 'flow' in l);
    expect(flows.map((f) => f.flow.sport)).toEqual([42004, 42005]);
    for (const f of flows) {
      expect(f.before).toMatchObject({ fate: 'dropped', where: 'POSTROUTING nf_confirm', reason: 'nat-exhausted' });
      expect(f.after).toMatchObject({ fate: 'forwarded', where: 'POSTROUTING', dropped: 0 });
      expect(f.after.translated.sport).toBeGreaterThanOrEqual(50004); // the four old ports stay held
    }
    expect(lines.at(-1)!.counters).toMatchObject({ insert_failed: { before: 2, after: 0 }, drop: { before: 2, after: 0 } });
  });

  it('does --random-fully remove the clash? no: a one-port range has no other tuple to draw', async () => {
    const rules = ruleset(CLASH, '--to-source 192.168.206.250:40000', '--to-source 192.168.206.250:40000 --random-fully');
    const run = await natsim('diff', `${CLASH}/capture.pcap`, '--ruleset', rules);
    expect(run.stdout).toBe('diff: 0 of 2 flows changed\n');
    expect(run.code).toBe(0);
  });

  it('a second port removes it: the SYNs once dropped at confirm leave as port 40001', async () => {
    const rules = ruleset(CLASH, '--to-source 192.168.206.250:40000', '--to-source 192.168.206.250:40000-40001');
    const run = await natsim('diff', `${CLASH}/capture.pcap`, '--ruleset', rules);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('tcp 10.0.3.1:41001 -> 192.168.206.1:8080\n  before: dropped at POSTROUTING nf_confirm, as tcp 192.168.206.250:40000 -> 192.168.206.1:8080, NAT clash dropped at confirm (6 packets)\n  after:  forwarded (confirmed at POSTROUTING), as tcp 192.168.206.250:40001 -> 192.168.206.1:8080');
    expect(run.stdout).toContain('counters: insert_failed 6 -> 0, drop 6 -> 0');
  });

  it('what breaks if nf_conntrack_max is halved? the second TCP connection finds the table full', async () => {
    const run = await natsim('diff', 'fixtures/seeds/explain-table-full.yaml', '--sysctl', 'net.netfilter.nf_conntrack_max=1', '--json');
    expect(run.code).toBe(1);
    const flows = jsonLines(run.stdout).filter((l) => 'flow' in l);
    expect(flows).toEqual([
      {
        flow: { proto: 'tcp', src: '10.0.3.1', sport: 41001, dst: '192.168.206.1', dport: 80 },
        life: 0,
        before: { fate: 'forwarded', where: 'POSTROUTING', reason: null, translated: { proto: 'tcp', src: '192.168.206.250', sport: 41001, dst: '192.168.206.1', dport: 80 }, dropped: 0 },
        after: { fate: 'dropped', where: 'PREROUTING ipv4_conntrack_in', reason: 'table-full', translated: null, dropped: 10 },
      },
    ]);
  });

  it('halving the default table changes nothing for six flows: exit 0', async () => {
    const run = await natsim('diff', `${EXHAUSTION}/capture.pcap`, '--sysctl', 'net.netfilter.nf_conntrack_max=131072');
    expect(run.stdout).toBe('diff: 0 of 6 flows changed\n');
    expect(run.code).toBe(0);
  });

  it('--kernel: the SNAT timeout seed as 5.4 against 6.18: doubling SYN timeouts, fewer SYNs by the end, found counted', async () => {
    const run = await natsim('diff', 'fixtures/seeds/snat-failure-timeout.yaml', '--kernel', '5.4');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('NAT clash dropped at confirm (6 packets)\n  after:  dropped at POSTROUTING nf_confirm, as tcp 127.0.0.1:40000 -> 127.0.0.1:8080, NAT clash dropped at confirm (3 packets)');
    expect(run.stdout).toMatch(/^counters: found 0 -> 3, insert_failed 6 -> 3, drop 6 -> 3/m);
  });

  it('--set-node: the capture replayed on another snapshot', async () => {
    const run = await natsim('diff', `${EXHAUSTION}/capture.pcap`, '--node', EXHAUSTION, '--set-node', EXHAUSTION);
    expect(run.stdout).toBe('diff: 0 of 6 flows changed\n');
    expect(run.code).toBe(0);
  });

  it('IPv6: a changed ruleset naming an address the capture lacks changes nothing (the worker meets addresses in another order)', async () => {
    const rules = join(tempDir(), 'rules.nft');
    writeFileSync(rules, `${readFileSync(`${IP6_MASQ}/nft-ruleset.txt`, 'utf8')}\ntable ip6 filter {\n\tchain fwd {\n\t\ttype filter hook forward priority filter; policy accept;\n\t\tip6 saddr 2001:db8:ffff::1 counter\n\t}\n}\n`);
    const run = await natsim('diff', `${IP6_MASQ}/capture.pcap`, '--ruleset', rules);
    expect(run.stdout).toBe('diff: 0 of 6 flows changed\n');
    expect(run.code).toBe(0);
  });

  it('IPv6: dropping DNS in FORWARD changes the DNS flow, named by its IPv6 addresses', async () => {
    const rules = join(tempDir(), 'rules.nft');
    writeFileSync(rules, `${readFileSync(`${IP6_MASQ}/nft-ruleset.txt`, 'utf8')}\ntable ip6 filter {\n\tchain fwd {\n\t\ttype filter hook forward priority filter; policy accept;\n\t\tip6 saddr 2001:db8:ffff::1 counter\n\t\tudp dport 53 drop\n\t}\n}\n`);
    const run = await natsim('diff', `${IP6_MASQ}/capture.pcap`, '--ruleset', rules);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('udp [fd00:3::1]:40053 -> [fd00:206::1]:53\n  before: forwarded (confirmed at POSTROUTING), as udp [fd00:206::250]:40053 -> [fd00:206::1]:53\n  after:  dropped at FORWARD ip6 filter fwd, as udp [fd00:3::1]:40053 -> [fd00:206::1]:53, dropped by a rule or policy');
    const json = await natsim('diff', `${IP6_MASQ}/capture.pcap`, '--ruleset', rules, '--json');
    expect(jsonLines(json.stdout)[0]!.flow).toEqual({ proto: 'udp', src: 'fd00:3::1', sport: 40053, dst: 'fd00:206::1', dport: 53 });
  });

  it('usage errors are one line and exit 2', async () => {
    const none = await natsim('diff', `${CLASH}/capture.pcap`);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^natsim: diff needs at least one change/);
    const bad = await natsim('diff', `${CLASH}/capture.pcap`, '--sysctl', 'nonsense');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("natsim: --sysctl: expected KEY=VALUE, got 'nonsense'\n");
    const unknown = await natsim('diff', `${CLASH}/capture.pcap`, '--sysctl', 'net.foo=1');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("natsim: --sysctl net.foo=1: sysctl 'net.foo' is not modelled by natsim\n");
    const scenarioNode = await natsim('diff', 'fixtures/seeds/explain-table-full.yaml', '--set-node', EXHAUSTION);
    expect(scenarioNode.code).toBe(2);
  });
});

/** A conntrack -L line's original tuple (the flow's name, as diff's `flow`), the tuple its peer saw, and whether it was answered. */
interface RecordedEntry {
  readonly flow: string;
  readonly translated: { proto: string; src: string; sport: number; dst: string; dport: number };
  readonly replied: boolean;
}

/** A recording's conntrack-L.txt (what the kernel tracked), by original tuple. */
function recordedEntries(dir: string): Map<string, RecordedEntry> {
  const entries = new Map<string, RecordedEntry>();
  for (const line of readFileSync(join(dir, 'conntrack-L.txt'), 'utf8').split('\n').filter((l) => l.trim() !== '')) {
    const proto = line.split(/\s+/)[0]!;
    const [orig, reply] = [...line.matchAll(/src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)/g)];
    expect(orig && reply, line).toBeTruthy();
    entries.set(`${proto} ${orig![1]}:${orig![3]} -> ${orig![2]}:${orig![4]}`, {
      flow: `${proto} ${orig![1]}:${orig![3]} -> ${orig![2]}:${orig![4]}`,
      // the peer sees the reply tuple turned round: the original's source, NAT's destination
      translated: { proto, src: reply![2]!, sport: Number(reply![4]), dst: reply![1]!, dport: Number(reply![3]) },
      replied: !line.includes('[UNREPLIED]'),
    });
  }
  return entries;
}

/** The flows whose entry differs between two recordings: tracked in one only, or answered in one only. */
function changedBetween(a: Map<string, RecordedEntry>, b: Map<string, RecordedEntry>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k)?.replied !== b.get(k)?.replied).sort();
}

const flowName = (f: { proto: string; src: string; sport: number; dst: string; dport: number }): string => `${f.proto} ${f.src}:${f.sport} -> ${f.dst}:${f.dport}`;

describe('natsim diff: what changes if br_netfilter is turned on or off? (docker-bridge-brnf-on/off)', () => {
  const ON = 'fixtures/kernel/docker-bridge-brnf-on';
  const OFF = 'fixtures/kernel/docker-bridge-brnf-off';
  const on = recordedEntries(ON);
  const off = recordedEntries(OFF);
  // the recordings: the bridged container-to-container flow is tracked only with br_netfilter
  // (br_nf_pre_routing calls the IPv4 hooks), and hairpin-other is answered only with it (ct1's
  // SYN-ACK, bridged straight to ct2, is de-DNATed only in br_netfilter's PREROUTING)
  const expected = changedBetween(on, off);
  /** diff's changed flows for the recording in `dir` with bridge-nf-call-iptables set to `value`; they must be those the recordings differ in. */
  const changedFlows = async (dir: string, value: 0 | 1): Promise<Record<string, any>[]> => {
    const run = await natsim('diff', `${dir}/capture.pcap`, '--node', dir, '--sysctl', `net.bridge.bridge-nf-call-iptables=${value}`, '--json');
    expect(run.code).toBe(1);
    const flows = jsonLines(run.stdout).filter((l) => 'flow' in l);
    expect(flows.map((f) => flowName(f.flow)).sort()).toEqual(expected);
    return flows;
  };

  it('the recordings differ in two flows: the bridged one (tracked only when on) and hairpin-other (unanswered when off)', () => {
    expect(expected).toEqual(['tcp 172.17.0.2:40001 -> 172.17.0.3:81', 'tcp 172.17.0.3:40002 -> 192.168.206.250:8080']);
  });

  it('turned off on the on recording: the bridged flow is no longer tracked, hairpin-other gets no reply; nothing else moves', async () => {
    for (const f of await changedFlows(ON, 0)) {
      const before = on.get(flowName(f.flow))!;
      const after = off.get(flowName(f.flow));
      expect(f.before).toEqual({ fate: 'forwarded', where: 'POSTROUTING', reason: null, translated: before.translated, dropped: 0 });
      if (after === undefined) expect(f.after).toBeNull(); // passed untracked: the bridge forwarded it off the hooks
      // unanswered, hairpin-other is a hairpin NAT without SNAT: ct1 answers ct2 on docker0, past the de-NAT
      else expect(f.after).toEqual({ fate: 'forwarded', where: 'POSTROUTING', reason: after.replied ? null : 'hairpin', translated: after.translated, dropped: 0 });
    }
  });

  it('turned on on the off recording: the bridged flow is tracked as the on recording lists it, and hairpin-other is answered', async () => {
    for (const f of await changedFlows(OFF, 1)) {
      const before = off.get(flowName(f.flow));
      const after = on.get(flowName(f.flow))!;
      expect(f.after.translated).toEqual(after.translated);
      if (before === undefined) {
        expect(f.before).toBeNull();
        expect(f.after).toEqual({ fate: 'forwarded', where: 'POSTROUTING', reason: null, translated: after.translated, dropped: 0 });
      } else {
        expect(f.before).toMatchObject({ fate: 'forwarded', reason: 'hairpin', translated: before.translated });
        // answered now; but this capture's ct2 got the SYN-ACK un-de-NATed (its RSTs are in it),
        // and a RST answering the reply tuple is what explain calls an asymmetric reply
        expect(f.after.reason).toBe('asymmetric-reply');
      }
    }
  });

  it('with FORWARD accepting only routed traffic, turning br_netfilter on makes the policy DROP cut the bridged flow', async () => {
    const rules = ruleset(OFF, '-A FORWARD -i docker0 -o docker0 -j ACCEPT', '-A FORWARD -i docker0 -o docker0 -m physdev ! --physdev-is-bridged -j ACCEPT');
    const run = await natsim('diff', `${OFF}/capture.pcap`, '--node', OFF, '--ruleset', rules, '--sysctl', 'net.bridge.bridge-nf-call-iptables=1', '--json');
    expect(run.code).toBe(1);
    const bridged = jsonLines(run.stdout).find((l) => 'flow' in l && flowName(l.flow) === 'tcp 172.17.0.2:40001 -> 172.17.0.3:81')!;
    expect(bridged.before).toBeNull();
    expect(bridged.after).toMatchObject({ fate: 'dropped', where: 'FORWARD ip filter FORWARD', reason: 'rule' });
  });
});

describe('natsim explain (command line)', () => {
  it('--json: one object per host with the summary and the findings', async () => {
    const run = await natsim('explain', '--json', `${EXHAUSTION}/capture.pcap`);
    expect(run.code).toBe(0);
    const [x] = jsonLines(run.stdout);
    expect(x!.summary).toEqual([{ cause: 'nat-exhausted', flows: 2 }]);
    expect(x!.findings[0].cause.kind).toBe('nat-exhausted');
  });

  it('--flow keeps the flows every term matches, before or after NAT', async () => {
    const byPort = await natsim('explain', '--flow', 'udp :42005', `${EXHAUSTION}/capture.pcap`);
    expect(byPort.stdout).toMatch(/^6 flows, 1 did not complete\n      1 × NAT port exhaustion/);
    const byNat = await natsim('explain', '--json', '--flow', '192.168.206.250:50002', `${EXHAUSTION}/capture.pcap`);
    expect(jsonLines(byNat.stdout)[0]!.findings.map((f: { flow: { sport: number } }) => f.flow.sport)).toEqual([42004]);
    const bad = await natsim('explain', '--flow', 'bogus', `${EXHAUSTION}/capture.pcap`);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^natsim: --flow: 'bogus' is not a protocol/);
  });
});
