/**
 * Runs an input — a scenario file, or a capture with the scenario that describes its host —
 * with a trace sink, and reports what happened. Shared by every command.
 */
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { InputError } from '../errors.js';
import type { Host } from '../host/host.js';
import { loadScenario } from '../scenario/load.js';
import type { TraceSink } from '../trace/events.js';
import { replayCapture, type ReplayResult } from '../world/capture-replay.js';
import { World } from '../world/world.js';
import { openCaptureOut } from './write-pcap.js';
import { ClockOrigin } from '../capture/clock-origin.js';
import { captureProgress } from './progress.js';
import type { KernelVersion } from '../kernel/profile.js';

export interface RunOptions {
  readonly scenario?: string;
  readonly host?: string;
  readonly seed?: number;
  readonly cpus?: number;
  /** --kernel: the Linux version to behave as, over the scenario's `kernel`. */
  readonly kernel?: KernelVersion;
  /** commander's --no-follow-kernel */
  readonly followKernel?: boolean;
  /** --write-pcap FILE */
  readonly writePcap?: string;
  /** --until: stop at this virtual time (ns). */
  readonly until?: number;
  /** --max-packets: stop after this many packets in. */
  readonly maxPackets?: number;
  /** --quiet: no progress bar. */
  readonly quiet?: boolean;
  /** Told the wall-clock time of virtual time 0 (a capture's first record). */
  readonly origin?: ClockOrigin;
}

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

/** x.pcap picks up x.yaml beside it when no --scenario is given. */
export function scenarioForCapture(file: string, explicit: string | undefined): string {
  if (explicit) return explicit;
  const beside = file.slice(0, file.length - extname(file).length) + '.yaml';
  if (!existsSync(beside)) throw new InputError({ file }, `a capture needs a scenario describing the host: give --scenario FILE or put ${beside} beside it`);
  return beside;
}

export async function runInput(input: string, options: RunOptions, sinkFor: (multiHost: boolean) => TraceSink | null): Promise<RunResult> {
  if (!existsSync(input)) throw new InputError({ file: input }, 'no such file');
  const origin = options.origin ?? new ClockOrigin();
  const out = options.writePcap ? openCaptureOut(options.writePcap, origin) : null;
  try {
    if (isCapture(input)) {
      const spec = loadScenario(scenarioForCapture(input, options.scenario));
      const progress = captureProgress(input, options.quiet === true);
      try {
        const replay = await replayCapture(input, spec, { host: options.host, seed: options.seed, cpus: options.cpus, kernel: options.kernel, followKernel: options.followKernel, sink: sinkFor(false), tap: out?.tap, until: options.until, maxPackets: options.maxPackets, progress: progress?.report, origin });
        return { hosts: [replay.host], replay, world: null, endTime: replay.endTime };
      } finally {
        progress?.stop();
      }
    }
    const spec = loadScenario(input);
    const traced = options.host ? [options.host] : spec.trace;
    const world = new World(spec, { seed: options.seed, cpus: options.cpus, kernel: options.kernel, trace: traced, sink: sinkFor(traced.length > 1), tap: out?.tap });
    world.run(Math.min(options.until ?? Number.MAX_SAFE_INTEGER, spec.until ?? Number.MAX_SAFE_INTEGER), options.maxPackets);
    return { hosts: traced.map((n) => world.hosts.get(n)!), replay: null, world, endTime: world.queue.now };
  } finally {
    out?.close();
  }
}
