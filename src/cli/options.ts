/**
 * The options that natsim's commands share, defined once: each command declares which of them
 * it takes (addSharedOptions), so that a name, its syntax and its help text are the same
 * everywhere and an option is not offered where it does nothing. Values arrive through
 * sharedValues as one typed object.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_KERNEL, isKernelVersion, KERNEL_VERSIONS, type KernelVersion } from '../kernel/profile.js';
import { DURATION_HINT, parseDuration } from '../sim/duration.js';
import { TRACE_COUNTERS, type TraceCounters } from '../trace/nft-rule-listing.js';

export type SharedOptionName =
  | 'scenario'
  | 'node'
  | 'host'
  | 'seed'
  | 'cpus'
  | 'kernel'
  | 'followKernel'
  | 'writePcap'
  | 'until'
  | 'maxPackets'
  | 'quiet'
  | 'conntrackHashSeed'
  | 'json'
  | 'color'
  | 'traceCounters';

/** Every shared option's value, as a command's action receives it. */
export interface SharedValues {
  /** --scenario FILE: the topology and rules of the capture's host. */
  readonly scenario?: string;
  /** --node DIR: a node snapshot (node/snapshot.ts) as the capture's host. */
  readonly node?: string;
  readonly host?: string;
  readonly seed?: number;
  readonly cpus?: number;
  /** --kernel: the Linux version to behave as, over the scenario's `kernel`. */
  readonly kernel?: KernelVersion;
  /** false with --no-follow-kernel. */
  readonly followKernel?: boolean;
  readonly writePcap?: string;
  /** --until, in nanoseconds of virtual time. */
  readonly until?: number;
  readonly maxPackets?: number;
  readonly quiet: boolean;
  /** --conntrack-hash-seed: the traced host's conntrack hash key (conntrack -L's order), over the scenario's. */
  readonly conntrackHashSeed?: number;
  readonly json: boolean;
  /** false with --no-color (NO_COLOR is the palette's to honour: trace/palette.ts). */
  readonly color: boolean;
  /** --trace-counters: what nft monitor trace lines show as rule counters (absent: zero). */
  readonly traceCounters?: TraceCounters;
}

function integer(min: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min) throw new InvalidArgumentError(`expected a whole number ≥ ${min}`);
    return Number(value);
  };
}

export function kernelVersion(value: string): KernelVersion {
  if (!isKernelVersion(value)) throw new InvalidArgumentError(`natsim has profiles for Linux ${KERNEL_VERSIONS.join(', ')}`);
  return value;
}

function duration(value: string): number {
  const ns = parseDuration(value);
  if (ns === null) throw new InvalidArgumentError(`expected ${DURATION_HINT}`);
  return ns;
}

/** Each option's flags, default help and argument parser. */
const TABLE: Record<SharedOptionName, { readonly flags: string; readonly help: string; readonly parse?: (value: string) => unknown; readonly choices?: readonly string[] }> = {
  scenario: { flags: '--scenario <file>', help: 'topology and rules of the host a capture was taken on (default: the capture name with .yaml, else the node snapshot folder the capture is in)' },
  node: { flags: '--node <dir>', help: 'node snapshot of the machine a capture was taken on (natsim snapshot wrote it), instead of a scenario' },
  host: { flags: '--host <name>', help: 'which host to trace or replay on (default: the scenario\'s "trace")' },
  seed: { flags: '--seed <n>', help: 'seed for every random choice (default: the scenario\'s seed, 1 for a node)', parse: integer(0) },
  cpus: { flags: '--cpus <n>', help: 'CPUs that process packets (conntrack -S has a line per CPU)', parse: integer(1) },
  kernel: {
    flags: '--kernel <version>',
    help: `Linux version to behave as, over the scenario's "kernel" (${KERNEL_VERSIONS.join(', ')}; default ${DEFAULT_KERNEL.version})`,
    parse: kernelVersion,
  },
  followKernel: { flags: '--no-follow-kernel', help: "with a capture: draw random NAT ports from the seed instead of taking the kernel's port from the capture where the rule allows it" },
  writePcap: { flags: '--write-pcap <file>', help: 'write every packet in and out of the traced host as a tcpdump -i any capture (LINUX_SLL2)' },
  until: { flags: '--until <time>', help: "stop at this virtual time (2m, 30s, 500ms; a bare number is seconds): a scenario's clock, or the capture's time since its first record", parse: duration },
  maxPackets: { flags: '--max-packets <n>', help: "stop after this many packets: the capture's records fed, or the packets the scenario's hosts receive", parse: integer(1) },
  quiet: { flags: '--quiet', help: 'no progress bar (one is shown on a terminal when a capture takes more than a second)' },
  conntrackHashSeed: {
    flags: '--conntrack-hash-seed <n>',
    help: "key of the host's conntrack hash (the kernel's is random per boot), which decides the order conntrack -L lists in (default: the scenario's conntrack-hash-seed, else drawn from the seed)",
    parse: integer(0),
  },
  json: { flags: '--json', help: 'JSON output, one object per line' },
  color: { flags: '--no-color', help: 'no colour even on a terminal (NO_COLOR=1 does the same)' },
  traceCounters: {
    flags: '--trace-counters <from>',
    help: "rule counters in nft monitor trace lines: zero (a ruleset loaded just before the capture, the default) or the ruleset file's",
    choices: TRACE_COUNTERS,
  },
};

/** The options of a command that replays an INPUT (scenario or capture), in help order. */
export const REPLAY_OPTIONS: readonly SharedOptionName[] = ['scenario', 'node', 'host', 'seed', 'cpus', 'kernel', 'followKernel', 'writePcap', 'until', 'maxPackets', 'quiet', 'conntrackHashSeed'];

export interface SharedOptionSettings {
  /** Help text for this command, where the table's does not say what the option does here. */
  readonly help?: Partial<Record<SharedOptionName, string>>;
  /** Options the command cannot run without (commander refuses the command without them). */
  readonly required?: readonly SharedOptionName[];
}

/** Adds the named shared options to cmd, in the order given. */
export function addSharedOptions(cmd: Command, names: readonly SharedOptionName[], settings: SharedOptionSettings = {}): Command {
  for (const name of names) {
    const entry = TABLE[name];
    const option = new Option(entry.flags, settings.help?.[name] ?? entry.help);
    if (entry.parse) option.argParser(entry.parse);
    if (entry.choices) option.choices(entry.choices);
    if (settings.required?.includes(name)) option.makeOptionMandatory();
    cmd.addOption(option);
  }
  return cmd;
}

/** The shared options' values out of commander's record (its flags leave booleans unset when absent). */
export function sharedValues(raw: Record<string, unknown>): SharedValues {
  return { ...(raw as Partial<SharedValues>), quiet: raw.quiet === true, json: raw.json === true, color: raw.color !== false };
}
