/**
 * --node DIR, for every command that takes it: the snapshot read by the one loader
 * (node/snapshot.ts), and what the user must know about how it was read (a ruleset file set
 * aside, IPv6 left out) said on stderr, where it cannot mix with the output.
 */
import { loadNode, type NodeSnapshot } from '../node/snapshot.js';
import type { LineSink } from '../trace/sinks.js';

export function openNode(dir: string, stderr: LineSink): NodeSnapshot {
  const node = loadNode(dir);
  for (const note of node.notes) stderr.line(`natsim: note: ${note}`);
  return node;
}
