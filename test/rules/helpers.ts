/**
 * Rule-test helpers: ruleset text parsed as a file named "r", the one-line error it gives, and
 * the connections a kube-proxy affinity seed's node sends on.
 */
import { InputError } from '../../src/errors.js';
import type { Ruleset } from '../../src/netfilter/rules/model.js';
import { parseRuleset } from '../../src/netfilter/rules/parse.js';
import { TcpFlag } from '../../src/packet/ipv4.js';
import type { ScenarioSpec } from '../../src/scenario/spec.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { runWorld } from '../support/run-world.js';

export function parse(text: string, file = 'r'): Ruleset {
  return parseRuleset({ text, file, lineOffset: 0, colOffset: 0 });
}

/** The message of the InputError parsing `text` gives; fails the test if it parses. */
export function errorOf(text: string): string {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
  throw new Error('no error');
}

type Transmit = Extract<TraceEvent, { kind: 'transmit' }>;

/** The SYNs host `node` sends to a pod's port 8080, in order: which pod each connection went to. */
export function podSyns(spec: ScenarioSpec): Transmit[] {
  return runWorld(spec, { trace: ['node'] }).events.filter((e): e is Transmit => e.kind === 'transmit' && e.host === 'node' && e.pkt.dport === 8080 && e.pkt.tcpFlags === TcpFlag.SYN);
}
