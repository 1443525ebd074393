/**
 * Every text input (scenario, ruleset, ipset and ipvs files, node snapshot files, lint targets)
 * is read here: in bounded chunks up to a size limit, so an endless stream (/dev/zero, a FIFO
 * nobody closes) or a huge file is refused by name instead of read until memory runs out.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { InputError } from './errors.js';
import { rememberText } from './text-columns.js';
import { refuseCompressed } from './compression.js';
import { identifyCapture } from './capture/pcap-header.js';

/**
 * The largest text input natsim reads: an iptables-save file this size (3 million short rules)
 * peaks under 900 MB. nft text has a lower limit of its own (rules/nft-script.ts).
 */
export const TEXT_INPUT_LIMIT_MB = 64;
const LIMIT = TEXT_INPUT_LIMIT_MB * 1024 * 1024;
const CHUNK = 1024 * 1024;
/** How the reason of a file that cannot be opened or read begins. */
export const CANNOT_READ = 'cannot read: ';

/** The file's text (UTF-8); an InputError naming the file when it cannot be read or is too large. */
export function readTextInput(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new InputError({ file }, `${CANNOT_READ}${(e as Error).message}`);
  }
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    // a pipe's read may give a few bytes at a time: the head is judged once it is long enough
    let headJudged = false;
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK);
      const n = readChunk(fd, chunk, file);
      if (n === 0) break;
      total += n;
      if (total > LIMIT) throw new InputError({ file }, `larger than ${TEXT_INPUT_LIMIT_MB} MB (natsim reads text inputs up to that size)`);
      chunks.push(chunk.subarray(0, n));
      if (!headJudged && total >= BINARY_HEAD_BYTES) {
        refuseBinary(file, Buffer.concat(chunks, total));
        headJudged = true;
      }
    }
    const whole = Buffer.concat(chunks, total);
    if (!headJudged) refuseBinary(file, whole);
    const text = whole.toString('utf8');
    rememberText(file, text);
    return text;
  } finally {
    closeSync(fd);
  }
}

/**
 * A compressed file, or a capture, where a text belongs: the input is named with what it is.
 * natsim tells a capture from a scenario by its name (.pcap, .pcapng, .cap), so a capture
 * without one (or piped in as /dev/stdin) would read as a scenario that is not YAML.
 */
function refuseBinary(file: string, head: Uint8Array): void {
  refuseCompressed(file, head);
  const format = identifyCapture(head);
  // pcapng's block type is "\n\r\r\n", which a text could begin with: its byte-order magic too
  if (format === 'pcapng' && !hasPcapngByteOrderMagic(head)) return;
  if (format !== undefined) throw new InputError({ file }, `a ${format} capture, not a text: natsim reads a capture from a file named .pcap, .pcapng or .cap (not from a pipe: it reads a capture more than once)`);
}

/** The bytes refuseBinary needs to tell a compressed file or a capture (pcapng's byte-order magic ends at 12). */
const BINARY_HEAD_BYTES = 12;

/** A section header block's byte-order magic, 0x1a2b3c4d in either order, after its type and length. */
function hasPcapngByteOrderMagic(head: Uint8Array): boolean {
  if (head.length < BINARY_HEAD_BYTES) return false;
  const bom = Buffer.from(head.buffer, head.byteOffset + 8, 4).readUInt32BE(0);
  return bom === 0x1a2b3c4d || bom === 0x4d3c2b1a;
}

function readChunk(fd: number, into: Buffer, file: string): number {
  try {
    return readSync(fd, into, 0, into.length, null);
  } catch (e) {
    throw new InputError({ file }, `${CANNOT_READ}${(e as Error).message}`);
  }
}
