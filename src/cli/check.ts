/**
 * `natsim check [PATH...]`: golden-output checks. Every `X.golden` (kernel style) or
 * `X.STYLE.golden` beside an input X.pcap or X.yaml is compared with a fresh run; a mismatch
 * prints a unified diff and makes the exit code 1. `--update` rewrites the golden files.
 * `X.linux-V.golden` and `X.linux-V.STYLE.golden` run X as `--kernel V` does: one experiment
 * on several kernels. `X.explain.golden` holds `natsim explain X`'s text.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { statInput } from '../fs-refusal.js';
import { LineCollector } from '../trace/output.js';
import { makePalette } from '../trace/palette.js';
import { makeSink } from '../trace/sinks.js';
import { TRACE_STYLES, type TraceStyle } from '../trace/styles.js';
import { diagnosis } from '../report/diagnosis.js';
import { unifiedDiff } from '../report/unified-diff.js';
import { runInput } from './run-input.js';
import type { LineSink } from '../trace/sinks.js';
import type { LineStream } from './io.js';
import { isKernelVersion, KERNEL_VERSIONS, type KernelVersion } from '../kernel/profile.js';
import { explainRun } from './explain.js';
import { renderText } from '../explain/render-text.js';

/** What a golden holds: a trace in one of its styles, or `natsim explain`'s text (X.explain.golden). */
export type GoldenOutput = TraceStyle | 'explain';

export interface GoldenCase {
  readonly golden: string;
  readonly input: string;
  readonly style: GoldenOutput;
  /** From `.linux-V` in the name; undefined: the input's own kernel. */
  readonly kernel?: KernelVersion;
}

export function findGoldenCases(paths: readonly string[]): GoldenCase[] {
  const cases: GoldenCase[] = [];
  for (const p of paths) {
    if (statInput(p) === undefined) throw new InputError({ file: p }, 'no such file or directory');
    for (const golden of walk(p)) cases.push(goldenCase(golden));
  }
  return cases.sort((a, b) => a.golden.localeCompare(b.golden));
}

/** A folder: every golden below it; a golden: itself; an input X.yaml or X.pcap: the goldens of X beside it. */
function* walk(path: string, named = true): Generator<string> {
  if (statSync(path).isFile()) {
    if (path.endsWith('.golden')) yield path;
    // an input found in a folder brings no goldens of its own: the folder's walk meets them
    else if (named) yield* goldensOf(path);
    return;
  }
  for (const name of readdirSync(path)) yield* walk(join(path, name), false);
}

function* goldensOf(input: string): Generator<string> {
  const dir = dirname(input);
  const stem = basename(input).replace(/\.(yaml|pcap)$/, '');
  for (const name of readdirSync(dir)) if (name.startsWith(`${stem}.`) && name.endsWith('.golden')) yield join(dir, name);
}

function goldenCase(golden: string): GoldenCase {
  let stem = golden.slice(0, -'.golden'.length);
  let style: GoldenOutput = 'kernel';
  const dot = stem.lastIndexOf('.');
  const maybeStyle = stem.slice(dot + 1) as GoldenOutput;
  if (dot > 0 && (maybeStyle === 'explain' || TRACE_STYLES.includes(maybeStyle))) {
    style = maybeStyle;
    stem = stem.slice(0, dot);
  }
  let kernel: KernelVersion | undefined;
  const linux = /\.linux-([^/]+)$/.exec(stem);
  if (linux) {
    const version = linux[1]!;
    if (!isKernelVersion(version)) throw new InputError({ file: golden }, `unknown kernel '${version}' in the name (natsim has profiles for Linux ${KERNEL_VERSIONS.join(', ')})`);
    kernel = version;
    stem = stem.slice(0, linux.index);
  }
  const input = [`${stem}.pcap`, `${stem}.yaml`].find((f) => existsSync(f));
  if (!input) throw new InputError({ file: golden }, `no input beside it (${stem}.pcap or ${stem}.yaml)`);
  return { golden, input, style, kernel };
}

/** The text a golden file holds for a case: the uncoloured trace plus the closing diagnosis (notes and warnings to `stderr`). */
export async function renderCase(c: GoldenCase, stderr: LineStream): Promise<string[]> {
  const style = c.style;
  if (style === 'explain') {
    const { explanations } = await explainRun(c.input, { kernel: c.kernel, stderr });
    return explanations.flatMap((x) => renderText(x, explanations.length > 1));
  }
  const out = new LineCollector();
  const result = await runInput(c.input, { kernel: c.kernel, stderr }, (multi) => makeSink(style, out, makePalette(false), multi));
  if (style !== 'json') for (const line of diagnosis(result)) out.line(line);
  return out.lines;
}

export async function checkCommand(paths: readonly string[], update: boolean, out: LineSink, stderr: LineStream): Promise<number> {
  const cases = findGoldenCases(paths.length > 0 ? paths : ['fixtures']);
  if (cases.length === 0) {
    // A check that compared nothing must not pass.
    out.line(`check: no .golden file for ${paths.join(', ')}: nothing compared`);
    return 1;
  }
  let failed = 0;
  for (const c of cases) {
    const actual = await renderCase(c, stderr);
    const expected = readFileSync(c.golden, 'utf8').replace(/\n$/, '').split('\n');
    if (expected.join('\n') === actual.join('\n')) {
      out.line(`ok      ${c.golden}`);
      continue;
    }
    if (update) {
      writeFileSync(c.golden, actual.join('\n') + '\n');
      out.line(`updated ${c.golden}`);
      continue;
    }
    failed++;
    out.line(`FAIL    ${c.golden}`);
    for (const line of unifiedDiff(expected, actual, c.golden, `${c.input} (${c.style === 'explain' ? 'explain' : `--style ${c.style}`}${c.kernel ? ` --kernel ${c.kernel}` : ''})`)) out.line(line);
  }
  out.line(`check: ${cases.length - failed}/${cases.length} golden outputs match`);
  return failed > 0 && !update ? 1 : 0;
}
