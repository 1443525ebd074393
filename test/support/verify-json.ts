/**
 * `natsim verify CAPTURE --node DIR --json` on a kernel recording: its exit code and the packets
 * it compared (the kernel's side and natsim's, each with its time and summary).
 */
import { natsim } from '../cli/helpers.js';

export interface VerifiedSide {
  readonly time: number;
  readonly summary: string;
}

export interface VerifiedPacket {
  readonly outcome: string;
  readonly kernel: VerifiedSide | null;
  readonly natsim: VerifiedSide | null;
}

export async function verifiedPackets(dir: string): Promise<{ readonly code: number; readonly packets: VerifiedPacket[] }> {
  const run = await natsim('verify', `${dir}/capture.pcap`, '--node', dir, '--json');
  return { code: run.code, packets: (JSON.parse(run.stdout) as { packets: VerifiedPacket[] }).packets };
}
