/**
 * The report's findings from `natsim explain` (src/explain/): its fate probe rides on the
 * report's replay of the reported host, and each failed flow it classifies becomes a finding
 * with explain's own title and paragraph, linked to the flow's first packet and to the packet
 * that decided its fate.
 */
import { FlowCollector } from '../../explain/collect.js';
import { explanation } from '../../explain/explain.js';
import type { Finding } from '../../explain/finding.js';
import { tupleText } from '../../explain/flow-tuple.js';
import { CAUSE_TITLE, paragraph } from '../../explain/render-text.js';
import type { Host } from '../../host/host.js';
import type { FindingsSource, ReportFinding } from './findings.js';

export function explainFindings(): FindingsSource {
  const collectors: FlowCollector[] = [];
  return {
    runOptions: {
      probeFor: (host: Host) => {
        const c = new FlowCollector(host, false);
        collectors.push(c);
        return c;
      },
    },
    findings: (result) => {
      const c = collectors.find((x) => x.host === result.hosts[0]);
      return c === undefined ? [] : explanation(c, result.endTime).findings.map(reportFinding);
    },
  };
}

function reportFinding(f: Finding): ReportFinding {
  const first = { flow: f.flow, time: Math.round(f.first.time * 1e9) };
  const decided = { flow: f.flow, time: Math.round(f.evidence.time * 1e9) };
  return {
    severity: 'problem',
    title: `${tupleText(f.flow)}: ${CAUSE_TITLE[f.cause.kind]}`,
    detail: paragraph(f),
    packets: first.time === decided.time ? [first] : [first, decided],
  };
}
