/**
 * /proc/net/igmp (igmp_mc_seq_show, net/ipv4/igmp.c): the IPv4 groups each device is in — a
 * line per device ("IDX\tNAME : COUNT QUERIER") and under it a line per group
 * ("\t\t\t\tGROUP USERS TIMER\t\tREPORTER"), GROUP being the __be32 printed as a host-order
 * %08X: on a little-endian machine (x86, arm64) its bytes read backwards — 010000E0 is
 * 224.0.0.1.
 */
import { InputError } from '../errors.js';
import { formatIpv4, ipv4IsMulticast } from '../packet/ipv4-addr.js';
import { readTextInput } from '../text-input.js';

const DEVICE_LINE = /^(\d+)\t(\S+)\s*:\s*(\d+)\s+(V[123])\s*$/;
const GROUP_LINE = /^\t+([0-9A-Fa-f]{8})\s+\d+\s+\d:[0-9A-Fa-f]+\s+\d+\s*$/;

/** The groups of each device, by name, in the file's order. */
export function readIgmpGroups(file: string): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  let device: number[] | null = null;
  readTextInput(file)
    .split('\n')
    .forEach((line, i) => {
      if (i === 0 || line === '') return; // the header
      const dev = DEVICE_LINE.exec(line);
      if (dev) {
        device = [];
        groups.set(dev[2]!, device);
        return;
      }
      const group = GROUP_LINE.exec(line);
      if (!group) throw new InputError({ file, line: i + 1, col: 1 }, 'not a line of /proc/net/igmp (a device "IDX\\tNAME : COUNT Vn", or a group "\\t\\t\\t\\tHEX8 USERS T:HEX REPORTER")');
      if (device === null) throw new InputError({ file, line: i + 1, col: 1 }, 'a group before any device line');
      const addr = littleEndianGroup(group[1]!);
      if (!ipv4IsMulticast(addr)) throw new InputError({ file, line: i + 1, col: 1 }, `${group[1]} reads as ${formatIpv4(addr)}, not a group (natsim reads the file as a little-endian machine wrote it)`);
      device.push(addr);
    });
  return groups;
}

/** The address a little-endian kernel printed as %08X of its __be32. */
function littleEndianGroup(hex: string): number {
  const v = parseInt(hex, 16);
  return (((v & 0xff) << 24) | (((v >>> 8) & 0xff) << 16) | (((v >>> 16) & 0xff) << 8) | (v >>> 24)) >>> 0;
}
