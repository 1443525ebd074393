/**
 * `npm run bench`: how fast natsim replays a NAT router's capture, and how much memory it
 * takes, against a floor (parsing alone) and tcpdump. Every case runs as child processes (peak
 * RSS per run) several times, and the median is reported. Not a test: nothing here fails on a
 * slow machine; the numbers are for comparing commits on one machine.
 */
import { mkdtempSync, rmSync, statfsSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions } from './options.js';
import { hasCommand, runMedian, runOnce, runPaired, type Command, type Median } from './measure.js';
import { machine, machineLine, markdownTable, writeJson, type CaseResult } from './report.js';
import { DEFAULT_FLOWS_PER_SECOND, routerScenario, writeWorkload, type WorkloadFamily, type WorkloadSummary } from './workload.js';
import { writeRulesets } from './kube-rules.js';
import { writeNftRulesets } from './nft-rules.js';
import { writeSetRulesets } from './set-rules.js';

const NATSIM = fileURLToPath(new URL('../../bin/natsim.js', import.meta.url));
const PARSE_FLOOR = fileURLToPath(new URL('./parse-floor.js', import.meta.url));
const TABLE_FILL = fileURLToPath(new URL('./table-fill.js', import.meta.url));
const NAT_ALLOC = fileURLToPath(new URL('./nat-alloc.js', import.meta.url));
const NODE = process.execPath;
/** Bytes a generated packet takes on disk, on average, with room to spare. */
const BYTES_PER_PACKET = 650;
/** About as many rules as a big kube-proxy node has (case e). */
const KUBE_RULES = 10_000;
/** Case (p)'s blocklist: addresses in one nft set, and in one ipset. */
const BLOCKED_ADDRESSES = 20_000;
/** Case (g) cuts the large capture inside a record: 2 GiB and 7 bytes, or the middle of a smaller file. */
const TRUNCATED_SIZE = 2 * 1024 ** 3 + 7;
/** Case (k)'s what-if: "what breaks if nf_conntrack_max is halved?" — nothing, for this workload (exit 0). */
const DIFF_CHANGE = 'net.netfilter.nf_conntrack_max=131072';
/** Case (o)'s flow rate: ten times the main workload's. */
const LIVE_FLOWS_PER_SECOND = 8_000;

const options = parseOptions(process.argv.slice(2));
/** Whether `--only` left case `letter` in (every case runs without it). */
const wants = (letter: string): boolean => options.only === null || options.only.has(letter);
const began = Date.now();
const log = (s: string): void => void process.stderr.write(`bench: ${s}\n`);
const host = machine();
process.stdout.write(`${machineLine(host)}\n`);

