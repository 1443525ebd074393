/**
 * How many CPUs a node has, from its snapshot: `cpu-online.txt` (/sys/devices/system/cpu/online,
 * a cpulist such as "0-3,6") or `nproc.txt` (`nproc`, one number). conntrack -S prints a line
 * per possible CPU (ctnetlink_ct_stat_cpu_dump walks cpu_possible); on the recorded nodes the
 * possible and online CPUs are the same. Neither file: one CPU, as before snapshots had them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, type SourcePlace } from '../errors.js';
import { CPU_ONLINE_FILE, NPROC_FILE } from './snapshot.js';
import { readTextInput } from '../text-input.js';

/**
 * The most CPUs a kernel can have: CONFIG_NR_CPUS, at most 8192 (x86_64's MAXSMP, the value
 * Debian, Ubuntu and Fedora build with). Per-CPU conntrack statistics are kept for each.
 */
export const NR_CPUS = 8192;

export function readCpuCount(dir: string): number {
  const online = join(dir, CPU_ONLINE_FILE);
  if (existsSync(online)) return cpulistCount(online, readTextInput(online).trim());
  const nproc = join(dir, NPROC_FILE);
  if (!existsSync(nproc)) return 1;
  const text = readTextInput(nproc).trim();
  if (!/^[1-9]\d*$/.test(text)) throw new InputError({ file: nproc, line: 1 }, `expected the number nproc prints, not '${text.slice(0, 40)}'`);
  return withinNrCpus(Number(text), { file: nproc, line: 1 });
}

/** bitmap_parselist's format: comma-separated CPUs and ranges; the count is the highest + 1. */
function cpulistCount(file: string, text: string): number {
  let highest = -1;
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m || (m[2] !== undefined && Number(m[2]) < Number(m[1]))) throw new InputError({ file, line: 1 }, `expected a CPU list such as 0-3, not '${text}'`);
    highest = Math.max(highest, Number(m[2] ?? m[1]));
  }
  return withinNrCpus(highest + 1, { file, line: 1 });
}

/** A CPU count the kernel can have (NR_CPUS), or an InputError at `place`. */
export function withinNrCpus(n: number, place: SourcePlace): number {
  if (n > NR_CPUS) throw new InputError(place, `${n} CPUs: the kernel has at most ${NR_CPUS} (NR_CPUS)`);
  return n;
}
