/**
 * Runs an input — a scenario file, or a capture with the scenario or node snapshot that
 * describes its host — with a trace sink, and reports what happened. Shared by every command.
 */
import { existsSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { InputError } from '../errors.js';
import type { Host } from '../host/host.js';
import { loadScenario } from '../scenario/load.js';
import type { TraceSink } from '../trace/events.js';
import type { LineSink } from '../trace/sinks.js';
import { replayCapture, type ReplayResult } from '../world/capture-replay.js';
import { World } from '../world/world.js';
import { boundHeapGrowth } from '../world/heap-growth.js';
import { openCaptureOut } from './write-pcap.js';
import { ClockOrigin } from '../capture/clock-origin.js';
import { captureProgress } from './progress.js';
import type { SharedValues } from './options.js';
import { openNode } from './node-input.js';
import { ADDR_FILE, isNodeFolder, nodeScenario } from '../node/snapshot.js';
import { UsageError } from './usage-error.js';
import { requireFile } from './input-file.js';
import { refuseCompressedFile } from '../compression.js';
import { requireCaptureFile } from '../capture/capture-file.js';
import type { ScenarioSpec } from '../scenario/spec.js';
import type { FateProbe } from '../netfilter/probe.js';
import type { LineStream } from './io.js';

/** What a run takes of the shared options (options.ts); every one may be absent. */
export type RunOptions = Partial<Pick<SharedValues, 'scenario' | 'node' | 'host' | 'seed' | 'cpus' | 'kernel' | 'followKernel' | 'writePcap' | 'until' | 'maxPackets' | 'quiet' | 'conntrackHashSeed'>> & {
  /** The run's stderr (main's CliIO): the node's notes, the capture's warnings, the progress bar. */
  readonly stderr: LineStream;
  /** Told the wall-clock time of virtual time 0 (a capture's first record). */
  readonly origin?: ClockOrigin;
  /** Told each traced host once it is built, before the run starts. */
  readonly onHost?: (host: Host) => void;
  /** A fate probe for each replayed host (explain, diff). */
  readonly probeFor?: (host: Host) => FateProbe;
  /** Changes the input's scenario before the run (diff's what-ifs): the spec and the hosts replayed. */
  readonly alter?: (spec: ScenarioSpec, hosts: readonly string[]) => ScenarioSpec;
  /** A capture's replay stops reading once this says so: nothing it would still make reaches anyone. */
  readonly stopWhen?: () => boolean;
};

export interface RunResult {
  /** The hosts that were traced (the replayed host for a capture). */
  readonly hosts: Host[];
  readonly replay: ReplayResult | null;
  readonly world: World | null;
  /** Virtual time (ns) when the run ended. */
  readonly endTime: number;
}

const CAPTURE_EXT = new Set(['.pcap', '.cap', '.pcapng']);

export function isCapture(file: string): boolean {
  return CAPTURE_EXT.has(extname(file).toLowerCase());
}

export async function runInput(input: string, options: RunOptions, sinkFor: (multiHost: boolean) => TraceSink | null): Promise<RunResult> {
  requireFile(input);
  if (isCapture(input)) requireCaptureFile(input);
  refuseCompressedFile(input);
  if (options.node !== undefined && options.scenario !== undefined) throw new UsageError('give --node or --scenario, not both: each describes the host the capture was taken on');
  if (options.node !== undefined && !isCapture(input)) throw new UsageError(`--node describes the host of a capture (.pcap, .pcapng); ${input} is a scenario, which has its hosts`);
  if (options.scenario !== undefined && !isCapture(input)) throw new UsageError(`--scenario describes the host of a capture (.pcap, .pcapng); ${input} is a scenario, which has its hosts`);
  const origin = options.origin ?? new ClockOrigin();
  const out = options.writePcap ? openCaptureOut(options.writePcap, origin) : null;
  try {
    if (isCapture(input)) {
      const given = captureHost(input, options);
      const replayed = [options.host ?? given.trace[0] ?? given.hosts[0]?.name ?? ''];
      const spec = withConntrackHashSeed(options.alter ? options.alter(given, replayed) : given, replayed, options.conntrackHashSeed);
      const progress = captureProgress(input, options.quiet === true, options.stderr.terminal);
      try {
        const replay = await replayCapture(input, spec, { host: options.host, seed: options.seed, cpus: options.cpus, kernel: options.kernel, followKernel: options.followKernel, sink: sinkFor(false), probeFor: options.probeFor, tap: out?.tap, until: options.until, maxPackets: options.maxPackets, progress: progress?.report, origin, onHost: options.onHost, warn: warnOn(options.stderr), stop: options.stopWhen });
        return { hosts: [replay.host], replay, world: null, endTime: replay.endTime };
      } finally {
        progress?.stop();
      }
    }
    // a long run list is read in slices, each garbage once read: let V8 collect near what is alive
    boundHeapGrowth();
    const scenario = loadScenario(input);
    const traced = options.host ? [options.host] : scenario.trace;
    const spec = withConntrackHashSeed(options.alter ? options.alter(scenario, traced) : scenario, traced, options.conntrackHashSeed);
    const world = new World(spec, { seed: options.seed, cpus: options.cpus, kernel: options.kernel, trace: traced, sink: sinkFor(traced.length > 1), probeFor: options.probeFor, tap: out?.tap });
    for (const name of traced) options.onHost?.(world.hosts.get(name)!);
    world.run(Math.min(options.until ?? Number.MAX_SAFE_INTEGER, spec.until ?? Number.MAX_SAFE_INTEGER), options.maxPackets);
    return { hosts: traced.map((n) => world.hosts.get(n)!), replay: null, world, endTime: world.queue.now };
  } finally {
    out?.close();
  }
}

/**
 * The capture's host: --node DIR, --scenario FILE, else x.yaml beside x.pcap, else the folder
 * the capture is in when it is a node snapshot (natsim snapshot DIR, then tcpdump -w DIR/x.pcap).
 */
function captureHost(capture: string, options: RunOptions): ScenarioSpec {
  if (options.node !== undefined) return nodeScenario(openNode(options.node, options.stderr), options.seed);
  if (options.scenario !== undefined) return loadScenario(requireFile(options.scenario));
  const beside = capture.slice(0, capture.length - extname(capture).length) + '.yaml';
  if (existsSync(beside)) return loadScenario(beside);
  if (isNodeFolder(dirname(capture))) return nodeScenario(openNode(dirname(capture), options.stderr), options.seed);
  throw new InputError({ file: capture }, `a capture needs the host it was taken on: give --node DIR or --scenario FILE, or put ${beside} or a node snapshot (${ADDR_FILE}, …) beside it`);
}

/** What the replay does with an odd capture, as a warning line on the run's stderr. */
export function warnOn(stderr: LineSink): (line: string) => void {
  return (line) => stderr.line(`natsim: warning: ${line}`);
}

/**
 * --conntrack-hash-seed N: the key of the traced hosts' conntrack hash (nf_conntrack_hash_rnd,
 * random per boot and in no recording), which decides conntrack -L's order; over a scenario's
 * `conntrack-hash-seed`.
 */
export function withConntrackHashSeed(spec: ScenarioSpec, hosts: readonly string[], seed: number | undefined): ScenarioSpec {
  if (seed === undefined) return spec;
  return { ...spec, hosts: spec.hosts.map((h) => (hosts.includes(h.name) ? { ...h, conntrackHashSeed: seed } : h)) };
}
