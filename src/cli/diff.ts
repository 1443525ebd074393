/**
 * `natsim diff INPUT (--ruleset FILE | --sysctl KEY=VALUE | --set-node DIR | --kernel V)...`:
 * replay INPUT as it is and once changed, and report every flow whose fate changed and the
 * counters that moved. Exit 0 when nothing changed, 1 when something did (CI can gate a
 * ruleset change on it), 2 for bad input.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import type { KernelVersion } from '../kernel/profile.js';
import type { HostSpec, ScenarioSpec } from '../scenario/spec.js';
import { counterChanges, flowChanges, type RunFates } from '../explain/diff.js';
import { diffJson, diffText } from '../explain/render-diff.js';
import type { FlowCollector } from '../explain/collect.js';
import type { Output } from '../trace/output.js';
import { explainRun } from './explain.js';
import { isCapture, type RunOptions } from './run-input.js';
import { requireFile } from './input-file.js';
import { UsageError } from './usage-error.js';

export interface DiffChanges {
  readonly ruleset?: string;
  readonly sysctl: readonly string[];
  readonly setNode?: string;
  readonly kernel?: KernelVersion;
}

export interface DiffOptions extends RunOptions {
  readonly json: boolean;
  readonly changes: DiffChanges;
}

/** KEY=VALUE, the value a number when it is one (as a scenario's sysctl map gives it). */
function sysctlPair(text: string): [string, string | number] {
  const at = text.indexOf('=');
  if (at <= 0) throw new UsageError(`--sysctl: expected KEY=VALUE, got '${text}'`);
  const value = text.slice(at + 1).trim();
  return [text.slice(0, at).trim(), /^-?\d+$/.test(value) ? Number(value) : value];
}

/** The replayed hosts with the ruleset and sysctls changed. */
function alter(changes: DiffChanges): (spec: ScenarioSpec, hosts: readonly string[]) => ScenarioSpec {
  const ruleset = changes.ruleset === undefined ? undefined : { text: readRuleset(changes.ruleset), file: changes.ruleset, lineOffset: 0, colOffset: 0 };
  const sysctls = changes.sysctl.map(sysctlPair);
  const change = (h: HostSpec): HostSpec => ({
    ...h,
    ruleset: ruleset ?? h.ruleset,
    sysctl: [...h.sysctl, ...sysctls.map((value) => ({ value, place: { file: `--sysctl ${value[0]}=${value[1]}` } }))],
  });
  return (spec, hosts) => ({ ...spec, hosts: spec.hosts.map((h) => (hosts.includes(h.name) ? change(h) : h)) });
}

function readRuleset(file: string): string {
  requireFile(file);
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError({ file }, `cannot read: ${(e as Error).message}`);
  }
}

function runFates(c: FlowCollector): RunFates {
  const total = c.host.nf.stats.total();
  const counters: Record<string, number> = Object.fromEntries(c.host.nf.stats.fields.map((n) => [n, total[n]]));
  for (const [why, n] of c.host.packets.dropped) counters[`dropped: ${why}`] = n;
  return { fates: c.fates!, counters };
}

export async function diffCommand(input: string, options: DiffOptions, out: Output): Promise<number> {
  const { changes } = options;
  if (changes.ruleset === undefined && changes.sysctl.length === 0 && changes.setNode === undefined && changes.kernel === undefined) {
    throw new UsageError('diff needs at least one change: --ruleset FILE, --sysctl KEY=VALUE, --set-node DIR or --kernel V');
  }
  if (changes.setNode !== undefined && !isCapture(input)) throw new UsageError(`--set-node replaces the node snapshot of a capture; ${input} is a scenario`);
  const changed: RunOptions = { ...options, node: changes.setNode ?? options.node, kernel: changes.kernel ?? options.kernel, alter: alter(changes) };
  const before = (await explainRun(input, options, true)).collectors;
  const after = (await explainRun(input, changed, true)).collectors;
  let moved = 0;
  for (const [i, b] of before.entries()) {
    const a = after[i]!;
    const [rb, ra] = [runFates(b), runFates(a)];
    const flows = flowChanges(rb, ra);
    const counters = counterChanges(rb, ra);
    moved += flows.length + counters.length;
    if (before.length > 1 && !options.json) out.line(`${b.host.name}:`);
    for (const line of options.json ? diffJson(flows, counters) : diffText(flows, counters, new Set([...rb.fates.keys(), ...ra.fates.keys()]).size)) out.line(line);
  }
  return moved > 0 ? 1 : 0;
}
