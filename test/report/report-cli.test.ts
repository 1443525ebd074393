/** `natsim report`'s errors: one line and exit 2, before any replay, and no page left behind. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { natsim, tempDir } from '../cli/helpers.js';

describe('natsim report errors', () => {
  it('needs -o', async () => {
    const r = await natsim('report', 'fixtures/seeds/icmp-masquerade.yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("natsim: required option '-o, --output <file>' not specified (see --help)\n");
  });

  it('says it cannot write the page before replaying anything', async () => {
    const r = await natsim('report', 'fixtures/seeds/icmp-masquerade.yaml', '-o', '/nonexistent-dir/page.html');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^natsim: \/nonexistent-dir\/page\.html: cannot write: ENOENT[^\n]*\n$/);
  });

  it('leaves no page when the input is bad', async () => {
    const out = join(tempDir(), 'page.html');
    const r = await natsim('report', 'fixtures/broken/bad-address.yaml', '-o', out);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });
});
