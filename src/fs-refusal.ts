/**
 * The operating system's refusals of a file natsim was given (permission, a symlink loop, a
 * name too long), as InputErrors naming the file: a one-line message and exit 2, not an
 * internal error.
 */
import { statSync, type Stats } from 'node:fs';
import { InputError } from './errors.js';

/** An fs call's failure on `path` as an InputError: "cannot read: EACCES: permission denied". */
export function readError(path: string, err: unknown, doing: 'read' | 'write' = 'read'): InputError {
  const message = err instanceof Error ? err.message : String(err);
  // Node's fs messages end in ", open '<path>'" or ", read"; the path is already in the place.
  const fsError = err instanceof Error && (err as NodeJS.ErrnoException).code !== undefined;
  return new InputError({ file: path }, `cannot ${doing}: ${fsError ? message.split(', ')[0] : message}`);
}

/** stat(2) of a file natsim reads or writes: undefined when nothing is there, any other refusal a readError. */
export function statInput(path: string, doing: 'read' | 'write' = 'read'): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (err) {
    throw readError(path, err, doing);
  }
}
