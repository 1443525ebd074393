/**
 * The corpus of real rulesets (../shared/corpus beside the checkout, with SOURCES.md): every
 * file is linted in-process, and a file listed in corpus-clean.txt that is no longer clean
 * fails the test, as does a clean count below the baseline's. The corpus is test data from
 * elsewhere: it is read where it is, never copied into the repository, and its absence is a
 * failure (CI has it). Regenerate the baseline after making files clean:
 *
 *   UPDATE_CORPUS_BASELINE=1 npx vitest run test/rules/corpus.test.ts
 *
 * NATSIM_CORPUS=DIR reads the corpus from elsewhere.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lintRuleset } from '../../src/netfilter/rules/parse.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const baselineFile = join(repoRoot, 'test', 'rules', 'corpus-clean.txt');

/**
 * Where the corpus is: NATSIM_CORPUS, else ../shared/corpus beside the checkout — for a linked
 * git worktree, also beside the main checkout (the worktree's .git file names it).
 */
function corpusDir(): { dir: string | null; tried: string[] } {
  const tried: string[] = [];
  if (process.env.NATSIM_CORPUS) tried.push(resolve(process.env.NATSIM_CORPUS));
  tried.push(resolve(repoRoot, '..', 'shared', 'corpus'));
  const dotGit = join(repoRoot, '.git');
  if (existsSync(dotGit) && statSync(dotGit).isFile()) {
    const gitdir = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1];
    // gitdir is MAIN/.git/worktrees/NAME
    if (gitdir) tried.push(resolve(gitdir, '..', '..', '..', '..', 'shared', 'corpus'));
  }
  return { dir: tried.find((d) => existsSync(join(d, 'SOURCES.md'))) ?? null, tried };
}

/** The ruleset files (.ipt, .nft) under the corpus, as paths relative to it, sorted. */
function rulesetFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) {
        if (!name.startsWith('_')) walk(path);
      } else if (/\.(ipt|nft)$/.test(name)) out.push(relative(dir, path));
    }
  };
  walk(dir);
  return out.sort();
}

function readBaseline(): string[] {
  if (!existsSync(baselineFile)) return [];
  return readFileSync(baselineFile, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

describe('the corpus of real rulesets (../shared/corpus)', () => {
  it('lints every file that was clean clean still', () => {
    const { dir, tried } = corpusDir();
    if (dir === null) throw new Error(`the ruleset corpus is missing: none of ${tried.join(', ')} holds SOURCES.md (set NATSIM_CORPUS=DIR to point at it)`);
    const files = rulesetFiles(dir);
    expect(files.length).toBeGreaterThan(0);
    const problems = new Map<string, string[]>();
    for (const f of files) problems.set(f, lintRuleset(readFileSync(join(dir, f), 'utf8'), f).map((e) => e.message));
    const clean = files.filter((f) => problems.get(f)!.length === 0);
    const count = (ext: string): string => `${clean.filter((f) => f.endsWith(ext)).length}/${files.filter((f) => f.endsWith(ext)).length}`;
    console.log(`corpus ${dir}: ${clean.length} of ${files.length} files lint clean (iptables-save ${count('.ipt')}, nft ${count('.nft')})`);
    if (process.env.UPDATE_CORPUS_BASELINE === '1') {
      writeFileSync(baselineFile, `# corpus files that lint clean (test/rules/corpus.test.ts); regenerate with UPDATE_CORPUS_BASELINE=1\n${clean.join('\n')}\n`);
      console.log(`wrote ${clean.length} clean files to ${relative(repoRoot, baselineFile)}`);
      return;
    }
    const baseline = readBaseline();
    const regressed = baseline.filter((f) => problems.get(f)?.length !== 0).map((f) => (problems.has(f) ? `${f}:\n  ${problems.get(f)!.join('\n  ')}` : `${f}: no longer in the corpus`));
    expect(regressed, 'files in corpus-clean.txt that no longer lint clean').toEqual([]);
    expect(clean.length).toBeGreaterThanOrEqual(baseline.length);
  });
});
