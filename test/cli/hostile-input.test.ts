/**
 * Hostile and odd input (issue 23) ends in one clear line, exit 2, within bounded time and
 * memory — or in what the kernel does, said where natsim chose: endless streams and huge files,
 * YAML nested past the reader, impossible CPU counts, compressed captures, times past the clock,
 * times that go backwards, columns after characters outside the BMP.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { natsim, spawnNatsim, tempDir, type CliRun } from './helpers.js';

const CASE = 'fixtures/kernel/icmp-masq';

function expectOneLineError(run: CliRun, ...fragments: string[]): void {
  expect(run.code).toBe(2);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  for (const f of fragments) expect(lines[0]).toContain(f);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

/** A copy of the icmp-masq node snapshot, its capture's bytes changed by `mutate`. */
function nodeCopy(mutate: (bytes: Buffer) => Buffer, name = 'capture.pcap'): { dir: string; capture: string } {
  const dir = tempDir();
  for (const f of ['ip-addr.json', 'ip-route.json', 'sysctl.txt', 'nft-ruleset.txt']) copyFileSync(`${CASE}/${f}`, join(dir, f));
  const capture = join(dir, name);
  writeFileSync(capture, mutate(readFileSync(`${CASE}/capture.pcap`)));
  return { dir, capture };
}

/** The byte offsets of each record header of a little-endian classic pcap. */
function recordOffsets(b: Buffer): number[] {
  const out: number[] = [];
  for (let at = 24; at + 16 <= b.length; at += 16 + b.readUInt32LE(at + 8)) out.push(at);
  return out;
}

/** The capture with record `n`'s seconds set to the first record's plus `delta`. */
function shifted(n: number, delta: number): (b: Buffer) => Buffer {
  return (b) => {
    const c = Buffer.from(b);
    const offsets = recordOffsets(c);
    c.writeUInt32LE(c.readUInt32LE(offsets[0]!) + delta, offsets[n - 1]!);
    return c;
  };
}

function scenarioFile(text: string): string {
  const file = join(tempDir(), 's.yaml');
  writeFileSync(file, text);
  return file;
}

describe('text inputs are read with a size limit', () => {
  it('/dev/zero as a scenario, a lint target, a ruleset file and --scenario', async () => {
    expectOneLineError(await natsim('trace', '/dev/zero'), '/dev/zero: larger than 64 MB');
    expectOneLineError(await natsim('lint', '/dev/zero'), '/dev/zero: larger than 64 MB');
    const s = scenarioFile('natsim: 1\nhosts:\n  a:\n    interfaces: { eth0: { addr: [10.0.0.1/24] } }\n    ruleset-file: /dev/zero\n');
    expectOneLineError(await natsim('trace', s), '/dev/zero: larger than 64 MB');
    const { capture } = nodeCopy((b) => b);
    expectOneLineError(await natsim('trace', capture, '--scenario', '/dev/zero'), '/dev/zero: larger than 64 MB');
  });

  it('a missing ruleset file is still said where the scenario names it', async () => {
    const s = scenarioFile('natsim: 1\nhosts:\n  a:\n    interfaces: { eth0: { addr: [10.0.0.1/24] } }\n    ruleset-file: nowhere.nft\n');
    expectOneLineError(await natsim('trace', s), `${s}:5:19: cannot read ruleset file 'nowhere.nft': ENOENT`);
  });
});

describe('odd scenarios', () => {
  it('YAML nested past what the reader holds gives a reason, not the JS stack', async () => {
    const run = await natsim('trace', scenarioFile(`natsim: 1\nhosts: ${'['.repeat(20000)}${']'.repeat(20000)}\n`));
    expectOneLineError(run, 'YAML nested too deeply to read');
    expect(run.stderr).not.toContain('call stack');
  });

  it('cpus beyond NR_CPUS (8192) is refused; 8192 is not', async () => {
    expectOneLineError(await natsim('trace', scenarioFile('natsim: 1\ncpus: 100000000\nhosts: {}\n')), ':2:7: 100000000 CPUs: the kernel has at most 8192 (NR_CPUS)');
    expect((await natsim('trace', scenarioFile('natsim: 1\ncpus: 8192\nhosts:\n  a:\n    interfaces: { eth0: { addr: [10.0.0.1/24] } }\n'))).code).toBe(0);
  });

  it('a step later than the clock holds (2^53 ns) is refused, not skipped', async () => {
    const s = scenarioFile('natsim: 1\nhosts:\n  a:\n    interfaces: { eth0: { addr: [10.0.0.1/24] } }\nrun:\n  - { at: 2600h, on: a, do: ping 10.0.0.2 }\n');
    expectOneLineError(await natsim('trace', s), ":6:11: time '2600h' is too late: natsim's clock counts nanoseconds exactly up to 2^53 ns");
  });

  it('columns count characters: an emoji before the error is one column', async () => {
    const file = join(tempDir(), 'r.nft');
    writeFileSync(file, 'table ip t { chain c { type filter hook input priority 0; iifname "\u{1F600}\u{1F600}" bogus } }\n');
    expect((await natsim('lint', file)).stdout).toContain(`${file}:1:72: unsupported nft statement 'bogus'`);
  });
});

