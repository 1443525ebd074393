/**
 * Broken scenario files (fixtures/broken): each must end in the one-line error its second line
 * announces ("# expect: LINE:COL: reason"), with exit code 2 — checked through the CLI, as a
 * user meets them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { natsim } from './helpers.js';

const files = readdirSync('fixtures/broken').filter((f) => f.endsWith('.yaml'));

describe('broken scenarios', () => {
  it('are at least ten', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  it.each(files)('%s', async (name) => {
    const file = `fixtures/broken/${name}`;
    const expected = /^# expect: (.*)$/m.exec(readFileSync(file, 'utf8'))![1];
    const run = await natsim('trace', file);
    expect(run.stderr).toBe(`natsim: ${file}:${expected}\n`);
    expect(run.code).toBe(2);
  });
});
