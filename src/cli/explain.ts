/**
 * `natsim explain INPUT`: replay with a fate probe on each replayed host (explain/collect.ts)
 * and say, for every flow that did not complete, what happened and why — summary first.
 */
import type { Host } from '../host/host.js';
import { FlowCollector } from '../explain/collect.js';
import { explanation, summarize } from '../explain/explain.js';
import type { Explanation } from '../explain/finding.js';
import { flowFilter } from '../explain/flow-filter.js';
import { renderJson } from '../explain/render-json.js';
import { renderText } from '../explain/render-text.js';
import type { LineSink } from '../trace/sinks.js';
import { runInput, type RunOptions } from './run-input.js';

export interface ExplainOptions extends RunOptions {
  readonly json: boolean;
  /** --flow FILTER (explain/flow-filter.ts). */
  readonly flow?: string;
}

/** Replays `input` with a collector on every replayed host (keeping every flow's fate if `fates`); the collectors in host order. */
export async function collectRun(input: string, options: RunOptions, fates: boolean): Promise<{ collectors: FlowCollector[]; endTime: number }> {
  const collectors: FlowCollector[] = [];
  const probeFor = (host: Host): FlowCollector => {
    const c = new FlowCollector(host, fates);
    collectors.push(c);
    return c;
  };
  const result = await runInput(input, { ...options, probeFor }, () => null);
  return { collectors: result.hosts.map((h) => collectors.find((c) => c.host === h)!), endTime: result.endTime };
}

/** Replays `input` with a collector on every replayed host; their explanations, in host order. */
export async function explainRun(input: string, options: RunOptions): Promise<{ explanations: Explanation[]; collectors: FlowCollector[] }> {
  const { collectors, endTime } = await collectRun(input, options, false);
  return { explanations: collectors.map((c) => explanation(c, endTime)), collectors };
}

export function filtered(x: Explanation, filter: string | undefined): Explanation {
  if (filter === undefined) return x;
  const keep = flowFilter(filter);
  const findings = x.findings.filter((f) => keep([f.flow, f.nat?.translated ?? null]));
  return { ...x, findings, summary: summarize(findings) };
}

export async function explainCommand(input: string, options: ExplainOptions, out: LineSink): Promise<number> {
  if (options.flow !== undefined) flowFilter(options.flow); // a bad filter is a usage error before the replay
  const { explanations } = await explainRun(input, options);
  for (const x of explanations.map((e) => filtered(e, options.flow))) {
    if (options.json) out.line(renderJson(x));
    else for (const line of renderText(x, explanations.length > 1)) out.line(line);
  }
  return 0;
}
