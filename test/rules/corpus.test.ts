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
import fc from 'fast-check';
import { NetDevice } from '../../src/host/device.js';
import { CtInfo, Conn } from '../../src/netfilter/conntrack/conn.js';
import { invertTuple, tupleFromPacket } from '../../src/netfilter/conntrack/tuple.js';
import { connSlab } from '../../src/netfilter/conntrack/conn-record.js';
import type { Ipv4Packet } from '../../src/packet/ipv4.js';
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
  it('evaluates every clean iptables-save, OpenWrt and Docker nft file: each chain gives a verdict for UDP, TCP and ICMP', () => {
    const dir = requireCorpus();
    const clean = readBaseline().filter((f) => f.endsWith('.ipt') || f.startsWith('openwrt-firewall4/') || f.startsWith('moby/'));
    expect(clean.filter((f) => f.startsWith('openwrt-firewall4/')).length).toBe(27);
    expect(clean.length).toBeGreaterThan(0);
    for (const f of clean) {
      const verdicts = evaluateAll(readFileSync(join(dir, f), 'utf8'), f);
      expect(verdicts.length, f).toBeGreaterThan(0);
      expect(verdicts.every((v) => v === Verdict.Accept || v === Verdict.Drop), f).toBe(true);
    }
  });

  it('evaluates every other clean file (the nftables test-suite dumps) too: no chain throws, each gives a verdict', () => {
    const dir = requireCorpus();
    const rest = readBaseline().filter((f) => f.startsWith('nftables-tests/'));
    expect(rest.length).toBeGreaterThanOrEqual(56);
    for (const f of rest) {
      const verdicts = evaluateAll(readFileSync(join(dir, f), 'utf8'), f);
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
    // issue 16's target: at least 95% of the corpus reads cleanly
    expect(clean.length / files.length).toBeGreaterThanOrEqual(0.95);
  });
});

/** A device of a corpus node (br-lan, pppoe-wan, br-dummy …). */
const dev = (index: number, name: string) => new NetDevice(index, name, null, new Uint8Array([2, 0, 0, 0, 0, index]));

/** Runs a base chain of a corpus file on a packet between two named devices, conntrack state given. */
function verdictAt(file: string, chainName: string, pkt: Ipv4Packet, inDev: NetDevice | null, outDev: NetDevice | null, ctinfo: CtInfo | null): { verdict: Verdict; skb: Skb } {
  const text = readFileSync(join(requireCorpus(), file), 'utf8');
  const table = parseRuleset({ text, file, lineOffset: 0, colOffset: 0 }).tables[0]!;
  const chain = table.chains.get(chainName)!;
  const skb = new Skb(1, pkt, 0, 0, inDev);
  if (ctinfo !== null) {
    const orig = tupleFromPacket(pkt);
    skb.ct = new Conn(connSlab(1), 1, orig, invertTuple(orig)!);
    skb.ctinfo = ctinfo;
  }
  const state = { hook: chain.base!.hook, in: inDev, out: outDev, trace: null, notes: [] };
  const env = { addrType: (a: number) => (a === ip('10.0.0.1') ? AddrType.Local : AddrType.Unicast), prng: new Prng(1) };
  return { verdict: evaluateChain(table, chain, new RuleContext(skb, state, env), () => Verdict.Accept).verdict, skb };
}

const syn = (saddr: string, daddr: string, dport: number) => buildTcp({ saddr: ip(saddr), daddr: ip(daddr), sport: 40000, dport, seq: 1, ack: 0, flags: TcpFlag.SYN, window: 64240, ipId: 2, ttl: 64, payloadLength: 0 });
const echo = (saddr: string, daddr: string) => buildIcmpEcho({ saddr: ip(saddr), daddr: ip(daddr), ipId: 3, ttl: 64, type: 8, echoId: 7, seq: 1, payload: new Uint8Array(8) });

describe('packets through real rulesets: the verdicts their rules imply', () => {
  const lan = dev(4, 'br-lan');
  const wan = dev(5, 'pppoe-wan');
  const fw4 = 'openwrt-firewall4/01_configuration_01_ruleset.nft';

  it('OpenWrt fw4: lan to wan forwarded, wan to lan rejected unless established, ping to the router accepted, ssh from wan rejected', () => {
    expect(verdictAt(fw4, 'forward', syn('10.0.0.5', '8.8.8.8', 443), lan, wan, CtInfo.New).verdict).toBe(Verdict.Accept);
    const inbound = verdictAt(fw4, 'forward', syn('8.8.8.8', '10.0.0.5', 22), wan, lan, CtInfo.New);
    expect([inbound.verdict, inbound.skb.drop?.reject]).toEqual([Verdict.Drop, 'tcp-reset']);
    expect(verdictAt(fw4, 'forward', syn('8.8.8.8', '10.0.0.5', 22), wan, lan, CtInfo.EstablishedReply).verdict).toBe(Verdict.Accept);
    expect(verdictAt(fw4, 'input', echo('8.8.8.8', '10.11.12.194'), wan, null, CtInfo.New).verdict).toBe(Verdict.Accept);
    expect(verdictAt(fw4, 'input', syn('8.8.8.8', '10.11.12.194', 22), wan, null, CtInfo.New).verdict).toBe(Verdict.Drop);
  });

  it('Docker nftables: ICC between containers dropped, traffic from outside to a container accepted (unprotected), replies accepted', () => {
    const moby = 'moby/TestNftabler_hairpin-false_internal-false_icc-false_masq-true_snat-true_gwm-nat-unprotected_bindlh-true__ip.nft';
    const br = dev(6, 'br-dummy');
    expect(verdictAt(moby, 'filter-FORWARD', syn('192.168.0.2', '192.168.0.3', 80), br, br, CtInfo.New).verdict).toBe(Verdict.Drop);
    expect(verdictAt(moby, 'filter-FORWARD', syn('10.9.9.9', '192.168.0.2', 80), ETH0, br, CtInfo.New).verdict).toBe(Verdict.Accept);
    expect(verdictAt(moby, 'filter-FORWARD', syn('192.168.0.3', '192.168.0.2', 80), br, br, CtInfo.Established).verdict).toBe(Verdict.Accept);
  });
});

/** A line of a corpus file mangled: characters cut, a token put in, or the line cut short. */
const mangling = fc.record({ file: fc.nat(), line: fc.nat(), at: fc.nat(), len: fc.integer({ min: 0, max: 12 }), insert: fc.constantFrom('', '{', '}', ';', ',', '"', '.', ':', '@x', '$v', 'vmap', 'map', '&', '|', '(', ')', '-', '!=', '0x', 'ip', 'meta', 'ct', 'jump', 'limit rate', 'dnat to', '\\\n') });

describe('the parser on mangled corpus lines (fast-check)', () => {
  it('never throws anything but a refusal, and every refusal names file:line:col', () => {
    const dir = requireCorpus();
    const files = rulesetFiles(dir).filter((f) => f.endsWith('.nft'));
    const texts = files.map((f) => readFileSync(join(dir, f), 'utf8'));
    fc.assert(
      fc.property(mangling, (m) => {
        const i = m.file % files.length;
        const lines = texts[i]!.split('\n');
        const n = m.line % lines.length;
        const line = lines[n]!;
        const at = m.at % (line.length + 1);
        lines[n] = line.slice(0, at) + m.insert + line.slice(at + m.len);
        const problems = lintRuleset(lines.join('\n'), files[i]!);
        for (const p of problems) expect(p.message).toMatch(/^[^:]+\.nft:\d+:\d+: \S/);
      }),
      { numRuns: 300 },
    );
  });
});
