/**
 * `natsim explain`'s findings for one host, once its replay is over: every failed flow
 * classified (classify.ts), counted by cause, with MASQUERADE's choices and the conntrack
 * counters that moved. Also marks each flow's fate with its cause, for `natsim diff`.
 */
import type { FlowCollector } from './collect.js';
import { causeOf, classify, masqueradeFact } from './classify.js';
import type { CauseKind, Explanation, Finding } from './finding.js';

export function explanation(c: FlowCollector, endTime: number): Explanation {
  c.finish(endTime);
  const findings = [...c.failed.values()].map(classify);
  const masquerade = [...c.masquerades.values()].map(({ choice, flows }) => ({ ...masqueradeFact(choice), flows }));
  const total = c.host.nf.stats.total();
  const counters = Object.fromEntries(c.host.nf.stats.fields.filter((n) => total[n] > 0).map((n) => [n, total[n]]));
  return { host: c.host.name, flows: c.flows, summary: summarize(findings), masquerade, counters, findings };
}

/**
 * For `natsim diff`, once the replay is over: each failed flow's fate marked with its cause —
 * the cause only, not explain's whole finding (its evidence, NAT facts and text).
 */
export function markFates(c: FlowCollector, endTime: number): void {
  c.finish(endTime);
  for (const [key, f] of c.failed) {
    const row = c.fateRowOf(key);
    if (row !== undefined) c.fates!.setReason(row, causeOf(f).kind);
  }
}

/** Failed flows counted by cause, most first. */
export function summarize(findings: readonly Finding[]): Explanation['summary'] {
  const byCause = new Map<CauseKind, number>();
  for (const f of findings) byCause.set(f.cause.kind, (byCause.get(f.cause.kind) ?? 0) + 1);
  return [...byCause].map(([cause, flows]) => ({ cause, flows })).sort((a, b) => b.flows - a.flows || a.cause.localeCompare(b.cause));
}
