/**
 * One duration syntax everywhere (src/sim/duration.ts): --until, and a scenario's at, until,
 * hold and interval take 2m, 1s, 500ms or a bare number of seconds.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/sim/duration.js';
import { natsim, tempDir } from './helpers.js';

const SEED = 'fixtures/seeds/snat-failure-timeout.yaml';
const DIR = tempDir();

describe('parseDuration', () => {
  it('takes h, m, s, ms, us, ns and bare seconds', () => {
    expect(['1h', '2m', '1.5s', '500ms', '10us', '100ns', '5', '0.25'].map(parseDuration)).toEqual([3600e9, 120e9, 1.5e9, 500e6, 10e3, 100, 5e9, 0.25e9]);
  });

  it('refuses anything else', () => {
    expect(['', '-1s', '1x', 's', '1 s s', '1e3'].map(parseDuration)).toEqual([null, null, null, null, null, null]);
  });
});

describe('natsim', () => {
  const counters = async (...args: string[]) => JSON.parse((await natsim('stats', '--json', ...args, SEED)).stdout.trim()).cpus[0];

  it('--until 3 is 3 s, as --until 3s and --until 3000ms', async () => {
    expect(await counters('--until', '3')).toMatchObject({ insert_failed: 3 });
    expect(await counters('--until', '3')).toEqual(await counters('--until', '3s'));
    expect(await counters('--until', '3000ms')).toEqual(await counters('--until', '3s'));
  });

  it("a scenario's hold takes the syntax of at", async () => {
    // the copy lives elsewhere: its ruleset file by its full path
    const seed = readFileSync('fixtures/seeds/docker-published-port.yaml', 'utf8').replace('../rulesets/', `${resolve('fixtures/rulesets')}/`);
    const events = (hold: string) => natsim('conntrack', '--events', scenarioFile(seed.replaceAll('hold 0.3', `hold ${hold}`)));
    const units = await events('300ms');
    expect(units.code).toBe(0);
    expect(units.stdout).toBe((await events('0.3')).stdout);
    expect(units.stdout).toMatch(/^\[0\.400050\]\t \[UPDATE\] tcp +6 120 FIN_WAIT /m);
    const bad = await events('3x');
    expect(bad.stderr).toMatch(/'hold' needs a duration such as 2m, 1.5s, 500ms or 5 \(seconds\), from 0 s to 86400 s, got '3x'\n$/);
    expect(bad.code).toBe(2);
  });

  it("a scenario's interval takes the syntax of at", async () => {
    const ping = async (interval: string) => (await natsim('trace', '--style', 'masq', scenarioFile(`natsim: 1
hosts:
  a: { interfaces: { eth0: { addr: [10.0.0.1/24], link: l } } }
  b: { interfaces: { eth0: { addr: [10.0.0.2/24], link: l } } }
run:
  - { at: 0s, on: a, do: ping 10.0.0.2 count 2 interval ${interval} }
`))).stdout;
    expect(await ping('500ms')).toContain('natsim: a: 0.500020 s: ping: reply from 10.0.0.2 icmp_seq=2');
    expect(await ping('500ms')).toBe(await ping('0.5'));
  });
});

let written = 0;
/** The scenario text in a file of its own. */
function scenarioFile(text: string): string {
  const file = join(DIR, `scenario-${++written}.yaml`);
  writeFileSync(file, text);
  return file;
}
