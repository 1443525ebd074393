/** /proc/net/igmp as a node snapshot's igmp.txt (node/igmp.ts): the groups each device is in. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readIgmpGroups } from '../../src/node/igmp.js';
import { formatIpv4 } from '../../src/packet/ipv4-addr.js';
import { InputError } from '../../src/errors.js';
import { tempDir } from '../cli/helpers.js';

const HEADER = 'Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n';

function igmpFile(text: string): string {
  const file = join(tempDir(), 'igmp.txt');
  writeFileSync(file, text);
  return file;
}

describe('readIgmpGroups', () => {
  it('reads the recorded file: eth1 in 239.1.1.1 and 224.0.0.1, the others in 224.0.0.1 (the bytes of a little-endian machine)', () => {
    const groups = readIgmpGroups('fixtures/kernel/multicast-router/igmp.txt');
    expect(Object.fromEntries([...groups].map(([dev, list]) => [dev, list.map(formatIpv4)]))).toEqual({
      lo: ['224.0.0.1'],
      eth1: ['239.1.1.1', '224.0.0.1'],
      eth0: ['224.0.0.1'],
    });
  });

  it('names the line of something that is neither a device nor a group line', () => {
    const file = igmpFile(`${HEADER}2\teth1      :     2      V3\n\t\t\t\t010000E0     1 0:00000000\t\t0\nnonsense\n`);
    expect(() => readIgmpGroups(file)).toThrow(InputError);
    expect(() => readIgmpGroups(file)).toThrow(/igmp\.txt:4:1: not a line of \/proc\/net\/igmp/);
  });

  it('refuses a group line before any device, and a group that does not read as 224.0.0.0/4', () => {
    expect(() => readIgmpGroups(igmpFile(`${HEADER}\t\t\t\t010000E0     1 0:00000000\t\t0\n`))).toThrow(/:2:1: a group before any device line/);
    // E0000001 is 224.0.0.1 written big-endian: read little-endian it is 1.0.0.224
    expect(() => readIgmpGroups(igmpFile(`${HEADER}2\teth1      :     1      V3\n\t\t\t\tE0000001     1 0:00000000\t\t0\n`))).toThrow(/E0000001 reads as 1\.0\.0\.224, not a group/);
  });
});
