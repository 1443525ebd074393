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
import { Hook, Verdict } from '../../src/netfilter/constants.js';
import { RuleContext } from '../../src/netfilter/rules/context.js';
import { evaluateChain } from '../../src/netfilter/rules/eval.js';
import { AddrType } from '../../src/netfilter/rules/model.js';
import { lintRuleset, parseRuleset } from '../../src/netfilter/rules/parse.js';
import { Skb } from '../../src/netfilter/skb.js';
import { buildIcmpEcho, buildTcp } from '../../src/packet/build.js';
import { TcpFlag } from '../../src/packet/ipv4.js';
import { Prng } from '../../src/sim/prng.js';
import { ETH0, ETH1, ip, udp } from './xt-helpers.js';

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

function requireCorpus(): string {
  const { dir, tried } = corpusDir();
  if (dir === null) throw new Error(`the ruleset corpus is missing: none of ${tried.join(', ')} holds SOURCES.md (set NATSIM_CORPUS=DIR to point at it)`);
  return dir;
}

/** A UDP datagram, a TCP SYN and an ICMP echo request, as a router between 10/8 and 192.168.1/24 sees them. */
function samplePackets() {
  const tcp = buildTcp({ saddr: ip('10.0.0.1'), daddr: ip('192.168.1.2'), sport: 40000, dport: 22, seq: 1, ack: 0, flags: TcpFlag.SYN, window: 64240, ipId: 2, ttl: 64, payloadLength: 0, syn: { mss: 1460, wscale: 7 } });
  const icmp = buildIcmpEcho({ saddr: ip('10.0.0.1'), daddr: ip('192.168.1.2'), ipId: 3, ttl: 64, type: 8, echoId: 7, seq: 1, payload: new Uint8Array(8) });
  return [udp(), tcp, icmp];
}

/**
 * Every chain of a ruleset run on the sample packets — a base chain at its hook, a regular one
 * as if jumped to at FORWARD (kube-proxy's restore input declares only its own chains): each
 * ends in a verdict, none throws.
 */
function evaluateAll(text: string, file: string): Verdict[] {
  const verdicts: Verdict[] = [];
  for (const table of parseRuleset({ text, file, lineOffset: 0, colOffset: 0 }).tables) {
    for (const chain of table.chains.values()) {
      const hook = chain.base?.hook ?? Hook.Forward;
      const inDev = hook === Hook.LocalOut || hook === Hook.PostRouting ? null : ETH1;
      const outDev = hook === Hook.PreRouting || hook === Hook.LocalIn ? null : ETH0;
      for (const pkt of samplePackets()) {
        const skb = new Skb(1, pkt, 0, 0, inDev);
        skb.mac = inDev && { dest: inDev.mac, source: new Uint8Array([2, 0, 0, 0, 0, 1]), proto: 0x0800 };
        const state = { hook, in: inDev, out: outDev, trace: null, notes: [] };
        const env = { addrType: () => AddrType.Unicast, prng: new Prng(1) };
        verdicts.push(evaluateChain(table, chain, new RuleContext(skb, state, env), () => Verdict.Accept).verdict);
      }
    }
  }
  return verdicts;
}

describe('the corpus of real rulesets (../shared/corpus)', () => {
  it('evaluates every clean iptables-save file: each chain gives a verdict for UDP, TCP and ICMP', () => {
    const dir = requireCorpus();
    const clean = readBaseline().filter((f) => f.endsWith('.ipt'));
    expect(clean.length).toBeGreaterThan(0);
    for (const f of clean) {
      const verdicts = evaluateAll(readFileSync(join(dir, f), 'utf8'), f);
      expect(verdicts.length, f).toBeGreaterThan(0);
      expect(verdicts.every((v) => v === Verdict.Accept || v === Verdict.Drop), f).toBe(true);
    }
  });

  it('lints every file that was clean clean still', () => {
    const dir = requireCorpus();
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
