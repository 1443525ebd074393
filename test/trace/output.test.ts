/**
 * The output writer: what reaches the file is the lines as given, UTF-8, whatever their
 * lengths (a line longer than its buffer too); and a reader that stops early (`natsim trace |
 * head`) ends the run quietly, with 0 and nothing on stderr, and stops the replay unless it
 * also writes a capture.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Output } from '../../src/trace/output.js';
import { writeWorkload } from '../../src/bench/workload.js';
import { MemoryStream, natsimOn, tempDir } from '../cli/helpers.js';
import type { CliStream } from '../../src/cli/io.js';

/** A pipe whose reader leaves after `keep` lines: the lines written after that are counted. */
class LeavingReader implements CliStream {
  readonly terminal = null;
  lines = 0;
  constructor(private readonly keep: number) {}
  get readerGone(): boolean {
    return this.lines > this.keep;
  }
  line(): void {
    this.lines++;
  }
  write(): void {}
  flush(): void {}
}

function written(lines: readonly string[]): string {
  const file = join(tempDir(), 'out.txt');
  const fd = openSync(file, 'w');
  const out = new Output(fd);
  for (const line of lines) out.line(line);
  out.flush();
  closeSync(fd);
  return readFileSync(file, 'utf8');
}

describe('Output', () => {
  it('writes the lines as given, in UTF-8', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ maxLength: 5000 })), { maxLength: 200 }), (lines) => {
        expect(written(lines)).toBe(lines.map((l) => `${l}\n`).join(''));
      }),
      { numRuns: 100 },
    );
  });

  it('writes a line longer than its buffer, between shorter ones', () => {
    const lines = ['before', 'é€𝄞'.repeat(100_000), 'x'.repeat(300_000), 'after'];
    expect(written(lines)).toBe(lines.map((l) => `${l}\n`).join(''));
  });

  it('`natsim trace | head -c 1`: the reader gone, the run ends with 0 and no message', () => {
    // a trace far longer than a pipe holds, so that writes go on after head has exited
    const pcap = join(tempDir(), 'w.pcap');
    writeWorkload(pcap, 5000, 1);
    const run = spawnSync('bash', ['-c', `node bin/natsim.js trace ${pcap} | head -c 1 >/dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    expect(run.stdout).toBe('0\n');
    expect(run.stderr).toBe('');
  });

  it('the reader gone, the replay stops, unless it also writes a capture (--write-pcap goes on to the end)', async () => {
    const dir = tempDir();
    const pcap = join(dir, 'w.pcap');
    writeWorkload(pcap, 5000, 1);
    const trace = async (keep: number, ...args: string[]): Promise<number> => {
      const stdout = new LeavingReader(keep);
      expect(await natsimOn({ stdout, stderr: new MemoryStream() }, 'trace', pcap, ...args)).toBe(0);
      return stdout.lines;
    };
    const all = await trace(Number.MAX_SAFE_INTEGER);
    // what is written after the reader left: the rest of the one record being fed, not the capture's
    const stopped = await trace(100);
    expect(all).toBeGreaterThan(50_000);
    expect(stopped - 100).toBeLessThan(100);
    const [whole, cut] = [join(dir, 'whole.pcap'), join(dir, 'cut.pcap')];
    expect(await trace(Number.MAX_SAFE_INTEGER, '--write-pcap', whole)).toBe(all);
    expect(await trace(100, '--write-pcap', cut)).toBe(all);
    expect(statSync(cut).size).toBe(statSync(whole).size);
  });
});
