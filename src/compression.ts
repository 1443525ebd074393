/**
 * Compressed files given where natsim reads a capture or a text: recognised by their magic
 * numbers (not their names, so `x.pcap.gz` and a gzip'd file named `x.pcap` alike) and refused
 * by name, with the command that unpacks them. (bzip2's magic, "BZh", is text, so it is not guessed.)
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { InputError } from './errors.js';
import { statInput } from './fs-refusal.js';

const FORMATS: readonly { readonly name: string; readonly magic: readonly number[]; readonly unpack: string }[] = [
  { name: 'gzip', magic: [0x1f, 0x8b], unpack: 'gunzip -k' },
  { name: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd], unpack: 'unzstd' },
  { name: 'xz', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], unpack: 'unxz -k' },
  { name: 'lz4', magic: [0x04, 0x22, 0x4d, 0x18], unpack: 'unlz4' },
];

/** The longest magic number above: how many bytes of a file's head to look at. */
export const COMPRESSION_MAGIC_BYTES = 6;

/** An InputError naming the compression when the file's first bytes are a compressed format's. */
export function refuseCompressed(file: string, head: Uint8Array): void {
  const f = FORMATS.find((x) => x.magic.length <= head.length && x.magic.every((b, i) => head[i] === b));
  if (f) throw new InputError({ file }, `${f.name}-compressed; natsim reads files uncompressed: unpack it first (${f.unpack} ${file}) and give the unpacked file`);
}

/**
 * refuseCompressed on a file's first bytes, read here (a capture, before its reader opens it).
 * Only a regular file: a pipe's bytes, once read, are gone for the reader that comes next
 * (readTextInput judges a text's head as it reads it).
 */
export function refuseCompressedFile(file: string): void {
  if (statInput(file)?.isFile() !== true) return;
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return; // the reader says why it cannot be opened
  }
  try {
    const head = new Uint8Array(COMPRESSION_MAGIC_BYTES);
    refuseCompressed(file, head.subarray(0, readSync(fd, head, 0, head.length, 0)));
  } catch (e) {
    if (e instanceof InputError) throw e;
  } finally {
    closeSync(fd);
  }
}
