/**
 * Opening a capture and reading it, synchronously (chunk-reader.ts says why), with the
 * operating system's refusals (missing file, permission, a directory) turned into InputErrors
 * naming the file, so a bad path is a one-line message and exit 2 rather than a stack trace.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { InputError } from '../errors.js';
import { readError, statInput } from '../fs-refusal.js';

/** Runs `body` on the open file and closes it, however `body` ends. */
export function withCaptureFd<T>(path: string, body: (fd: number) => T): T {
  const fd = openCapture(path);
  try {
    return body(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Refuses a capture that is not a regular file, before anything opens it: opening a pipe waits
 * for a writer (a second open of a drained one for ever), and a capture is read more than once
 * and by position (the replay reads its records again: trailing-reader.ts).
 */
export function requireCaptureFile(path: string): void {
  const stat = statInput(path);
  if (stat === undefined || stat.isFile() || stat.isDirectory()) return; // the open says what is wrong with those
  if (stat.isFIFO()) throw new InputError({ file: path }, 'a pipe: natsim reads a capture from a file, more than once; save it to one first (tcpdump -w FILE.pcap)');
  throw new InputError({ file: path }, 'not a regular file: natsim reads a capture from a file, more than once');
}

/** The file opened for reading; a refusal is an InputError naming it. */
export function openCapture(path: string): number {
  requireCaptureFile(path);
  try {
    return openSync(path, 'r');
  } catch (err) {
    throw readError(path, err);
  }
}

/** Up to `length` bytes from the start of the file; fewer only when the file is shorter. */
export function readHead(path: string, fd: number, length: number): Buffer {
  const head = Buffer.alloc(length);
  return head.subarray(0, readFully(path, fd, head, 0, length, 0));
}

/** Reads into `into[at, at + length)` from file byte `position` until full or the file ends; returns how many came. */
export function readFully(path: string, fd: number, into: Uint8Array, at: number, length: number, position: number): number {
  let got = 0;
  try {
    while (got < length) {
      const n = readSync(fd, into, at + got, length - got, position + got);
      if (n === 0) break;
      got += n;
    }
  } catch (err) {
    throw readError(path, err);
  }
  return got;
}

