/**
 * `natsim explain`'s findings for one host, once its replay is over: every failed flow
 * classified (classify.ts), counted by cause, with MASQUERADE's choices and the conntrack
 * counters that moved. Also marks each flow's fate with its cause, for `natsim diff`.
 */
import type { FlowCollector } from './collect.js';
import { classify, masqueradeFact } from './classify.js';
import type { CauseKind, Explanation, Finding } from './finding.js';

export function explanation(c: FlowCollector, endTime: number): Explanation {
  c.finish(endTime);
  const findings = [...c.failed.entries()].map(([id, f]) => {
    const finding = classify(f);
    const tracked = c.fates?.get(id);
    if (tracked) tracked.fate.reason = finding.cause.kind;
    return finding;
  });
  const masquerade = [...c.masquerades.values()].map(({ choice, flows }) => ({ ...masqueradeFact(choice), flows }));
  const total = c.host.nf.stats.total();
  const counters = Object.fromEntries(c.host.nf.stats.fields.filter((n) => total[n] > 0).map((n) => [n, total[n]]));
  return { host: c.host.name, flows: c.flows, summary: summarize(findings), masquerade, counters, findings };
}

/** Failed flows counted by cause, most first. */
export function summarize(findings: readonly Finding[]): Explanation['summary'] {
  const byCause = new Map<CauseKind, number>();
  for (const f of findings) byCause.set(f.cause.kind, (byCause.get(f.cause.kind) ?? 0) + 1);
  return [...byCause].map(([cause, flows]) => ({ cause, flows })).sort((a, b) => b.flows - a.flows || a.cause.localeCompare(b.cause));
}
