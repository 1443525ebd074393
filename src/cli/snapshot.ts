/**
 * `natsim snapshot DIR [--netns NAME]`: write a node snapshot of this Linux machine (or of one
 * network namespace) with the tools users already run — the files natsim verify --node reads.
 * A missing tool or a refused permission is a clear one-line error; a ruleset tool that is not
 * installed is skipped when the other one is there.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import type { LineSink } from '../trace/sinks.js';
import {
  ADDR_FILE, CPU_ONLINE_FILE, IGMP_FILE, IP6TABLES_FILE, IPSET_FILE, IPTABLES_FILE, IPTABLES_LEGACY_FILE, IPVS_FILE, NFT_FILE, NPROC_FILE, PROC_TCP_FILE, PROC_UDP_FILE, ROUTE_FILE, ROUTE6_FILE, SOCKETS_FILE, SYSCTL_FILE,
} from '../node/snapshot-files.js';
import { BRIDGE_FDB_FILE, LINK_DETAILS_FILE } from '../node/bridge-links.js';

interface Probe {
  readonly file: string;
  readonly argv: readonly string[];
  /** Where the tool comes from, for the "not installed" hint. */
  readonly from: string;
  /** The snapshot can do without it (a ruleset or set tool, what later replays may use). */
  readonly optional: boolean;
  /** Written only when the tool printed something (iptables-legacy-save prints nothing without legacy tables). */
  readonly onlyIfAny?: true;
  /** Run only when this other file could not be written: the same facts from a plainer source. */
  readonly insteadOf?: string;
}

/** The snapshot's files, in the order they are taken. */
const PROBES: readonly Probe[] = [
  { file: 'ip-link.json', argv: ['ip', '-j', 'link'], from: 'iproute2', optional: false },
  { file: ADDR_FILE, argv: ['ip', '-j', 'addr'], from: 'iproute2', optional: false },
  // bridges and their ports in detail (kind, ageing_time, port state and hairpin): node/bridge-links.ts
  { file: LINK_DETAILS_FILE, argv: ['ip', '-j', '-d', 'link'], from: 'iproute2', optional: true, onlyIfAny: true },
  // what the bridges have learned, with its age (node/bridge-links.ts)
  { file: BRIDGE_FDB_FILE, argv: ['bridge', '-j', '-s', 'fdb', 'show'], from: 'iproute2', optional: true, onlyIfAny: true },
  // `table all` lists IPv6 routes too (natsim reads them from here into the host's IPv6 FIB)
  { file: ROUTE_FILE, argv: ['ip', '-j', 'route', 'show', 'table', 'all'], from: 'iproute2', optional: false },
  // the IPv6 routes alone, as the kernel recordings keep them; optional: a kernel may have no IPv6
  { file: ROUTE6_FILE, argv: ['ip', '-j', '-6', 'route', 'show', 'table', 'all'], from: 'iproute2', optional: true },
  { file: SYSCTL_FILE, argv: ['sysctl', '-a'], from: 'procps', optional: false },
  { file: NFT_FILE, argv: ['nft', 'list', 'ruleset'], from: 'nftables', optional: true },
  { file: IPTABLES_FILE, argv: ['iptables-save'], from: 'iptables', optional: true },
  // x_tables tables (iptables-legacy) next to the nf_tables ones, which iptables-save (nft) only warns about
  { file: IPTABLES_LEGACY_FILE, argv: ['iptables-legacy-save'], from: 'iptables', optional: true, onlyIfAny: true },
  // the ip6tables rules: the IPv6 family's x_tables tables (snapshot.ts reads them as ip6 tables)
  { file: IP6TABLES_FILE, argv: ['ip6tables-save'], from: 'iptables', optional: true, onlyIfAny: true },
  { file: IPSET_FILE, argv: ['ipset', 'save'], from: 'ipset', optional: true },
  { file: IPVS_FILE, argv: ['ipvsadm', '-Sn'], from: 'ipvsadm', optional: true },
  // The node's own listening and connected sockets (a REDIRECT's local proxy, its own connections)
  { file: SOCKETS_FILE, argv: ['ss', '-tuanpH'], from: 'iproute2', optional: true },
  { file: PROC_TCP_FILE, argv: ['cat', '/proc/net/tcp'], from: 'coreutils', optional: true, insteadOf: SOCKETS_FILE },
  { file: PROC_UDP_FILE, argv: ['cat', '/proc/net/udp'], from: 'coreutils', optional: true, insteadOf: SOCKETS_FILE },
  // the IPv4 groups each device is in (a packet to another group is dropped, not delivered)
  { file: IGMP_FILE, argv: ['cat', '/proc/net/igmp'], from: 'coreutils', optional: true },
  // How many CPUs count packets (conntrack -S has a line per CPU)
  { file: NPROC_FILE, argv: ['nproc'], from: 'coreutils', optional: true },
  { file: CPU_ONLINE_FILE, argv: ['cat', '/sys/devices/system/cpu/online'], from: 'coreutils', optional: true, insteadOf: NPROC_FILE },
];

