/**
 * The natsim command line: one commander program, one file per command. Exit codes:
 * 0 success, 1 a check or verification found differences, 2 bad input or usage, 70 a bug.
 * A command's module is imported when the command runs, not before: `natsim --version` or a
 * usage error then loads commander and this file only (issue 22: startup had been 0.28 s over
 * `node -e 0`, every module imported eagerly).
 */
import { Command, Option } from 'commander';
import { InputError } from '../errors.js';
import { TRACE_STYLES, type TraceStyle } from '../trace/styles.js';
import type { KernelVersion } from '../kernel/profile.js';
import { addSharedOptions, kernelVersion, REPLAY_OPTIONS, sharedValues } from './options.js';
import { COLOR_HELP, EXIT_CODES_HELP, helpAfter, NODE_HELP, SCENARIO_HELP } from './help.js';
import { UsageError } from './usage-error.js';
import { processIO, type CliIO, type CliStream } from './io.js';

const EXIT_INPUT = 2;
const EXIT_BUG = 70;
/** commander's help width where the stream is no terminal. */
const HELP_WIDTH = 80;

const INPUT = 'scenario (.yaml), or capture (.pcap, .pcapng) with --node, --scenario, a .yaml beside it, or in a node snapshot folder';

/** A command that replays INPUT: the shared replay options, then its own. */
function replayCommand(program: Command, name: string, description: string): Command {
  const cmd = program.command(name).argument('<input>', INPUT).description(description);
  return helpAfter(cmd, SCENARIO_HELP, NODE_HELP, EXIT_CODES_HELP);
}

