/**
 * `natsim lint scenario.yaml`: the rulesets of a scenario's hosts, all problems at once, an
 * inline ruleset's at their line and column in the YAML, a ruleset-file's in that file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { natsim, tempDir } from './helpers.js';

describe('natsim lint SCENARIO', () => {
  it('lints inline rulesets with their places in the YAML, and ruleset files in those files', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'b.rules'), ['*nat', ':POSTROUTING ACCEPT [0:0]', '-A POSTROUTING -j TPROXY', 'COMMIT', ''].join('\n'));
    const scenario = join(dir, 's.yaml');
    writeFileSync(
      scenario,
      `natsim: 1
hosts:
  a:
    interfaces: { eth0: { addr: [10.0.0.1/24], link: lan } }
    ruleset: |
      table ip t {
        chain c {
          type filter hook input priority 0;
          tproxy to :1
          tcp dport 99999 drop
        }
      }
  b:
    interfaces: { eth0: { addr: [10.0.0.2/24], link: lan } }
    ruleset-file: b.rules
`,
    );
    const run = await natsim('lint', scenario);
    // the places are this test's; the words are the rule parsers'
    const places = run.stdout.split('\n').map((l) => /^(.*?:\d+:\d+):/.exec(l)?.[1]).filter((p) => p !== undefined);
    expect(places).toEqual([`${scenario}:9:11`, `${scenario}:10:21`, `${join(dir, 'b.rules')}:3:19`]);
    expect(run.stdout).toContain('TPROXY');
    expect(run.stdout.endsWith('lint: 3 problem(s)\n')).toBe(true);
    expect(run.code).toBe(1);
  });

  it('a clean scenario passes, counting its rulesets', async () => {
    const run = await natsim('lint', 'fixtures/seeds/icmp-masquerade.yaml', 'fixtures/seeds/docker-published-port.yaml');
    expect(run.stdout).toBe('lint: 2 ruleset(s), no problems\n');
    expect(run.code).toBe(0);
  });

  it('a folder is said to be one', async () => {
    const run = await natsim('lint', 'fixtures');
    expect(run.stderr).toBe('natsim: fixtures: is a folder, not a file\n');
    expect(run.code).toBe(2);
  });
});
