/**
 * The run list read in slices (src/scenario/run-list.ts) gives what reading the whole document
 * gives: the same steps with the same places, and the same errors at the same places.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import { splitRunList } from '../../src/scenario/run-list.js';
import { InputError } from '../../src/errors.js';

/** A directive and a document marker make the reader take the document whole (two lines more). */
const WHOLE = '%YAML 1.2\n---\n';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? yamlFiles(p) : p.endsWith('.yaml') ? [p] : [];
  });
}

/** The value as plain data, every `line` and `lineOffset` of a place in `file` less by `by` (the WHOLE prefix's two lines). */
function plain(value: unknown, file: string, by = 0): unknown {
  return JSON.parse(
    JSON.stringify(value, function (this: Record<string, unknown>, k, v: unknown) {
      if ((k === 'line' || k === 'lineOffset') && typeof v === 'number' && this.file === file) return v - by;
      return v instanceof Uint8Array ? [...v] : v;
    }),
  );
}

/** What reading `text` gives, and what reading it whole gives. */
function bothWays(text: string, file: string): [unknown, unknown] {
  return [plain(outcome(text, file), file), plain(outcome(WHOLE + text, file), file, 2)];
}

function outcome(text: string, file: string): unknown {
  try {
    return { spec: parseScenario(text, file) };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return { error: e.place, reason: e.reason };
  }
}

const HEAD = `natsim: 1
hosts:
  a:
    interfaces: { eth0: { addr: [10.0.0.1/24], link: l } }
  b:
    interfaces: { eth0: { addr: [10.0.0.2/24], link: l } }
run:
`;

function steps(n: number, bad = -1): string {
  return Array.from({ length: n }, (_, i) => (i === bad ? `  - { at: ${i}ms, on: c, do: ping 10.0.0.2 }` : i % 3 === 0 ? `  - at: ${i}ms\n    on: a\n    do: ping 10.0.0.2   # a comment\n` : `  - { at: ${i}ms, on: a, do: udp send 10.0.0.2:9 }`)).join('\n');
}

describe('the run list read in slices', () => {
  const files = yamlFiles('fixtures').filter((f) => /^natsim:/m.test(readFileSync(f, 'utf8')));

  it.each(files)('%s: the same scenario (or error) as read whole', (file) => {
    const text = readFileSync(file, 'utf8');
    const [sliced, whole] = bothWays(text, file);
    expect(sliced).toEqual(whole);
  });

  it('cuts a long list into slices, each line of it kept in exactly one', () => {
    const text = `${HEAD}${steps(7000)}\nuntil: 10s\n`;
    const split = splitRunList(text)!;
    expect(split.slices.length).toBeGreaterThan(1);
    expect(split.slices.map((s) => s.text).join('')).toBe(text.slice(text.indexOf('  - '), text.indexOf('until:')));
    expect(split.head).toBe(`${HEAD}until: 10s\n`);
    const spec = parseScenario(text, 'long.yaml');
    expect(spec.run.length).toBe(7000);
    expect(spec.until).toBe(10e9);
    const [sliced, whole] = bothWays(text, 'long.yaml');
    expect(sliced).toEqual(whole);
  });

  it('a bad step deep in a long list is refused at its file line, as read whole', () => {
    const text = `${HEAD}${steps(6000, 5000)}\nuntil: 10s\n`;
    const got = outcome(text, 'bad.yaml') as { error: { line: number; col: number }; reason: string };
    expect(got.reason).toBe("no host 'c'");
    expect(text.split('\n')[got.error.line - 1]).toContain('at: 5000ms, on: c');
    expect(plain(got, 'bad.yaml')).toEqual(bothWays(text, 'bad.yaml')[1]);
  });

  it('a syntax error in a slice is said at its file line', () => {
    const text = `${HEAD}${steps(4500)}\n  - { at: 1s, on: a, do: ping 10.0.0.2\nuntil: 10s\n`;
    const got = outcome(text, 'syntax.yaml') as { error: { line: number } };
    expect(got.error.line).toBeGreaterThan(HEAD.split('\n').length + 4500);
  });

  it.each([
    ['a flow list', `${HEAD.replace('run:\n', 'run: [')}{ at: 0s, on: a, do: ping 10.0.0.2 }]\n`],
    ['a list at the key\'s own indentation', `${HEAD}- { at: 0s, on: a, do: ping 10.0.0.2 }\n- { at: 1s, on: b, do: ping 10.0.0.1 }\nuntil: 5s\n`],
    ['no run list', HEAD.replace('run:\n', '')],
  ])('%s: read as the whole reader reads it', (_, text) => {
    const [sliced, whole] = bothWays(text, 'x.yaml');
    expect(sliced).toEqual(whole);
  });
});
