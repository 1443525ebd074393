import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCpuCount } from '../../src/node/cpu-count.js';
import { tempDir } from '../cli/helpers.js';

function dirWith(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('a node snapshot\'s CPU count', () => {
  it('reads /sys/devices/system/cpu/online (cpu-online.txt) as a cpulist', () => {
    expect(readCpuCount(dirWith({ 'cpu-online.txt': '0-1\n' }))).toBe(2);
    expect(readCpuCount(dirWith({ 'cpu-online.txt': '0-3,6\n' }))).toBe(7);
    expect(readCpuCount(dirWith({ 'cpu-online.txt': '0\n' }))).toBe(1);
  });

  it('reads nproc.txt, prefers cpu-online.txt, and is 1 without either', () => {
    expect(readCpuCount(dirWith({ 'nproc.txt': '4\n' }))).toBe(4);
    expect(readCpuCount(dirWith({ 'nproc.txt': '4\n', 'cpu-online.txt': '0-1' }))).toBe(2);
    expect(readCpuCount(dirWith({}))).toBe(1);
  });

  it('names the file and line of a value it cannot read', () => {
    expect(() => readCpuCount(dirWith({ 'cpu-online.txt': '3-1' }))).toThrow(/cpu-online.txt:1: expected a CPU list/);
    expect(() => readCpuCount(dirWith({ 'nproc.txt': 'two' }))).toThrow(/nproc.txt:1: expected the number nproc prints/);
  });
});
