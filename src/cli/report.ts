/**
 * `natsim report INPUT -o FILE`: replay INPUT and write one self-contained HTML page about it
 * (src/report/html/): the hook diagram with a selected packet's path, each flow's ladder, the
 * conntrack table over time and the counters. The page's data is gathered from the trace
 * events as they come, bounded by what the page shows, so a capture of any length fits.
 */
import { closeSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import type { LineSink } from '../trace/sinks.js';
import { ReportCollector } from '../report/html/collector.js';
import type { FindingsSource } from '../report/html/findings.js';
import { reportPage } from '../report/html/page.js';
import { runInput, type RunOptions } from './run-input.js';

export interface ReportOptions extends RunOptions {
  readonly output: string;
}

/** `findings`: explain's source for the page's findings section (none: the section is left out). */
export async function reportCommand(input: string, options: ReportOptions, out: LineSink, findings: FindingsSource | null = null): Promise<number> {
  // opened first: a page that cannot be written is said before the replay, not after it
  const fd = openOutput(options.output);
  try {
    await writeReport(input, options, fd, out, findings);
  } catch (e) {
    // no half-written page left behind
    closeSync(fd);
    rmSync(options.output, { force: true });
    throw e;
  }
  closeSync(fd);
  return 0;
}

async function writeReport(input: string, options: ReportOptions, fd: number, out: LineSink, findings: FindingsSource | null): Promise<void> {
  const collector = new ReportCollector();
  const result = await runInput(input, { ...options, ...findings?.runOptions, onHost: collector.onHost }, () => collector);
  const data = collector.finish(input, result.endTime);
  const html = reportPage(data, findings === null ? null : findings.findings(result));
  writeFileSync(fd, html);
  out.line(`natsim: wrote ${options.output}: ${(Buffer.byteLength(html) / 1024).toFixed(0)} KiB, ${data.totals.flows} flows, ${data.totals.packets} packets`);
}

function openOutput(file: string): number {
  try {
    return openSync(file, 'w');
  } catch (e) {
    throw new InputError({ file }, `cannot write: ${(e as Error).message}`);
  }
}
