/**
 * --flow FILTER: which flows to show. Every space-separated term must match: a protocol name
 * (tcp, udp, icmp), an address, ADDR:PORT, or :PORT, against either end of the original tuple
 * or of the tuple NAT gave it.
 */
import { UsageError } from '../cli/usage-error.js';
import { parseIpv4 } from '../packet/ipv4-addr.js';
import type { FlowTuple } from './finding.js';

export type FlowFilter = (tuples: readonly (FlowTuple | null)[]) => boolean;

const PROTOS = new Set(['tcp', 'udp', 'icmp', 'sctp', 'udplite', 'gre']);

function term(text: string): (t: FlowTuple) => boolean {
  if (PROTOS.has(text)) return (t) => t.proto === text;
  const m = /^([\d.]*)(?::(\d+))?$/.exec(text);
  const addr = m?.[1] ?? '';
  const port = m?.[2] === undefined ? null : Number(m[2]);
  if (!m || (addr === '' && port === null) || (addr !== '' && parseIpv4(addr) === null) || (port !== null && port > 65535)) {
    throw new UsageError(`--flow: '${text}' is not a protocol (tcp, udp, icmp), an address, ADDR:PORT or :PORT`);
  }
  const end = (a: string, p: number | null): boolean => (addr === '' || a === addr) && (port === null || p === port);
  return (t) => end(t.src, t.sport) || end(t.dst, t.dport);
}

export function flowFilter(text: string): FlowFilter {
  const terms = text.trim().split(/\s+/).filter((s) => s !== '').map(term);
  return (tuples) => terms.every((match) => tuples.some((t) => t !== null && match(t)));
}
