/** One buffered writer for all output (design.md §8): never a console.log per line. */
import { writeSync } from 'node:fs';

/** UTF-16 units gathered before a write. */
const FLUSH_AT = 1 << 16;

export class Output {
  /** Lines not written yet, as one (rope) string: cheaper than joining an array of them. */
  private pending = '';
  private readonly buffer = Buffer.allocUnsafe(FLUSH_AT * 3 + (1 << 16));

  constructor(private readonly fd: number) {}

  line(text: string): void {
    this.write(text + '\n');
  }

  /** Text with its own newlines (commander's help). */
  write(text: string): void {
    this.pending += text;
    if (this.pending.length >= FLUSH_AT) this.flush();
  }

  flush(): void {
    const text = this.pending;
    if (text.length === 0) return;
    this.pending = '';
    // encoded into one reused buffer (UTF-8 takes at most 3 bytes per UTF-16 unit)
    const buf = text.length * 3 <= this.buffer.length ? this.buffer : Buffer.allocUnsafe(text.length * 3);
    const length = buf.write(text, 0, 'utf8');
    let off = 0;
    while (off < length) {
      try {
        off += writeSync(this.fd, buf, off, length - off);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        if ((e as NodeJS.ErrnoException).code === 'EPIPE') return;
        throw e;
      }
    }
  }
}

/** Collects lines in memory (for golden checks and tests). */
export class LineCollector {
  readonly lines: string[] = [];
  line(text: string): void {
    this.lines.push(text);
  }
}
