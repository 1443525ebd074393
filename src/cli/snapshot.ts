/**
 * `natsim snapshot DIR [--netns NAME]`: write a node snapshot of this Linux machine (or of one
 * network namespace) with the tools users already run — the files natsim verify --node reads.
 * A missing tool or a refused permission is a clear one-line error; a ruleset tool that is not
 * installed is skipped when the other one is there.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { Output } from '../trace/output.js';

interface Probe {
  readonly file: string;
  readonly argv: readonly string[];
  /** Where the tool comes from, for the "not installed" hint. */
  readonly from: string;
  /** A ruleset or set tool: the snapshot can do without it. */
  readonly optional: boolean;
  /** Written only when the tool printed something (iptables-legacy-save prints nothing without legacy tables). */
  readonly onlyIfAny?: true;
}

const PROBES: readonly Probe[] = [
  { file: 'ip-link.json', argv: ['ip', '-j', 'link'], from: 'iproute2', optional: false },
  { file: 'ip-addr.json', argv: ['ip', '-j', 'addr'], from: 'iproute2', optional: false },
  { file: 'ip-route.json', argv: ['ip', '-j', 'route', 'show', 'table', 'all'], from: 'iproute2', optional: false },
  { file: 'sysctl.txt', argv: ['sysctl', '-a'], from: 'procps', optional: false },
  { file: 'nft-ruleset.txt', argv: ['nft', 'list', 'ruleset'], from: 'nftables', optional: true },
  { file: 'iptables-save.txt', argv: ['iptables-save'], from: 'iptables', optional: true },
  // x_tables tables (iptables-legacy) next to the nf_tables ones, which iptables-save (nft) only warns about
  { file: 'iptables-legacy-save.txt', argv: ['iptables-legacy-save'], from: 'iptables', optional: true, onlyIfAny: true },
  { file: 'ipset-save.txt', argv: ['ipset', 'save'], from: 'ipset', optional: true },
  { file: 'ipvsadm-save.txt', argv: ['ipvsadm', '-Sn'], from: 'ipvsadm', optional: true },
];

const RULESET_FILES = new Set(['nft-ruleset.txt', 'iptables-save.txt', 'iptables-legacy-save.txt']);

export function snapshotCommand(dir: string, netns: string | null, out: Output): number {
  mkdirSync(dir, { recursive: true });
  let rulesets = 0;
  for (const probe of PROBES) {
    const argv = netns ? ['ip', 'netns', 'exec', netns, ...probe.argv] : [...probe.argv];
    const run = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 30 });
    const place = { file: join(dir, probe.file) };
    if (run.error) {
      const missing = (run.error as NodeJS.ErrnoException).code === 'ENOENT';
      if (missing && probe.optional) {
        out.line(`snapshot: skipped ${probe.file}: ${probe.argv[0]} is not installed`);
        continue;
      }
      throw new InputError(place, missing ? `'${argv[0]}' is not installed (package ${probe.from})` : `cannot run '${argv.join(' ')}': ${run.error.message}`);
    }
    if (run.status !== 0) {
      const why = run.stderr.trim().split('\n')[0] ?? '';
      const denied = /permission denied|operation not permitted|must be root/i.test(run.stderr);
      if (probe.optional && !denied) {
        out.line(`snapshot: skipped ${probe.file}: '${argv.join(' ')}' failed: ${why}`);
        continue;
      }
      throw new InputError(place, denied ? `'${argv.join(' ')}' was refused: ${why} (run as root)` : `'${argv.join(' ')}' failed: ${why}`);
    }
    if (probe.onlyIfAny && run.stdout.trim() === '') continue;
    writeFileSync(place.file, run.stdout);
    if (RULESET_FILES.has(probe.file)) rulesets++;
    out.line(`snapshot: wrote ${place.file}`);
  }
  if (rulesets === 0) out.line('snapshot: no ruleset tool answered: natsim will see an empty ruleset');
  return 0;
}
