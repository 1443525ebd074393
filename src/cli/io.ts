/**
 * Where one run of the command line writes. bin/natsim.js runs it on the process's own stdout
 * and stderr (processIO); the tests run main() in their process with streams that keep the
 * text, where a spawned natsim cost 0.3–0.6 s of node start-up per case (issue 22).
 */
import { Output } from '../trace/output.js';
import type { LineSink } from '../trace/sinks.js';

export interface CliStream extends LineSink {
  /** Text as it comes, newlines included (commander's help, version and usage lines). */
  write(text: string): void;
  /** Writes out what is buffered; main calls it when the command is done. */
  flush(): void;
  /** The terminal this stream is, or null for a pipe, a file or memory: no colour, no progress bar, no terminal width. */
  readonly terminal: NodeJS.WriteStream | null;
  /** Whether the reader has closed the pipe (`natsim trace | head`): what is written now goes nowhere. */
  readonly readerGone: boolean;
}

/** What a command writes to: lines, and whether they go to a terminal (colour, width, progress bar). */
export type LineStream = Pick<CliStream, 'line' | 'terminal'>;

export interface CliIO {
  readonly stdout: CliStream;
  readonly stderr: CliStream;
}

/** A file descriptor of this process, buffered (stdout: the trace) or written at once (stderr: notes seen as they happen). */
class FdStream implements CliStream {
  private readonly out: Output;

  constructor(
    fd: number,
    readonly terminal: NodeJS.WriteStream | null,
    private readonly buffered: boolean,
  ) {
    this.out = new Output(fd);
  }

  line(text: string): void {
    this.out.line(text);
    if (!this.buffered) this.out.flush();
  }

  write(text: string): void {
    this.out.write(text);
    if (!this.buffered) this.out.flush();
  }

  flush(): void {
    this.out.flush();
  }

  get readerGone(): boolean {
    return this.out.readerGone;
  }
}

let processStreams: CliIO | null = null;

/** The process's stdout and stderr: one pair for the process, however many runs it makes. */
export function processIO(): CliIO {
  if (processStreams === null) {
    quietOnClosedPipe();
    const tty = (stream: NodeJS.WriteStream) => (stream.isTTY === true ? stream : null);
    processStreams = { stdout: new FdStream(1, tty(process.stdout), true), stderr: new FdStream(2, tty(process.stderr), false) };
  }
  return processStreams;
}

/**
 * A reader that stops early (`natsim --help | head`) closes the pipe: what was left to print is
 * nobody's, so the run ends quietly, as `yes | head` does, instead of with node's stack trace.
 * (Output's own writes take EPIPE as the end; this is for the progress bar's stream writes.)
 */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      process.exit(process.exitCode ?? 0);
    });
  }
}
