/**
 * Opening a capture and reading its first bytes, with the operating system's refusals (missing
 * file, permission, a directory) turned into InputErrors naming the file, so a bad path is a
 * one-line message and exit 2 rather than a stack trace.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { InputError } from '../errors.js';

export async function openCapture(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    throw readError(path, err);
  }
}

/** Up to `length` bytes from the start of the file; fewer only when the file is shorter. */
export async function readHead(path: string, file: FileHandle, length: number): Promise<Buffer> {
  const head = Buffer.alloc(length);
  let filled = 0;
  try {
    while (filled < length) {
      const { bytesRead } = await file.read(head, filled, length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
  } catch (err) {
    throw readError(path, err);
  }
  return head.subarray(0, filled);
}

/** An I/O failure on `path` as an InputError ("cannot read: ENOENT: no such file or directory"). */
export function readError(path: string, err: unknown): InputError {
  const message = err instanceof Error ? err.message : String(err);
  // Node's fs messages end in ", open '<path>'" or ", read"; the path is already in the place.
  const fsError = err instanceof Error && (err as NodeJS.ErrnoException).code !== undefined;
  return new InputError({ file: path }, `cannot read: ${fsError ? message.split(', ')[0] : message}`);
}
