/**
 * The natsim command line: one commander program, one file per command. Exit codes:
 * 0 success, 1 a check or verification found differences, 2 bad input or usage, 70 a bug.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { InputError } from '../errors.js';
import { Output } from '../trace/output.js';
import { TRACE_STYLES, type TraceStyle } from '../trace/sinks.js';
import { TRACE_COUNTERS, type TraceCounters } from '../trace/nft-rule-listing.js';
import { checkCommand } from './check.js';
import { statsCommand } from './stats.js';
import { conntrackCommand } from './conntrack.js';
import { ipvsCommand } from './ipvs.js';
import { lintCommand } from './lint.js';
import { snapshotCommand } from './snapshot.js';
import { traceCommand } from './trace.js';
import { verifyCommand } from '../verify/verify-command.js';
import { DEFAULT_KERNEL, isKernelVersion, KERNEL_VERSIONS, type KernelVersion } from '../kernel/profile.js';

const EXIT_INPUT = 2;
const EXIT_BUG = 70;

function integer(min: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min) throw new InvalidArgumentError(`expected a whole number ≥ ${min}`);
    return Number(value);
  };
}

/** Options every replaying command takes. */
function withRunOptions(cmd: Command): Command {
  return cmd
    .option('--scenario <file>', 'topology and rules of the host a capture was taken on (default: the capture name with .yaml)')
    .option('--host <name>', 'which host to trace or replay on (default: the scenario\'s "trace")')
    .option('--seed <n>', 'seed for every random choice (default: the scenario\'s seed)', integer(0))
    .option('--cpus <n>', 'CPUs that process packets (conntrack -S has a line per CPU)', integer(1))
    .option('--kernel <version>', `Linux version to behave as, over the scenario's "kernel" (${KERNEL_VERSIONS.join(', ')}; default ${DEFAULT_KERNEL.version})`, kernelVersion)
    .option('--no-follow-kernel', "with a capture: draw random NAT ports from the seed instead of taking the kernel's port from the capture where the rule allows it")
    .option('--write-pcap <file>', 'write every packet in and out of the traced host as a tcpdump -i any capture (LINUX_SLL2)')
    .option('--until <time>', 'stop at this virtual time (e.g. 30s, 500ms): a scenario\'s clock, or the capture\'s time since its first record', duration)
    .option('--max-packets <n>', 'stop after this many packets: the capture\'s records fed, or the packets the scenario\'s hosts receive', integer(1))
    .option('--quiet', 'no progress bar (one is shown on a terminal when a capture takes more than a second)');
}

function kernelVersion(value: string): KernelVersion {
  if (!isKernelVersion(value)) throw new InvalidArgumentError(`natsim has profiles for Linux ${KERNEL_VERSIONS.join(', ')}`);
  return value;
}

/** "30s", "1.5s", "200ms", "10us" or a number of seconds, in nanoseconds. */
function duration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|ms|us|ns)?$/.exec(value);
  if (!m) throw new InvalidArgumentError('expected a duration such as 30s, 1.5s or 200ms');
  return Math.round(Number(m[1]) * { s: 1e9, ms: 1e6, us: 1e3, ns: 1 }[(m[2] ?? 's') as 's' | 'ms' | 'us' | 'ns']);
}

