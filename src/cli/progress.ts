/**
 * The progress bar a long replay shows on stderr (cli-progress): bytes of the capture read,
 * packets fed, packets per second and the time left. Only on a terminal, only once a run has
 * taken a second (short runs stay silent), and never with --quiet; it is erased when done so
 * that the output above it stays as it was.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { SingleBar } from 'cli-progress';

/** Called as records are fed: the byte offset reached in the file and the packets fed so far. */
export type ProgressReport = (offset: number, packets: number) => void;

export interface Progress {
  readonly report: ProgressReport;
  stop(): void;
}

const SHOW_AFTER_MS = 1000;

/** `terminal`: the run's stderr when it is one (CliStream.terminal). */
export function captureProgress(file: string, quiet: boolean, terminal: NodeJS.WriteStream | null): Progress | null {
  if (quiet || terminal === null) return null;
  const total = statSync(file).size;
  const started = Date.now();
  let bar: SingleBar | null = null;
  return {
    report(offset, packets) {
      const elapsed = Date.now() - started;
      if (!bar) {
        if (elapsed < SHOW_AFTER_MS) return;
        bar = new SingleBar({
          format: `${basename(file)} [{bar}] {percentage}% | {packets} packets | {rate} packets/s | ETA {eta_formatted}`,
          stream: terminal,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
        });
        bar.start(total, 0, { packets: '0', rate: '0' });
      }
      bar.update(offset, { packets: packets.toLocaleString('en-US'), rate: Math.round((packets * 1000) / elapsed).toLocaleString('en-US') });
    },
    stop() {
      bar?.stop();
    },
  };
}