/** What each file of a snapshot holds, for --help. */
export const SNAPSHOT_FILES: readonly { readonly file: string; readonly command: string; readonly optional: boolean }[] = PROBES.map((p) => ({
  file: p.file,
  command: p.insteadOf ? `${p.argv.join(' ')}, when there is no ${p.insteadOf}` : p.argv.join(' '),
  optional: p.optional,
}));

const RULESET_FILES = new Set([NFT_FILE, IPTABLES_FILE, IPTABLES_LEGACY_FILE]);

/**
 * Every tool runs before anything is written, so that a failure (a namespace that does not
 * exist, a refused permission) leaves no folder behind.
 */
export function snapshotCommand(dir: string, netns: string | null, out: LineSink): number {
  const taken = new Map<string, string>();
  for (const probe of PROBES) {
    if (probe.insteadOf !== undefined && taken.has(probe.insteadOf)) continue;
    const text = runProbe(probe, dir, netns, out);
    if (text !== null && !(probe.onlyIfAny && text.trim() === '')) taken.set(probe.file, text);
  }
  makeFolder(dir);
  for (const [file, text] of taken) {
    const path = join(dir, file);
    try {
      writeFileSync(path, text);
    } catch (e) {
      throw new InputError({ file: path }, `cannot write: ${(e as Error).message}`);
    }
    out.line(`snapshot: wrote ${path}`);
  }
  if (![...taken.keys()].some((f) => RULESET_FILES.has(f))) out.line('snapshot: no ruleset tool answered: natsim will see an empty ruleset');
  return 0;
}

/** The tool's output; null when an optional tool is missing or failed (said on out). */
function runProbe(probe: Probe, dir: string, netns: string | null, out: LineSink): string | null {
  const argv = netns ? ['ip', 'netns', 'exec', netns, ...probe.argv] : [...probe.argv];
  const run = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 30 });
  const place = { file: join(dir, probe.file) };
  if (run.error) {
    const missing = (run.error as NodeJS.ErrnoException).code === 'ENOENT';
    if (missing && probe.optional) {
      out.line(`snapshot: skipped ${probe.file}: ${probe.argv[0]} is not installed`);
      return null;
    }
    throw new InputError(place, missing ? `'${argv[0]}' is not installed (package ${probe.from})` : `cannot run '${argv.join(' ')}': ${run.error.message}`);
  }
  if (run.status !== 0) {
    const why = run.stderr.trim().split('\n')[0] ?? '';
    const denied = /permission denied|operation not permitted|must be root/i.test(run.stderr);
    if (probe.optional && !denied) {
      out.line(`snapshot: skipped ${probe.file}: '${argv.join(' ')}' failed: ${why}`);
      return null;
    }
    throw new InputError(place, denied ? `'${argv.join(' ')}' was refused: ${why} (run as root)` : `'${argv.join(' ')}' failed: ${why}`);
  }
  return run.stdout;
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdirSync spins forever where a parent
 * refuses new entries with ENOENT (/proc, /sys).
 */
function makeFolder(dir: string): void {
  const missing: string[] = [];
  let at = resolve(dir);
  for (let stat = statSync(at, { throwIfNoEntry: false }); stat === undefined; stat = statSync(at, { throwIfNoEntry: false })) {
    missing.unshift(at);
    at = dirname(at);
  }
  if (!statSync(at).isDirectory()) throw new InputError({ file: at }, 'is a file, not a folder: cannot put the snapshot under it');
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (e) {
      throw new InputError({ file: dir }, `cannot create the folder: ${(e as Error).message}`);
    }
  }
}