describe('odd captures', () => {
  it('a capture without a capture name, pcap or pcapng, is refused as one, not read as a scenario', async () => {
    for (const [from, format] of [[`${CASE}/capture.pcap`, 'pcap'], ['fixtures/kernel/pcapng-capture/capture.pcapng', 'pcapng']] as const) {
      const file = join(tempDir(), 'dump');
      copyFileSync(from, file);
      expectOneLineError(await natsim('stats', file), `${file}: a ${format} capture, not a text`, 'named .pcap, .pcapng or .cap');
    }
  });

  it('a text that begins as pcapng does ("\\n\\r\\r\\n") is read as the text it is', async () => {
    const file = join(tempDir(), 'odd.yaml');
    writeFileSync(file, '\n\r\r\nnatsim: 1\nhosts: {}\n');
    expect((await natsim('stats', file)).stderr).not.toContain('capture');
  });

  it('a pipe named as a capture is refused before anything waits on it', async () => {
    const { dir } = nodeCopy((b) => b);
    const fifo = join(dir, 'live.pcap');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expectOneLineError(await natsim('trace', fifo, '--node', dir), `${fifo}: a pipe: natsim reads a capture from a file`, 'tcpdump -w');
  });

  it('a pipe named otherwise is read once, as a text: a capture in it is refused by name, a scenario in it runs', () => {
    // spawned, with a time limit: a read that waits for ever must fail the test, not hang it
    const throughPipe = (file: string, command: string): { fifo: string; run: ReturnType<typeof spawnSync> } => {
      const fifo = join(tempDir(), 'dump');
      expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      // its first 4 bytes alone, as a pipe may give them: too few to tell pcapng from a text
      const writer = spawn('sh', ['-c', '{ head -c 4 "$0"; sleep 0.2; tail -c +5 "$0"; } > "$1"', file, fifo], { stdio: 'ignore' });
      try {
        return { fifo, run: spawnSync(process.execPath, ['bin/natsim.js', command, fifo], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } }) };
      } finally {
        writer.kill();
      }
    };
    for (const [file, format] of [[`${CASE}/capture.pcap`, 'pcap'], ['fixtures/kernel/pcapng-capture/capture.pcapng', 'pcapng']] as const) {
      const capture = throughPipe(file, 'stats').run;
      expect([capture.status, capture.stderr]).toEqual([2, expect.stringContaining(`: a ${format} capture, not a text`)]);
    }
    const seed = 'fixtures/seeds/icmp-masquerade.yaml';
    const { fifo, run } = throughPipe(seed, 'trace');
    expect([run.status, run.stderr]).toEqual([0, '']);
    // the trace names the file its rules came from: the pipe
    expect(String(run.stdout).replaceAll(fifo, seed)).toBe(spawnNatsim('trace', seed).stdout);
  });

  it("a path the system refuses to look at (a symlink loop) is named with its reason, read or written, not an internal error", async () => {
    const dir = tempDir();
    const loop = (name: string): string => {
      const [a, b] = [join(dir, name), join(dir, `${name}.other`)];
      symlinkSync(b, a);
      symlinkSync(a, b);
      return a;
    };
    for (const input of [loop('scenario.yaml'), loop('capture.pcap')]) {
      expectOneLineError(await natsim('trace', input), `${input}: cannot read: ELOOP`);
    }
    const out = loop('out.pcap');
    expectOneLineError(await natsim('trace', 'fixtures/seeds/icmp-masquerade.yaml', '--write-pcap', out), `${out}: cannot write: ELOOP`);
    expectOneLineError(await natsim('trace', `${CASE}/capture.pcap`, '--node', loop('node')), ': cannot read: ELOOP');
  });

  it('a gzip-compressed capture is refused by name, whatever it is called', async () => {
    for (const name of ['capture.pcap.gz', 'capture.pcap']) {
      const { capture, dir } = nodeCopy((b) => gzipSync(b), name);
      expectOneLineError(await natsim('trace', capture, '--node', dir), `${capture}: gzip-compressed`, 'gunzip -k');
    }
  });

  it('a record more than 2^53 ns after the first is refused with its number', async () => {
    const { capture, dir } = nodeCopy(shifted(3, 200 * 86400));
    expectOneLineError(await natsim('trace', capture, '--node', dir), `${capture} (record 3, byte offset`, "200.0 days after the first record: natsim's clock");
  });

  it('a record earlier than the one before is replayed in the capture order, warned about once', async () => {
    const { capture, dir } = nodeCopy((b) => shifted(4, -5)(shifted(6, -7)(b)));
    const run = await natsim('trace', capture, '--node', dir);
    expect(run.code).toBe(0);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^natsim: warning: ${capture}: record 4: time goes back \\d+\\.\\d{6} s; replaying in the capture's order`));
    const times = [...run.stdout.matchAll(/^\[\s*([\d.]+)\]/gm)].map((m) => Number(m[1]));
    expect(times.length).toBeGreaterThan(0);
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
  });
});
