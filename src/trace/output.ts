/** One buffered writer for all output (design.md §8): never a console.log per line. */
import { writeSync } from 'node:fs';

/**
 * UTF-16 units of lines gathered, as one (rope) string, before they are encoded into the
 * buffer: cheaper than joining an array of them, and a short rope is encoded while its pieces
 * are still young and close together in memory (a long one is slower to walk, and costs the
 * garbage collector to keep).
 */
const ENCODE_AT = 1 << 12;
/** Bytes encoded before a write: one system call per 64 KiB. */
const WRITE_AT = 1 << 16;

export class Output {
  /** Lines not encoded yet. */
  private pending = '';
  /** Encoded bytes not written yet: room for WRITE_AT and one rope (UTF-8 takes at most 3 bytes per UTF-16 unit). */
  private readonly buffer = Buffer.allocUnsafe(WRITE_AT + 3 * ENCODE_AT + (1 << 16));
  private length = 0;
  /** The reader went away (EPIPE): what is left is nobody's, and is dropped. */
  private closed = false;

  constructor(private readonly fd: number) {}

  /** Whether the reader has gone (EPIPE): nothing written from now on reaches anyone. */
  get readerGone(): boolean {
    return this.closed;
  }

  line(text: string): void {
    this.write(text + '\n');
  }

  /** Text with its own newlines (commander's help). */
  write(text: string): void {
    this.pending += text;
    if (this.pending.length >= ENCODE_AT) this.encode();
  }

  flush(): void {
    this.encode();
    this.writeBytes(this.buffer, this.length);
    this.length = 0;
  }

  private encode(): void {
    const text = this.pending;
    this.pending = '';
    if (this.length + 3 * text.length > this.buffer.length) {
      this.writeBytes(this.buffer, this.length);
      this.length = 0;
      // a line too long for the buffer is encoded on its own
      if (3 * text.length > this.buffer.length) return this.writeBytes(Buffer.from(text, 'utf8'));
    }
    this.length += this.buffer.write(text, this.length, 'utf8');
    if (this.length >= WRITE_AT) {
      this.writeBytes(this.buffer, this.length);
      this.length = 0;
    }
  }

  /**
   * writeSync until all of bytes[0, length) is written. stdout may be a non-blocking pipe:
   * when it is full (EAGAIN) the reader is waited for, a millisecond at a time, not spun on.
   */
  private writeBytes(bytes: Buffer, length = bytes.length): void {
    let off = 0;
    while (off < length && !this.closed) {
      try {
        off += writeSync(this.fd, bytes, off, length - off);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') Atomics.wait(PAUSE, 0, 0, 1);
        else if (code === 'EPIPE') this.closed = true;
        else throw e;
      }
    }
  }
}

/** What Atomics.wait sleeps on; nothing wakes it, so each wait is a 1 ms pause. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** Collects lines in memory (for golden checks and tests). */
export class LineCollector {
  readonly lines: string[] = [];
  line(text: string): void {
    this.lines.push(text);
  }
}