const dir = mkdtempSync(join(tmpdir(), 'natsim-bench-'));
try {
  checkDiskSpace(dir, Math.max(options.packets, wants('f') ? options.largePackets : 0, wants('o') ? options.livePackets : 0));
  const results = await runCases(dir);
  const table = markdownTable(results);
  process.stdout.write(`\n${table}\n\n`);
  const out = resolve(options.out);
  writeJson(out, { date: new Date().toISOString(), machine: host, options, totalSeconds: (Date.now() - began) / 1000, results });
  process.stdout.write(`results: ${out}\ntotal time: ${((Date.now() - began) / 1000).toFixed(0)} s\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

async function runCases(dir: string): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  const { runs } = options;
  const main = generate(dir, 'workload.pcap', options.packets);

  // the floor and stats are what other cases compare with: run when any case that needs them is
  const floorCmd: Command = { cmd: NODE, args: [PARSE_FLOOR, main.pcap], node: true };
  const statsCmd = natsim('stats', '--plain', main.pcap);
  const needsFloor = wants('a') || wants('e') || wants('m') || (wants('f') && options.largePackets > 0);
  const needsStats = wants('b') || wants('e') || wants('m') || wants('n') || wants('f') || wants('o') || wants('p');
  const { floor, stats, statsCpuToFloor } = await floorAndStats(needsFloor ? floorCmd : null, needsStats ? statsCmd : null);
  const floorRate = floor === null ? null : main.packets / floor.seconds;
  const add = (name: string, packets: number, m: Median, notes = ''): void =>
    void results.push({ name, packets, seconds: m.seconds, cpuSeconds: m.cpuSeconds, rate: packets / m.seconds, ratioToFloor: floorRate === null ? null : floorRate / (packets / m.seconds), peakRssMb: m.rssMb, runs, notes });
  if (wants('a')) {
    add('(a) parse floor: readCapture + Ipv4Packet.adopt', main.packets, floor!);
    results.push(await pcapngCase(dir, main, floor!, floorRate!));
  }

  const againstFloor = statsCpuToFloor === null ? '' : `CPU ${statsCpuToFloor.toFixed(2)}× the floor's (user+sys, median of ${runs} side-by-side pairs; target ≤ 4×); `;
  if (stats !== null) add('(b) natsim stats --plain', main.packets, stats, `${againstFloor}${counters(stats)}`);

  // issue 20: explain and diff at no more than 2.5× a stats run of the same capture, in CPU
  // time (diff's two replays run on two threads: its wall time depends on a free second core)
  const againstStats = async (label: string, c: Command): Promise<void> => {
    log(`${label}, each run beside a natsim stats run`);
    const m = await runPaired(statsCmd, { ...c, discardStdout: true }, runs);
    const cpu = m.cpuRatio === null ? 'CPU not measured' : `CPU ${m.cpuRatio.toFixed(2)}× stats (user+sys, median of ${runs} side-by-side pairs; target ≤ 2.5×)`;
    add(label, main.packets, m.case, `${cpu}; wall ${(m.case.seconds / m.base.seconds).toFixed(2)}× stats`);
  };
  if (wants('j')) await againstStats('(j) natsim explain > /dev/null', natsim('explain', main.pcap));
  if (wants('k')) await againstStats(`(k) natsim diff --sysctl ${DIFF_CHANGE} > /dev/null`, natsim('diff', '--sysctl', DIFF_CHANGE, main.pcap));

  // issue 22: trace at no more CPU time than tcpdump, each run beside one of tcpdump's
  const traceCmd: Command = { ...natsim('trace', main.pcap), discardStdout: true };
  const tcpdumpCmd: Command | null = hasCommand('tcpdump') ? { cmd: 'tcpdump', args: ['-r', main.pcap, '-nn'], discardStdout: true } : null;
  const traceBesideTcpdump = wants('c') && wants('d') && tcpdumpCmd !== null;
  if (traceBesideTcpdump) {
    log('(c) natsim trace > /dev/null, each run beside (d) tcpdump -r -nn > /dev/null');
    const m = await runPaired(tcpdumpCmd, traceCmd, runs);
    add('(c) natsim trace > /dev/null', main.packets, m.case, m.cpuRatio === null ? 'CPU not measured' : `CPU ${m.cpuRatio.toFixed(2)}× tcpdump's (user+sys, median of ${runs} side-by-side pairs; target ≤ 1)`);
    add('(d) tcpdump -r FILE -nn > /dev/null', main.packets, m.base);
  } else if (wants('c')) {
    log('(c) natsim trace > /dev/null');
    add('(c) natsim trace > /dev/null', main.packets, await runMedian(traceCmd, runs));
  }

  if (wants('l')) {
    log('(l) natsim report -o page.html');
    const page = join(dir, 'report.html');
    const report = await runMedian(natsim('report', '--quiet', main.pcap, '-o', page), runs);
    add('(l) natsim report -o page.html', main.packets, report, `page ${(statSync(page).size / 2 ** 20).toFixed(1)} MB (natsim report's limit: 20 MB)`);
  }

  if (wants('d') && tcpdumpCmd !== null && !traceBesideTcpdump) {
    log('(d) tcpdump -r -nn > /dev/null');
    add('(d) tcpdump -r FILE -nn > /dev/null', main.packets, await runMedian(tcpdumpCmd, runs));
  } else if (wants('d') && tcpdumpCmd === null) {
    log('(d) skipped: no tcpdump');
  }
  if (wants('e') || wants('m')) results.push(...(await rulesetCases(dir, main, stats!, floorRate!)));
  if (wants('p')) results.push(...(await blocklistCases(dir, main, stats!)));

  // issue 18: the same flows over IPv6, and half of them (by remote host), through one inet masquerade
  for (const family of wants('n') ? (['ipv6', 'mixed'] as const) : []) {
    const w = generate(dir, `workload-${family}.pcap`, options.packets, family);
    // issue 22: within 1.2× of IPv4's CPU time, each run beside a run of (b) (the workloads have the same packets)
    log(`(n) natsim stats, ${family} workload, each run beside a run of (b)`);
    const m = await runPaired(statsCmd, natsim('stats', '--plain', w.pcap), runs);
    const cpu = m.cpuRatio === null ? 'CPU not measured' : `CPU ${m.cpuRatio.toFixed(2)}× (b) (user+sys, median of ${runs} side-by-side pairs; target ≤ 1.2×)`;
    add(`(n) natsim stats --plain, ${family} workload`, w.packets, m.case, `${cpu}; ${counters(m.case)}`);
    rmSync(w.pcap);
  }
  rmSync(main.pcap);

  if (options.largePackets > 0 && wants('f')) {
    const large = generate(dir, 'large.pcap', options.largePackets);
    log('(f) natsim stats on the large capture');
    const m = await runMedian(natsim('stats', '--plain', large.pcap), runs);
    const growth = m.rssMb !== null && stats!.rssMb !== null ? `RSS ${(m.rssMb - stats!.rssMb >= 0 ? '+' : '') + (m.rssMb - stats!.rssMb).toFixed(0)} MB vs (b); ` : '';
    add(`(f) natsim stats --plain, ${(large.packets / 1e6).toFixed(0)}M packets`, large.packets, m, growth + counters(m));
    results.push(await truncatedCase(large));
    rmSync(large.pcap);
  }

  if (options.livePackets > 0 && wants('o')) results.push(await liveFlowsCase(dir, stats));

  for (const family of wants('h') ? (['ipv4', 'ipv6', 'mixed'] as const) : []) {
    log(`(h) conntrack table with ${options.tableEntries.toLocaleString('en-US')} ${family} entries`);
    results.push(await tableCase(runs, family));
  }
  if (wants('i')) {
    log('(i) SNAT port allocation in a nearly full range');
    results.push(await allocationCase(runs));
  }
  return results;
}

/**
 * Case (a), reading and decoding the capture and nothing more, and case (b), natsim stats (the
 * replay without a trace, what the other natsim cases are measured against): side
 * by side when both are wanted, so that stats' CPU time is also had as a ratio to the floor's
 * within each pair (issue 22's ≤ 4×).
 */
async function floorAndStats(floorCmd: Command | null, statsCmd: Command | null): Promise<{ floor: Median | null; stats: Median | null; statsCpuToFloor: number | null }> {
  if (floorCmd !== null && statsCmd !== null) {
    log('(a) parse floor and (b) natsim stats, each stats run beside a floor run');
    const m = await runPaired(floorCmd, statsCmd, options.runs);
    return { floor: m.base, stats: m.case, statsCpuToFloor: m.cpuRatio };
  }
  if (floorCmd !== null) log('(a) parse floor');
  const floor = floorCmd === null ? null : await runMedian(floorCmd, options.runs);
  if (statsCmd !== null) log('(b) natsim stats');
  const stats = statsCmd === null ? null : await runMedian(statsCmd, options.runs);
  return { floor, stats, statsCpuToFloor: null };
}

/**
 * Case (a2): the parse floor on the same packets written as pcapng (dumpcap's layout: EPBs with
 * epb_flags), against (a) in this run: reading pcapng must cost about what pcap does.
 */
async function pcapngCase(dir: string, main: WorkloadSummary, pcapFloor: Median, floorRate: number): Promise<CaseResult> {
  const ng = generate(dir, 'workload.pcapng', main.packets);
  log('(a2) parse floor on the pcapng copy');
  const m = await runMedian({ cmd: NODE, args: [PARSE_FLOOR, ng.pcap], node: true }, options.runs);
  rmSync(ng.pcap);
  return {
    name: '(a2) parse floor, the same capture as pcapng',
    packets: ng.packets,
    seconds: m.seconds,
    rate: ng.packets / m.seconds,
    ratioToFloor: floorRate / (ng.packets / m.seconds),
    peakRssMb: m.rssMb,
    runs: options.runs,
    notes: `${(m.seconds / pcapFloor.seconds).toFixed(2)}× the pcap read of (a); ${(ng.bytes / 2 ** 20).toFixed(0)} MB vs ${(main.bytes / 2 ** 20).toFixed(0)} MB`,
  };
}

/**
 * Cases (e) and (m): the same capture on the router with a 10-rule ruleset and with one of about
 * 10,000 rules (kube-proxy-style iptables, fw4-style nft); the ratio of their times is what the
 * long chains cost.
 */
async function rulesetCases(dir: string, main: WorkloadSummary, inline: Median, floorRate: number): Promise<CaseResult[]> {
  const counts = writeRulesets(dir, KUBE_RULES);
  const nft = writeNftRulesets(dir, KUBE_RULES);
  const results: CaseResult[] = [];
  const cases = [
    ['(e)', 'iptables', 'rules-small.txt', counts.small, 'rules-kube.txt', counts.kube],
    ['(m)', 'nft (fw4-style: vmaps, sets, limit, maps, icmpx, ip6)', 'rules-nft-small.txt', nft.small, 'rules-nft-large.txt', nft.large],
  ] as const;
  for (const [label, kind, smallFile, smallRules, largeFile, largeRules] of cases) {
    let small = 0;
    for (const [file, rules] of [[smallFile, smallRules], [largeFile, largeRules]] as const) {
      const scenario = join(dir, `router-${file}.yaml`);
      writeFileSync(scenario, routerScenario(main.packets, options.seed, `ruleset-file: ${file}`));
      log(`${label} natsim stats with ${rules.toLocaleString('en-US')} ${kind} rules`);
      const m = await runMedian(natsim('stats', '--plain', '--scenario', scenario, main.pcap), options.runs);
      const vs = file === largeFile ? `${(m.seconds / small).toFixed(2)}× the ${smallRules}-rule run; ` : `inline 1-rule nft run: ${inline.seconds.toFixed(1)} s; `;
      if (file === smallFile) small = m.seconds;
      results.push({ name: `${label} natsim stats --plain, ${rules.toLocaleString('en-US')} ${kind} rules`, packets: main.packets, seconds: m.seconds, rate: main.packets / m.seconds, ratioToFloor: floorRate / (main.packets / m.seconds), peakRssMb: m.rssMb, runs: options.runs, notes: vs + counters(m) });
    }
  }
  return results;
}

/** Case (p): stats with a blocklist of BLOCKED_ADDRESSES in an nft set and in an ipset, against (b), and of as many IPv6 prefixes in an nft set, against the IPv6 workload without it. */
async function blocklistCases(dir: string, main: WorkloadSummary, inline: Median): Promise<CaseResult[]> {
  const files = writeSetRulesets(dir, BLOCKED_ADDRESSES);
  const results: CaseResult[] = [];
  const cases = [
    ['nft set', `ruleset-file: ${files.nft}`],
    ['ipset', `ruleset-file: ${files.iptables}\n    ipsets-file: ${files.ipsets}`],
  ] as const;
  for (const [kind, keys] of cases) {
    const scenario = join(dir, `router-blocklist-${kind.replace(' ', '-')}.yaml`);
    writeFileSync(scenario, routerScenario(main.packets, options.seed, keys));
    const name = `(p) natsim stats --plain, ${BLOCKED_ADDRESSES.toLocaleString('en-US')} addresses in one ${kind}`;
    log(name);
    const m = await runMedian(natsim('stats', '--plain', '--scenario', scenario, main.pcap), options.runs);
    results.push({ name, packets: main.packets, seconds: m.seconds, cpuSeconds: m.cpuSeconds, rate: main.packets / m.seconds, ratioToFloor: null, peakRssMb: m.rssMb, runs: options.runs, notes: `${(m.seconds / inline.seconds).toFixed(2)}× (b)'s wall time; ${counters(m)}` });
  }
  // the IPv6 workload's own flows, with its masquerade alone and with the prefixes' set
  const w6 = generate(dir, 'workload-blocklist-ipv6.pcap', options.packets, 'ipv6');
  const scenario6 = join(dir, 'router-blocklist-nft-set6.yaml');
  writeFileSync(scenario6, routerScenario(w6.packets, options.seed, `ruleset-file: ${files.nft6}`, true));
  const name6 = `(p) natsim stats --plain, IPv6 workload, ${BLOCKED_ADDRESSES.toLocaleString('en-US')} /64 prefixes in one nft set`;
  log(name6);
  const plain6 = await runMedian(natsim('stats', '--plain', w6.pcap), options.runs);
  const m6 = await runMedian(natsim('stats', '--plain', '--scenario', scenario6, w6.pcap), options.runs);
  results.push({ name: name6, packets: w6.packets, seconds: m6.seconds, cpuSeconds: m6.cpuSeconds, rate: w6.packets / m6.seconds, ratioToFloor: null, peakRssMb: m6.rssMb, runs: options.runs, notes: `${(m6.seconds / plain6.seconds).toFixed(2)}× the IPv6 workload's wall time without the set; ${counters(m6)}` });
  return results;
}

/**
 * Case (g): the large capture cut short inside a record, as a capture copied off a full disk
 * is. natsim must read up to the cut with bounded memory and stop with the one-line error that
 * names the record and byte offset (exit code 2).
 */
async function truncatedCase(large: WorkloadSummary): Promise<CaseResult> {
  const full = statSync(large.pcap).size;
  const size = full > TRUNCATED_SIZE ? TRUNCATED_SIZE : Math.floor(full / 2) + 7;
  truncateSync(large.pcap, size);
  log(`(g) natsim stats on the capture cut at ${size.toLocaleString('en-US')} bytes`);
  const m = await runMedian({ ...natsim('stats', '--plain', large.pcap), exitCode: 2 }, options.runs);
  const error = /natsim: .*/.exec(m.samples[0]!.stderr)?.[0] ?? '(no error line)';
  // The error names the record the file ends in: every record before it was replayed.
  const read = Number(/record (\d+)/.exec(error)?.[1] ?? 1) - 1;
  return {
    name: `(g) natsim stats, capture cut at ${(size / 1024 ** 3).toFixed(2)} GiB`,
    packets: read,
    seconds: m.seconds,
    rate: read / m.seconds,
    ratioToFloor: null,
    peakRssMb: m.rssMb,
    runs: options.runs,
    notes: `exit 2: ${error}`,
  };
}

/**
 * Case (o): issue 22's "capture holding 250k live flows": the workload's flows started ten
 * times as fast (8,000 a second), so that the capture ends before the first TCP flows leave
 * TIME_WAIT and most of its flows are in the table at once. One conntrack -L of the same
 * capture counts the entries live at its end, which is what the peak RSS is held by.
 */
async function liveFlowsCase(dir: string, stats: Median | null): Promise<CaseResult> {
  const w = generate(dir, 'live.pcap', options.livePackets, 'ipv4', LIVE_FLOWS_PER_SECOND);
  log('(o) natsim stats on the capture holding many live flows');
  const m = await runMedian(natsim('stats', '--plain', w.pcap), options.runs);
  const listing = await runOnce(natsim('conntrack', w.pcap));
  const live = listing.stdout.split('\n').filter((line) => line.includes(' src=')).length;
  rmSync(w.pcap);
  const growth = m.rssMb !== null && stats?.rssMb != null ? `RSS ${(m.rssMb - stats.rssMb >= 0 ? '+' : '') + (m.rssMb - stats.rssMb).toFixed(0)} MB vs (b); ` : '';
  return {
    name: `(o) natsim stats --plain, ${live.toLocaleString('en-US')} flows live at the end`,
    packets: w.packets,
    seconds: m.seconds,
    rate: w.packets / m.seconds,
    ratioToFloor: null,
    peakRssMb: m.rssMb,
    cpuSeconds: m.cpuSeconds,
    runs: options.runs,
    notes: `${growth}${w.flows.toLocaleString('en-US')} flows in ${w.seconds.toFixed(0)} s of capture; ${counters(m)}`,
    detail: { liveAtEnd: live, flows: w.flows },
  };
}

/** Case (i): µs per allocation by range size and fill; the kernel's bounded search keeps it flat. */
async function allocationCase(runs: number): Promise<CaseResult> {
  const m = await runMedian({ cmd: NODE, args: [NAT_ALLOC], node: true }, runs);
  const parsed = m.samples.map((s) => JSON.parse(s.stdout) as { size: number; fill: number; usPerAlloc: number }[]);
  const cells = parsed[0]!.map((c, i) => ({ ...c, usPerAlloc: [...parsed.map((p) => p[i]!.usPerAlloc)].sort((a, b) => a - b)[parsed.length >> 1]! }));
  const worst = Math.max(...cells.map((c) => c.usPerAlloc));
  return {
    name: '(i) SNAT allocation, range nearly full',
    packets: cells.length,
    seconds: null,
    rate: 1e6 / worst,
    ratioToFloor: null,
    peakRssMb: m.rssMb,
    runs,
    notes: cells.map((c) => `${c.size} ports ${Math.round(c.fill * 100)}% used: ${c.usPerAlloc.toFixed(0)} µs`).join('; ') + '; "packets/s" = allocations/s at the worst',
    detail: { cells },
  };
}

function natsim(...args: string[]): Command {
  return { cmd: NODE, args: [NATSIM, ...args], node: true };
}

function generate(dir: string, name: string, packets: number, family: WorkloadFamily = 'ipv4', flowsPerSecond = DEFAULT_FLOWS_PER_SECOND): WorkloadSummary {
  log(`generating ${packets.toLocaleString('en-US')} packets`);
  const t = Date.now();
  const w = writeWorkload(join(dir, name), packets, options.seed, family, flowsPerSecond);
  log(
    `  ${w.flows.toLocaleString('en-US')} flows (${Object.entries(w.flowsByKind).map(([k, n]) => `${k} ${n}`).join(', ')}), ` +
      `${w.seconds.toFixed(0)} s of capture, ${(w.bytes / 2 ** 20).toFixed(0)} MB, written in ${((Date.now() - t) / 1000).toFixed(1)} s`,
  );
  return w;
}

/** The non-zero conntrack -S counters of the first run (a sanity check that NAT did its work). */
function counters(m: Median): string {
  const line = m.samples[0]?.stdout.split('\n')[0] ?? '';
  return line
    .split(/\s+/)
    .filter((kv) => /=[1-9]/.test(kv) && !kv.startsWith('cpu='))
    .join(' ');
}

/** Case (h) for connections of one family, or both (every other one IPv6). */
async function tableCase(runs: number, family: 'ipv4' | 'ipv6' | 'mixed'): Promise<CaseResult> {
  const m = await runMedian({ cmd: NODE, args: ['--expose-gc', TABLE_FILL, String(options.tableEntries), family], node: true }, runs);
  const parsed = m.samples.map((s) => JSON.parse(s.stdout) as { entries: number; buckets: number; bytesPerEntry: number; nsPerFind: number; lookups: number });
  const mid = (f: (p: (typeof parsed)[number]) => number): number => [...parsed.map(f)].sort((a, b) => a - b)[parsed.length >> 1]!;
  const bytesPerEntry = mid((p) => p.bytesPerEntry);
  const nsPerFind = mid((p) => p.nsPerFind);
  return {
    name: `(h) conntrack table filled, find(), ${family}`,
    packets: parsed[0]!.entries,
    seconds: null,
    rate: 1e9 / nsPerFind,
    ratioToFloor: null,
    peakRssMb: m.rssMb,
    runs,
    notes: `${bytesPerEntry.toFixed(0)} B/entry (heap and ArrayBuffers), ${nsPerFind.toFixed(0)} ns/find (50% hits), ${parsed[0]!.buckets} buckets; "packets" = entries, "packets/s" = finds/s`,
    detail: { bytesPerEntry, nsPerFind, buckets: parsed[0]!.buckets, samples: parsed },
  };
}

/** Refuses to start rather than fill the disk half way through. */
function checkDiskSpace(dir: string, packets: number): void {
  const s = statfsSync(dir);
  const free = s.bavail * s.bsize;
  const need = packets * BYTES_PER_PACKET;
  if (free < need) throw new Error(`${dir}: ${(free / 2 ** 30).toFixed(1)} GB free, the capture needs about ${(need / 2 ** 30).toFixed(1)} GB`);
  log(`${(free / 2 ** 30).toFixed(0)} GB free in ${dir}; the largest capture takes about ${(need / 2 ** 30).toFixed(1)} GB`);
}
