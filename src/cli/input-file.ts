/**
 * The files a user names on the command line, checked before anything reads them: a missing
 * file or a folder where a file belongs is said in words, not as ENOENT or EISDIR.
 */
import { InputError } from '../errors.js';
import { statInput } from '../fs-refusal.js';

/** The path, when it is a file natsim can open; an InputError naming it otherwise. */
export function requireFile(path: string): string {
  const stat = statInput(path);
  if (stat === undefined) throw new InputError({ file: path }, 'no such file');
  if (stat.isDirectory()) throw new InputError({ file: path }, 'is a folder, not a file');
  return path;
}

/** A path to write to (made or replaced), refused when it is a folder. */
export function requireOutputFile(path: string): string {
  if (statInput(path, 'write')?.isDirectory()) throw new InputError({ file: path }, 'is a folder: give a file name to write to');
  return path;
}