export function buildProgram(run: (code: Promise<number>) => void, io: CliIO): Command {
  const stdout = io.stdout;
  // every command's notes and warnings go to the run's stderr, never into its output
  const values = (o: Record<string, unknown>) => ({ ...sharedValues(o), stderr: io.stderr });
  const program = new Command('natsim')
    .description('Show, packet by packet, what Linux netfilter connection tracking and NAT do.\nINPUT is a scenario (.yaml) or a capture (.pcap, with --node DIR, its scenario beside it, or in a node snapshot folder).')
    .version('0.1.0')
    .configureOutput({
      // commander's usage errors as the one line every natsim error is; subcommands inherit all of it
      outputError: (text, write) => write(`natsim: ${text.replace(/^error: /, '').trimEnd()} (see --help)\n`),
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // help wraps at a terminal's width, else at commander's own default
      getOutHelpWidth: () => io.stdout.terminal?.columns ?? HELP_WIDTH,
      getErrHelpWidth: () => io.stderr.terminal?.columns ?? HELP_WIDTH,
    })
    .exitOverride();
  helpAfter(program, EXIT_CODES_HELP, COLOR_HELP);

  const trace = replayCommand(program, 'trace', 'replay INPUT and print what every hook did, in the style of kernel debug traces');
  addSharedOptions(trace, [...REPLAY_OPTIONS, 'json', 'color', 'traceCounters'], { help: { json: 'NDJSON events (same as --style json)' } })
    .addOption(new Option('--style <style>', 'kernel (NF-CORE lines), masq (before/after nat), json').choices(TRACE_STYLES as string[]).default('kernel'))
    .action((input: string, o: Record<string, unknown>) => {
      const v = values(o);
      run(import('./trace.js').then((m) => m.traceCommand(input, { ...v, style: v.json ? 'json' : (o.style as TraceStyle) }, stdout)));
    });
  helpAfter(trace, COLOR_HELP);

  const stats = replayCommand(program, 'stats', 'replay INPUT without tracing and print conntrack -S style per-CPU counters');
  addSharedOptions(stats, [...REPLAY_OPTIONS, 'json', 'color'], { help: { json: 'one JSON object per host', color: 'no colour in the table on a terminal (NO_COLOR=1 does the same)' } })
    .option('--plain', 'exactly the text conntrack -S prints (the default when not on a terminal)')
    .action((input: string, o: Record<string, unknown>) => run(import('./stats.js').then((m) => m.statsCommand(input, { ...values(o), plain: o.plain === true }, stdout))));
  helpAfter(stats, COLOR_HELP);

  const conntrack = replayCommand(program, 'conntrack', 'replay INPUT and list the conntrack table at the end, as conntrack -L does (--events: as conntrack -E)');
  addSharedOptions(conntrack, [...REPLAY_OPTIONS, 'json'], { help: { json: 'one JSON object per entry or event' } })
    .option('--events', 'print NEW/UPDATE/DESTROY events as they happen, with virtual timestamps')
    .addOption(new Option('-f, --family <family>', 'only entries of this family, as conntrack -f does (conntrack -L lists both)').choices(['ipv4', 'ipv6']))
    .action((input: string, o: Record<string, unknown>) =>
      run(import('./conntrack.js').then((m) => m.conntrackCommand(input, { ...values(o), events: o.events === true, family: (o.family as 'ipv4' | 'ipv6' | undefined) ?? null }, stdout))),
    );

  const explain = replayCommand(program, 'explain', 'replay INPUT and say, for every flow that did not complete, what happened and why, in the kernel\'s terms (summary first)');
  addSharedOptions(explain, [...REPLAY_OPTIONS, 'json'], { help: { json: 'one JSON object per host: the summary and every finding' } })
    .option('--flow <filter>', 'only flows matching every term: tcp|udp|icmp, ADDR, ADDR:PORT or :PORT (either end, before or after NAT)')
    .action((input: string, o: Record<string, unknown>) => run(import('./explain.js').then((m) => m.explainCommand(input, { ...values(o), flow: o.flow as string | undefined }, stdout))));

  const diff = replayCommand(program, 'diff', 'replay INPUT twice, as it is and changed, and report every flow whose fate changed and the counters that moved (exit 1 if any)');
  // --kernel is a change here; --write-pcap would have two runs to write
  addSharedOptions(diff, [...REPLAY_OPTIONS.filter((n) => n !== 'kernel' && n !== 'writePcap'), 'json'], { help: { json: 'one JSON object per changed flow (flow, before, after), then one with the counters' } })
    .option('--ruleset <file>', 'the second run uses this ruleset (nft or iptables-save) on the replayed host')
    .option('--sysctl <key=value>', 'the second run sets this sysctl on the replayed host (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--set-node <dir>', 'the second run replays the capture on this node snapshot')
    .addOption(new Option('--kernel <version>', 'the second run behaves as this Linux version').argParser(kernelVersion))
    .action((input: string, o: Record<string, unknown>) =>
      // --kernel is the second run's change, not the first run's kernel
      run(import('./diff.js').then((m) => m.diffCommand(input, { ...values(o), kernel: undefined, changes: { ruleset: o.ruleset as string | undefined, sysctl: o.sysctl as string[], setNode: o.setNode as string | undefined, kernel: o.kernel as KernelVersion | undefined } }, stdout))),
    );
  helpAfter(diff, 'Exit status: 0 nothing changed, 1 some flow or counter changed, 2 bad input or usage.');

  // --cpus: IPVS keeps no per-CPU state that ipvsadm shows;
  const ipvs = replayCommand(program, 'ipvs', 'replay INPUT and list the IPVS virtual services at the end, as ipvsadm -Ln does (--connection: the connections, as ipvsadm -Lnc)');
  // --conntrack-hash-seed: ipvsadm's listing has its own order, not conntrack's
  addSharedOptions(ipvs, REPLAY_OPTIONS.filter((name) => name !== 'cpus' && name !== 'conntrackHashSeed'))
    .option('--connection', 'list the IPVS connection entries with their state and seconds left')
    .action((input: string, o: Record<string, unknown>) => run(import('./ipvs.js').then((m) => m.ipvsCommand(input, { ...values(o), connection: o.connection === true }, stdout))));

  const report = replayCommand(program, 'report', 'replay INPUT and write one self-contained HTML page: the hook diagram with each packet\'s path, per-flow ladders, the conntrack table over time, the counters');
  addSharedOptions(report, REPLAY_OPTIONS)
    .requiredOption('-o, --output <file>', 'the HTML file to write (it opens offline: nothing is fetched)')
    .action((input: string, o: Record<string, unknown>) => run(Promise.all([import('./report.js'), import('../report/html/explain-findings.js')]).then(([m, e]) => m.reportCommand(input, { ...values(o), output: o.output as string }, stdout, e.explainFindings()))));

  const verify = program
    .command('verify')
    .argument('<capture>', 'capture taken with tcpdump -i any on the machine')
    .description("replay CAPTURE on the node it was taken on and check natsim sent what the kernel sent, packet by packet (exit 1 if not, or if no packet could be compared)");
  addSharedOptions(verify, ['node', 'seed', 'conntrackHashSeed', 'kernel', 'writePcap', 'quiet', 'json'], {
    required: ['node'],
    help: {
      node: 'node snapshot of that machine (natsim snapshot wrote it)',
      seed: 'seed for the random choices natsim cannot take from the capture',
      writePcap: "write natsim's packets in and out of the node as a tcpdump -i any capture (LINUX_SLL2; pcapng when FILE ends in .pcapng)",
      json: 'one JSON object: every packet compared, the records not compared, and the summary',
    },
  }).action((capture: string, o: Record<string, unknown>) => run(import('../verify/verify-command.js').then((m) => m.verifyCommand(capture, { ...values(o), node: o.node as string }, stdout))));
  helpAfter(verify, NODE_HELP, EXIT_CODES_HELP);

  const lint = program
    .command('lint')
    .argument('<files...>', 'iptables-save, ip6tables-save (known by its "# Generated by ip6tables-save" header) or nft ruleset files, or scenarios (.yaml: their inline rulesets and ruleset files)')
    .description('list every rule natsim cannot evaluate or the kernel would refuse, with line and column (exit 1 if any)')
    .action((files: string[]) => run(import('./lint.js').then((m) => m.lintCommand(files, stdout))));
  helpAfter(lint, EXIT_CODES_HELP);

  const check = program
    .command('check')
    .argument('[paths...]', 'files or folders holding .golden files (default: fixtures)')
    .description('run every input that has a .golden file beside it and diff the output (exit 1 on mismatch)')
    .option('--update', 'rewrite the golden files with the new output')
    .action((paths: string[], o: { update?: boolean }) => run(import('./check.js').then((m) => m.checkCommand(paths, o.update === true, stdout, io.stderr))));
  helpAfter(check, 'X.golden is the kernel-style trace of X.pcap or X.yaml beside it; X.STYLE.golden another --style; X.explain.golden natsim explain X; X.linux-V.golden runs as --kernel V.', EXIT_CODES_HELP);

  const snapshot = program
    .command('snapshot')
    .argument('<dir>', 'folder to write the snapshot files to (made if missing)')
    .option('--netns <name>', 'snapshot this network namespace (ip netns exec NAME …)')
    .description('write a node snapshot of this machine for --node (trace, stats, conntrack, ipvs, verify)')
    .action((dir: string, o: { netns?: string }) => run(import('./snapshot.js').then((m) => m.snapshotCommand(dir, o.netns ?? null, stdout))));
  helpAfter(snapshot, NODE_HELP, EXIT_CODES_HELP);
  return program;
}

/** One run of the command line on `io` (bin/natsim.js: the process's streams); its exit code. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  let pending: Promise<number> | null = null;
  const program = buildProgram((p) => (pending = p), io);
  try {
    await program.parseAsync(argv as string[]);
    const code = pending ? await pending : 0;
    return code;
  } catch (e) {
    return reportError(e, io.stderr);
  } finally {
    io.stdout.flush();
    io.stderr.flush();
  }
}

function reportError(e: unknown, stderr: CliStream): number {
  const err = e as { code?: string; exitCode?: number; message?: string };
  if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
    // commander has already printed help, version or the usage error (one line: configureOutput)
    return err.exitCode === 0 ? 0 : EXIT_INPUT;
  }
  if (e instanceof InputError || e instanceof UsageError) {
    stderr.line(`natsim: ${e.message}`);
    return EXIT_INPUT;
  }
  stderr.line(`natsim: internal error: ${err.message ?? String(e)}`);
  if (process.env.NATSIM_DEBUG) stderr.line((e as Error).stack ?? '');
  else stderr.line('natsim: this is a bug; run again with NATSIM_DEBUG=1 for details and report it');
  return EXIT_BUG;
}
