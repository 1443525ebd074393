/**
 * `natsim verify CAPTURE --node DIR`: replay a capture taken with `tcpdump -i any` on a real
 * machine, on that machine as its node snapshot describes it, and check natsim sent what the
 * kernel sent — packet by packet, per interface. Exit 0 when every packet matches, 1 otherwise,
 * and 1 when no packet could be compared at all (a capture of ARP and NDP only): a pass on nothing is none.
 */
import { readCapture } from '../capture/index.js';
import { PacketDirection, type CaptureRecord } from '../capture/record.js';
import { ETH_P_IP, ETH_P_IPV6 } from '../capture/link-layer.js';
import { nodeScenario } from '../node/snapshot.js';
import type { LineSink } from '../trace/sinks.js';
import { replayCapture } from '../world/capture-replay.js';
import { openCaptureOut } from '../cli/write-pcap.js';
import { ClockOrigin } from '../capture/clock-origin.js';
import { requireFile } from '../cli/input-file.js';
import { openNode } from '../cli/node-input.js';
import type { SharedValues } from '../cli/options.js';
import { captureProgress } from '../cli/progress.js';
import { warnOn, withConntrackHashSeed, type RunOptions } from '../cli/run-input.js';
import { ReceivedIds, verifyPackets, type PacketResult } from './compare.js';

export type VerifyOptions = Pick<SharedValues, 'seed' | 'conntrackHashSeed' | 'kernel' | 'writePcap' | 'quiet' | 'json'> & Pick<RunOptions, 'stderr'> & { readonly node: string };

export async function verifyCommand(capture: string, options: VerifyOptions, out: LineSink): Promise<number> {
  requireFile(capture);
  const node = openNode(options.node, options.stderr);
  const spec = withConntrackHashSeed(nodeScenario(node, options.seed ?? 1), [node.host.name], options.conntrackHashSeed);
  const origin = new ClockOrigin();
  const written = options.writePcap ? openCaptureOut(options.writePcap, origin) : null;
  const progress = captureProgress(capture, options.quiet, options.stderr.terminal);
  const replay = await replayCapture(capture, spec, { keepPackets: true, followKernel: true, kernel: options.kernel, tap: written?.tap, progress: progress?.report, origin, warn: warnOn(options.stderr) }).finally(() => {
    progress?.stop();
    written?.close();
  });
  const received = await receivedIds(capture);
  const host = replay.host;
  // what natsim's timers sent after the capture's last record (a neighbour failing, say) has no
  // kernel side to compare: the capture had stopped
  const sent = replay.packets!.sent;
  const inCapture = sent.filter((p) => p.time <= replay.lastRecordTime);
  const afterCapture = sent.length - inCapture.length;
  const { results, summary } = verifyPackets({
    sent: inCapture,
    recorded: replay.packets!.recorded,
    received,
    devName: (ifindex) => host.deviceByIndex(ifindex)?.name ?? `if${ifindex}`,
  });
  // Every record natsim neither fed nor compared (ARP, IPv6, …): what a pass does not cover
  const notCompared = { total: [...replay.skipped.values()].reduce((a, b) => a + b, 0), byReason: Object.fromEntries(replay.skipped) };
  const nothing = summary.total === 0;
  const summaryLine = `verify: ${summary.matched}/${summary.total} packets match${nothing ? ': nothing was compared, so nothing is verified' : ''}`;
  if (options.json) {
    out.line(
      JSON.stringify({
        capture,
        node: node.dir,
        host: node.host.name,
        ruleset: node.rulesetFile,
        rulesetChoice: node.rulesetChoice,
        skipped: node.skipped,
        packets: results,
        summary: { ...summary, notCompared, afterCapture, line: summaryLine },
      }),
    );
  } else {
    out.line(`node ${node.host.name} (${node.dir}): ${node.rulesetChoice}`);
    for (const s of node.skipped) out.line(`  skipped ${s}`);
    out.line(`capture ${capture}: the kernel sent ${summary.kernelSent} IP packets, natsim ${summary.natsimSent}`);
    for (const r of results) if (r.outcome !== 'match') for (const line of describeResult(r)) out.line(line);
    const tolerated = results.filter((r) => r.outcome === 'match' && r.note !== null);
    if (tolerated.length > 0) out.line(`(${tolerated.length} matched although a value the kernel chose itself differs: ${[...new Set(tolerated.map((r) => r.note))].join('; ')})`);
    if (summary.fromCapture > 0) out.line(`(${summary.fromCapture} of the matches are the node's own packets, taken from the capture and fed at LOCAL_OUT: they check conntrack and NAT on the way out, not that natsim would have made them)`);
    if (notCompared.total > 0) out.line(`not compared: ${notCompared.total} record${notCompared.total === 1 ? '' : 's'} (${[...replay.skipped].map(([why, n]) => `${n} × ${why}`).join(', ')})`);
    if (afterCapture > 0) out.line(`not compared: ${afterCapture} packet${afterCapture === 1 ? '' : 's'} natsim sent after the capture's last record (its timers went on; the capture had stopped)`);
    out.line(summaryLine);
  }
  return !nothing && summary.matched === summary.total ? 0 : 1;
}

function describeResult(r: PacketResult): string[] {
  const where = `${r.dev} (if ${r.ifindex})`;
  switch (r.outcome) {
    case 'missing':
      return [`missing  ${where} kernel #${r.kernel!.index} at ${r.kernel!.time.toFixed(6)}s: ${r.kernel!.summary} — natsim did not send it`];
    case 'extra':
      return [`extra    ${where} natsim #${r.natsim!.index} at ${r.natsim!.time.toFixed(6)}s: ${r.natsim!.summary} — the kernel did not send it`];
    case 'differs':
      return [
        `differs  ${where} kernel #${r.kernel!.index} / natsim #${r.natsim!.index} at ${r.kernel!.time.toFixed(6)}s: ${r.kernel!.summary}`,
        ...r.differences.map((d) => `           ${d.field}: kernel ${d.kernel}, natsim ${d.natsim}`),
      ];
    default:
      return [];
  }
}

/** The (protocol, IP id) of every IPv4 packet, (next header, flow label) of every IPv6 one, the capture shows arriving, with its time. */
async function receivedIds(file: string): Promise<ReceivedIds> {
  const ids = new ReceivedIds();
  let start: number | null = null;
  await readCapture(file, (r: CaptureRecord) => {
    const t = r.sec * 1e9 + r.nsec;
    start ??= t;
    if ((r.protocol !== ETH_P_IP && r.protocol !== ETH_P_IPV6) || r.direction === PacketDirection.Outgoing) return;
    ids.add(t - start, r.payload);
  });
  return ids;
}