export function buildProgram(run: (code: Promise<number>) => void): Command {
  const program = new Command('natsim')
    .description('Show, packet by packet, what Linux netfilter connection tracking and NAT do.\nINPUT is a scenario (.yaml) or a capture (.pcap, with its scenario beside it).')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  withRunOptions(program.command('trace').argument('<input>', 'scenario (.yaml) or capture (.pcap)'))
    .description('replay INPUT and print what every hook did, in the style of kernel debug traces')
    .addOption(new Option('--style <style>', 'kernel (NF-CORE lines), masq (before/after nat), json').choices(TRACE_STYLES as string[]).default('kernel'))
    .option('--json', 'NDJSON events (same as --style json)')
    .option('--no-color', 'no colour even on a terminal (NO_COLOR is honoured too)')
    .addOption(new Option('--trace-counters <from>', "rule counters in nft monitor trace lines: zero (a ruleset loaded just before the capture) or the ruleset file's").choices(TRACE_COUNTERS as string[]).default('zero'))
    .action((input: string, o: Record<string, unknown>) => run(traceCommand(input, { ...o, style: (o.json ? 'json' : o.style) as TraceStyle, color: o.color !== false, traceCounters: o.traceCounters as TraceCounters })));

  withRunOptions(program.command('stats').argument('<input>', 'scenario (.yaml) or capture (.pcap)'))
    .description('replay INPUT without tracing and print conntrack -S style per-CPU counters')
    .option('--plain', 'exactly the text conntrack -S prints (the default when not on a terminal)')
    .option('--json', 'one JSON object per host')
    .action((input: string, o: Record<string, unknown>) => run(statsCommand(input, { ...o, plain: o.plain === true, json: o.json === true }, stdout())));

  withRunOptions(program.command('conntrack').argument('<input>', 'scenario (.yaml) or capture (.pcap)'))
    .description('replay INPUT and list the conntrack table at the end, as conntrack -L does (--events: as conntrack -E)')
    .option('--events', 'print NEW/UPDATE/DESTROY events as they happen, with virtual timestamps')
    .option('--json', 'one JSON object per entry or event')
    .action((input: string, o: Record<string, unknown>) => run(conntrackCommand(input, { ...o, events: o.events === true, json: o.json === true }, stdout())));

  withRunOptions(program.command('ipvs').argument('<input>', 'scenario (.yaml) or capture (.pcap)'))
    .description('replay INPUT and list the IPVS virtual services at the end, as ipvsadm -Ln does (--connection: the connections, as ipvsadm -Lnc)')
    .option('--connection', 'list the IPVS connection entries with their state and seconds left')
    .action((input: string, o: Record<string, unknown>) => run(ipvsCommand(input, { ...o, connection: o.connection === true }, stdout())));

  program
    .command('lint')
    .argument('<rulesets...>', 'iptables-save or nft ruleset files')
    .description('list every rule natsim cannot evaluate or the kernel would refuse, with line and column (exit 1 if any)')
    .action((files: string[]) => run(Promise.resolve(lintCommand(files, stdout()))));

  program
    .command('check')
    .argument('[paths...]', 'files or folders holding .golden files (default: fixtures)')
    .description('run every input that has a .golden file beside it and diff the output (exit 1 on mismatch)')
    .option('--update', 'rewrite the golden files with the new output')
    .action((paths: string[], o: { update?: boolean }) => run(checkCommand(paths, o.update === true, stdout())));

  program
    .command('snapshot')
    .argument('<dir>', 'folder to write the snapshot files to')
    .option('--netns <name>', 'snapshot this network namespace (ip netns exec NAME …)')
    .description('write a node snapshot of this machine (ip -j link/addr/route, sysctl -a, nft list ruleset, iptables-save, ipset save) for natsim verify --node')
    .action((dir: string, o: { netns?: string }) => run(Promise.resolve(snapshotCommand(dir, o.netns ?? null, stdout()))));

  program
    .command('verify')
    .argument('<capture>', 'capture taken with tcpdump -i any on the machine')
    .requiredOption('--node <dir>', 'node snapshot of that machine (ip-addr.json, ip-route.json, sysctl.txt, nft-ruleset.txt and/or iptables-save.txt)')
    .option('--seed <n>', 'seed for the random choices natsim cannot take from the capture', integer(0))
    .option('--json', 'one JSON object: every packet compared, and the summary')
    .option('--write-pcap <file>', "write natsim's packets in and out of the node as a tcpdump -i any capture (LINUX_SLL2)")
    .description("replay CAPTURE on the node it was taken on and check natsim sent what the kernel sent, packet by packet (exit 1 if not)")
    .action((capture: string, o: { node: string; seed?: number; json?: boolean; writePcap?: string }) => run(verifyCommand(capture, { node: o.node, seed: o.seed, json: o.json === true, writePcap: o.writePcap }, stdout())));
  return program;
}

let sharedOut: Output | null = null;
function stdout(): Output {
  sharedOut ??= new Output(1);
  return sharedOut;
}

export async function main(argv: readonly string[]): Promise<number> {
  let pending: Promise<number> | null = null;
  const program = buildProgram((p) => (pending = p));
  try {
    await program.parseAsync(argv as string[]);
    const code = pending ? await pending : 0;
    sharedOut?.flush();
    return code;
  } catch (e) {
    sharedOut?.flush();
    return reportError(e);
  }
}

function reportError(e: unknown): number {
  const err = e as { code?: string; exitCode?: number; message?: string };
  if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
    // commander has already printed help, version or the usage error
    return err.exitCode === 0 ? 0 : EXIT_INPUT;
  }
  if (e instanceof InputError) {
    process.stderr.write(`natsim: ${e.message}\n`);
    return EXIT_INPUT;
  }
  process.stderr.write(`natsim: internal error: ${err.message ?? String(e)}\n`);
  if (process.env.NATSIM_DEBUG) process.stderr.write(`${(e as Error).stack ?? ''}\n`);
  else process.stderr.write('natsim: this is a bug; run again with NATSIM_DEBUG=1 for details and report it\n');
  return EXIT_BUG;
}
